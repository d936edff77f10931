"""A Reddit listing child (``{"kind":"t3"|"t1","data":{..}}``) as a Tweet.

A post's text is its title and self text, a comment's its body; the id is
the fullname (``t3_abc``), the link the permalink on www.reddit.com. A post
removed or deleted on Reddit (``[removed]``/``[deleted]``) is a dead letter.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from chirpflow.model import PublicMetrics, RawRecord, RefKind, Tweet
from chirpflow.operators.platforms.common import Invalid, R, count, obj_at, post, text_at, time_at
from chirpflow.platforms import REDDIT

WEB = "https://www.reddit.com"
_GONE = {"[removed]", "[deleted]"}


def to_post(obj: dict[str, Any], record: RawRecord, now: datetime) -> Tweet:
    kind = obj.get("kind")
    if kind not in ("t3", "t1"):
        raise Invalid(R.INVALID_VALUE, f"Reddit 'kind' is {str(kind)[:20]!r}, expected t3 or t1")
    data = obj_at(obj, "data")
    base36 = text_at(data, "id", required=True, limit=20) or ""
    if not base36.isalnum() or not base36.isascii():
        raise Invalid(R.INVALID_VALUE, f"Reddit id {base36!r} is not base36")
    fullname = f"{kind}_{base36.lower()}"
    author = text_at(data, "author", limit=50)
    if kind == "t3":
        title = text_at(data, "title", required=True, limit=1000) or ""
        body = text_at(data, "selftext", limit=40_000) or ""
    else:
        title, body = "", text_at(data, "body", required=True, limit=40_000) or ""
    if body in _GONE:
        raise Invalid(R.DELETED, f"Reddit {fullname} was {body.strip('[]')}")
    text = f"{title}\n\n{body}".strip() if title else body
    permalink = text_at(data, "permalink", required=True, limit=500) or ""
    if not permalink.startswith("/"):
        raise Invalid(R.INVALID_VALUE, f"Reddit permalink {permalink[:60]!r} is not a path")
    link_id = text_at(data, "link_id", limit=20) if kind == "t1" else None
    return post(
        record,
        REDDIT,
        native=fullname,
        text=text,
        author_id=text_at(data, "author_fullname", limit=30) or author or "[deleted]",
        author_username=author,
        created_at=time_at(data, "created_utc", now),
        link=WEB + permalink,
        metrics=PublicMetrics(
            likes=max(0, _int(data.get("score"))), replies=count(data.get("num_comments"))
        ),
        conversation=link_id or fullname,
        referenced=link_id,
        referenced_kind=RefKind.REPLY if link_id else None,
    )


def _int(value: Any) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if value is None:
        return 0
    raise Invalid(R.WRONG_TYPE, "Reddit 'score' must be an integer")
