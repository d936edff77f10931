"""A Bluesky post as a Tweet: a PostView (searchPosts), a feed item
(``{"post": PostView}``, getAuthorFeed) or a Jetstream commit event.

The id is the post's ``at://<did>/app.bsky.feed.post/<rkey>`` URI, the author
its DID, the link ``https://bsky.app/profile/<handle or did>/post/<rkey>``.
A Jetstream delete is a dead letter (``deleted``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from chirpflow.model import PublicMetrics, RawRecord, RefKind, Tweet
from chirpflow.operators.platforms.common import Invalid, R, count, obj_at, post, text_at, time_at
from chirpflow.platforms import BLUESKY

WEB = "https://bsky.app"
POST_COLLECTION = "app.bsky.feed.post"


def to_post(obj: dict[str, Any], record: RawRecord, now: datetime) -> Tweet:
    if "post" in obj:  # a feed item
        return _view(obj_at(obj, "post"), record, now)
    if obj.get("kind") == "commit":
        return _commit(obj, record, now)
    if "uri" in obj:
        return _view(obj, record, now)
    raise Invalid(R.INVALID_VALUE, "not a Bluesky post: no 'uri', 'post' or commit")


def _split_uri(uri: str) -> tuple[str, str]:
    """``(did, rkey)`` of a post URI."""
    parts = uri.removeprefix("at://").split("/")
    if not uri.startswith("at://") or len(parts) != 3 or parts[1] != POST_COLLECTION:
        raise Invalid(R.INVALID_VALUE, f"not a Bluesky post URI: {uri[:80]!r}")
    if not parts[0].startswith("did:") or not parts[2].isalnum():
        raise Invalid(R.INVALID_VALUE, f"not a Bluesky post URI: {uri[:80]!r}")
    return parts[0], parts[2]


def _record(
    rec: dict[str, Any], record: RawRecord, now: datetime, *, uri: str, did: str, rkey: str
) -> dict[str, Any]:
    kind = rec.get("$type", POST_COLLECTION)
    if kind != POST_COLLECTION:
        raise Invalid(R.INVALID_VALUE, f"record $type is {str(kind)[:40]!r}, expected a post")
    langs = rec.get("langs")
    lang = langs[0] if isinstance(langs, list) and langs and isinstance(langs[0], str) else None
    reply = rec.get("reply")
    parent = None
    root = None
    if isinstance(reply, dict):
        parent = (reply.get("parent") or {}).get("uri")
        root = (reply.get("root") or {}).get("uri")
    return {
        "native": uri,
        "text": text_at(rec, "text", required=True, limit=3000) or "",
        "created_at": time_at(rec, "createdAt", now),
        "lang": lang[:16] if lang else None,
        "referenced": parent if isinstance(parent, str) else None,
        "conversation": root if isinstance(root, str) else uri,
    }


def _view(view: dict[str, Any], record: RawRecord, now: datetime) -> Tweet:
    uri = text_at(view, "uri", required=True, limit=300) or ""
    did, rkey = _split_uri(uri)
    author = obj_at(view, "author")
    handle = text_at(author, "handle", limit=253)
    fields = _record(obj_at(view, "record"), record, now, uri=uri, did=did, rkey=rkey)
    return post(
        record,
        BLUESKY,
        author_id=text_at(author, "did", required=True, limit=200) or did,
        author_username=handle,
        link=f"{WEB}/profile/{handle or did}/post/{rkey}",
        metrics=PublicMetrics(
            likes=count(view.get("likeCount")),
            retweets=count(view.get("repostCount")),
            replies=count(view.get("replyCount")),
            quotes=count(view.get("quoteCount")),
        ),
        referenced_kind=RefKind.REPLY if fields["referenced"] else None,
        **fields,
    )


def _commit(event: dict[str, Any], record: RawRecord, now: datetime) -> Tweet:
    did = text_at(event, "did", required=True, limit=200) or ""
    commit = obj_at(event, "commit")
    rkey = text_at(commit, "rkey", required=True, limit=64) or ""
    uri = f"at://{did}/{POST_COLLECTION}/{rkey}"
    _split_uri(uri)
    if commit.get("collection") != POST_COLLECTION:
        raise Invalid(R.INVALID_VALUE, f"Jetstream collection {commit.get('collection')!r}")
    op = commit.get("operation")
    if op == "delete":
        raise Invalid(R.DELETED, f"Bluesky post {uri} was deleted")
    if op not in ("create", "update"):
        raise Invalid(R.INVALID_VALUE, f"Jetstream operation {str(op)[:20]!r}")
    fields = _record(obj_at(commit, "record"), record, now, uri=uri, did=did, rkey=rkey)
    return post(
        record,
        BLUESKY,
        author_id=did,
        author_username=None,
        link=f"{WEB}/profile/{did}/post/{rkey}",
        metrics=PublicMetrics(),
        referenced_kind=RefKind.REPLY if fields["referenced"] else None,
        **fields,
    )
