"""The fast path of normalization: the common, well-formed X tweet in one pass.

It accepts only the exact shape the validating path in
:mod:`chirpflow.operators.normalize` would accept with the same result
(canonical string ids, a UTC ``created_at`` string, integer metrics, no
reference or a plain ``referenced_tweet_id``), and returns ``None`` for
anything else, so every other record still gets the full checks and, when
bad, a dead letter with its reason. Nothing here raises for bad input.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, TypeGuard

from chirpflow.model import PublicMetrics, RawRecord, RefKind, Tweet

MAX_TEXT_CHARS = 25_000  # long posts; a classic tweet is 280
MAX_ID = 2**63 - 1
_MAX_ID_TEXT = str(MAX_ID)
EARLIEST = datetime(2006, 3, 21, tzinfo=UTC)
_NO_METRICS = PublicMetrics()
_KINDS: dict[object, RefKind] = {
    **{k.value: k for k in RefKind},
    "replied_to": RefKind.REPLY,
    "quoted": RefKind.QUOTE,
    "retweeted": RefKind.RETWEET,
}
_fromiso = datetime.fromisoformat


def _canonical_id(value: object) -> TypeGuard[str]:
    """A canonical string of digits that fits in a signed 64-bit integer."""
    return (
        type(value) is str
        and value.isdigit()
        and value.isascii()
        and value[0] != "0"
        and (len(value) < 19 or (len(value) == 19 and value <= _MAX_ID_TEXT))
    )


def _short(value: object, limit: int) -> bool:
    """An optional short string without NUL (ASCII, or checked UTF-8 by the caller)."""
    return value is None or (
        type(value) is str and len(value) <= limit and value.isascii() and "\x00" not in value
    )


def _utc(value: object, latest: datetime) -> datetime | None:
    """A plausible RFC 3339 time in UTC ("Z" or "+00:00"), else None (use the full path)."""
    if type(value) is not str or not (value.endswith("+00:00") or value.endswith("Z")):
        return None
    try:
        ts = _fromiso(value)
    except ValueError:
        return None
    if ts.utcoffset() or not EARLIEST <= ts <= latest:
        return None
    return ts


_new = object.__new__
# PublicMetrics is frozen: its generated __init__ sets each field through
# object.__setattr__, which cost more than the rest of a tweet's checks. The
# slots' own descriptors set the same fields without it (same object, equal).
set_r, set_p, set_li, set_q, set_v = (
    vars(PublicMetrics)[name].__set__
    for name in ("retweets", "replies", "likes", "quotes", "views")
)


def fast_tweet(
    obj: dict[str, Any], record: RawRecord, latest: datetime, *, utf8_checked: bool
) -> Tweet | None:
    """The tweet in ``obj`` when it has the common shape, else ``None`` (use the full path).

    ``latest`` is the latest plausible time (now plus slack); ``utf8_checked``
    says the text came from decoding bytes (so it holds no lone surrogates).
    The checks of the two required ids and of ``created_at`` are written out
    here rather than called: this runs once per tweet.
    """
    g = obj.get
    tid, text, aid = g("id"), g("text"), g("author_id")
    if not (
        type(tid) is str
        and tid.isdigit()
        and tid.isascii()
        and tid[0] != "0"
        and (len(tid) < 19 or (len(tid) == 19 and tid <= _MAX_ID_TEXT))
        and type(aid) is str
        and aid.isdigit()
        and aid.isascii()
        and aid[0] != "0"
        and (len(aid) < 19 or (len(aid) == 19 and aid <= _MAX_ID_TEXT))
        and type(text) is str
        and len(text) <= MAX_TEXT_CHARS
        and "\x00" not in text
        and (utf8_checked or text.isascii())
        and g("platform", "x") == "x"
        and g("referenced_tweets") is None
        and g("author_followers") is None
    ):
        return None
    ref, conv, kind_raw = g("referenced_tweet_id"), g("conversation_id"), g("referenced_kind")
    if kind_raw is None:
        kind = RefKind.REPLY if ref is not None else None
    else:
        kind = _KINDS.get(kind_raw)
        if kind is None:
            return None
    user, lang = g("author_username"), g("lang")
    if not user:  # None or empty: the 'username' field instead, as the full path does
        if not _short(user, 50):
            return None
        user = g("username")
    if not (
        (ref is None or _canonical_id(ref))
        and (conv is None or _canonical_id(conv))
        and (
            lang is None
            or (type(lang) is str and len(lang) <= 16 and lang.isascii() and "\x00" not in lang)
        )
        and (
            user is None
            or (type(user) is str and len(user) <= 50 and user.isascii() and "\x00" not in user)
        )
    ):
        return None
    # created_at: a plausible time in UTC. fromisoformat gives the ``UTC``
    # singleton for every zero offset ("Z", "+00:00", "-00:00", "+0000"), where
    # the full path's astimezone(UTC) gives the same time; a naive time or any
    # other offset goes to the full path
    created = g("created_at")
    if type(created) is not str:
        return None
    try:
        ts = _fromiso(created)
    except ValueError:
        return None
    if ts.tzinfo is not UTC or not EARLIEST <= ts <= latest:
        return None
    fetched_raw = g("fetched_at")
    if fetched_raw is None:
        fetched_raw = g("processed_at")
    fetched = record.fetched_at if fetched_raw is None else _utc(fetched_raw, latest)
    if fetched is None:
        return None
    pm = g("public_metrics")
    if pm is None:
        metrics = _NO_METRICS
    elif type(pm) is dict:
        # inline: this runs for every tweet
        g = pm.get
        r, p, li, q, v = (
            g("retweet_count", 0),
            g("reply_count", 0),
            g("like_count", 0),
            g("quote_count", 0),
            g("impression_count"),
        )
        if not (
            type(r) is type(p) is type(li) is type(q) is int
            and 0 <= r <= MAX_ID
            and 0 <= p <= MAX_ID
            and 0 <= li <= MAX_ID
            and 0 <= q <= MAX_ID
            and (v is None or (type(v) is int and 0 <= v <= MAX_ID))
        ):
            return None
        metrics = _new(PublicMetrics)
        set_r(metrics, r)
        set_p(metrics, p)
        set_li(metrics, li)
        set_q(metrics, q)
        set_v(metrics, v)
    else:
        return None
    return Tweet(
        tid,
        text,
        aid,
        ts,
        record.origin,
        record.source,
        fetched,
        user,
        conv,
        lang,
        ref,
        kind,
        metrics,
        record.watch,
        None,
        record.key_total,
        "x",
        None,
        int(tid),
    )
