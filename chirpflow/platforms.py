"""Which platform a post comes from, and its platform-aware id.

X stays the default: an X post's id is its digit string, as before. A post of
another platform has the id ``<platform>:<native id>`` (a Reddit fullname
``t3_abc``, a Bluesky ``at://`` URI, a Mastodon status URI), so ids never collide
across platforms and are compared within one. The store keeps a 64-bit key:
an X id as it is, any other id as a negative hash of the platform-aware id.
"""

from __future__ import annotations

import hashlib

X = "x"
REDDIT = "reddit"
BLUESKY = "bluesky"
MASTODON = "mastodon"
PLATFORMS = (X, REDDIT, BLUESKY, MASTODON)
OTHER_PLATFORMS = (REDDIT, BLUESKY, MASTODON)


def post_id(platform: str, native: str) -> str:
    """The platform-aware id of a post."""
    return native if platform == X else f"{platform}:{native}"


def native_id(platform: str, pid: str) -> str:
    """The platform's own id inside a platform-aware id."""
    return pid if platform == X else pid.removeprefix(f"{platform}:")


def hashed_key(text: str) -> int:
    """A stable 63-bit number for any text."""
    digest = hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=8).digest()
    return int.from_bytes(digest, "big") & (2**63 - 1)


def store_key(pid: str) -> int:
    """The 64-bit store key of an id: X digit ids as they are, others negative."""
    if pid.isdigit() and pid.isascii():
        return int(pid)
    return -hashed_key(pid) - 1


_SITES = {"x.com": "X", "twitter.com": "X", "www.reddit.com": "Reddit", "bsky.app": "Bluesky"}


def site_name(url: str) -> str:
    """How a post's link is named in an alert: ``X``, ``Reddit``, ``Bluesky`` or the
    Mastodon instance's host."""
    host = url.split("://", 1)[-1].split("/", 1)[0]
    return _SITES.get(host, host)
