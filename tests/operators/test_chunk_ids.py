"""A chunk's id is a digest of its sorted tweet ids: stable across versions (rows name it)."""

from __future__ import annotations

import hashlib

from chirpflow.model import chunk_id_of


def test_chunk_ids_are_the_digest_they_always_were() -> None:
    def per_id(key: str, ids: list[str]) -> str:  # the digest as first written, one id at a time
        digest = hashlib.blake2b(digest_size=8)
        for tweet_id in sorted(ids):
            digest.update(tweet_id.encode())
            digest.update(b"\x1f")
        return f"{key}#{digest.hexdigest()}"

    for ids in ([], ["5"], ["1800000000000000002", "17", "reddit:t3_é"]):
        assert chunk_id_of("k", iter(ids)) == per_id("k", ids)
