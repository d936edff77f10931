"""Validate raw records and turn them into :class:`Tweet` objects.

Every failure is returned as a :class:`DeadLetter` with a reason; nothing here
raises for bad input, because an exception in a Bytewax step stops the flow.
Accepted input is the chirpflow / team Kafka JSON form (a superset of
``{"id","text","author_id","conversation_id","created_at","processed_at",
"referenced_tweet_id"}``) and the X API v2 tweet object shape
(``referenced_tweets``, ``public_metrics``).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from chirpflow.model import DeadLetter, PublicMetrics, RawRecord, RefKind, Tweet
from chirpflow.model import DeadLetterReason as R
from chirpflow.operators.normalize_fast import EARLIEST, MAX_ID, fast_tweet
from chirpflow.operators.normalize_fast import MAX_TEXT_CHARS as MAX_TEXT_CHARS  # re-exported

MAX_PAYLOAD_BYTES = 64 * 1024
_MAX_ID_TEXT = str(MAX_ID)
FUTURE_SLACK = timedelta(days=1)
PAYLOAD_PREVIEW = 4096

_X_REF_KINDS = {"replied_to": RefKind.REPLY, "quoted": RefKind.QUOTE, "retweeted": RefKind.RETWEET}


class Invalid(Exception):
    """Internal: one reason a record is rejected (never escapes this module)."""

    def __init__(self, reason: R, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


def normalize(record: RawRecord, now: datetime | None = None) -> Tweet | DeadLetter:
    """The tweet in ``record``, or a dead letter saying why there is none.

    ``now`` bounds plausible times; a batch passes one for all its records.
    """
    if record.platform != "x":  # a native payload of another platform
        from chirpflow.operators.platforms.dispatch import normalize_native

        return normalize_native(record)
    try:
        payload = record.payload
        obj = _decode(payload)
        now = now or datetime.now(UTC)
        fast = fast_tweet(obj, record, now + FUTURE_SLACK, utf8_checked=obj is not payload)
        return fast if fast is not None else _to_tweet(obj, record, now)
    except Invalid as err:
        return _dead(record, err.reason, err.detail)
    except Exception as err:  # defensive: a bug here must not stop the flow
        return _dead(record, R.INVALID_VALUE, f"unexpected {type(err).__name__}: {err}")


def normalize_batch(records: list[RawRecord], now: datetime) -> list[Tweet | DeadLetter]:
    """:func:`normalize` of every record, with one ``now`` for the batch.

    The common record (JSON bytes of a well-formed X tweet, e.g. from Kafka)
    is parsed once and built by the fast path right here; any other goes
    through :func:`normalize`, which gives the same result with all checks.
    """
    latest = now + FUTURE_SLACK
    loads, decode_error = orjson.loads, orjson.JSONDecodeError
    out: list[Tweet | DeadLetter] = []
    append = out.append
    for record in records:
        payload = record.payload
        obj: Any = None
        if record.platform == "x":
            if type(payload) is bytes and len(payload) <= MAX_PAYLOAD_BYTES:
                try:
                    obj = loads(payload)
                except decode_error:
                    obj = None  # the full path names what is wrong
            elif type(payload) is dict:  # already decoded (synthetic, API sources)
                obj = payload
        if type(obj) is dict:
            try:
                # text decoded from bytes holds no lone surrogates
                tweet = fast_tweet(obj, record, latest, utf8_checked=obj is not payload)
            except Exception:  # defensive, as in normalize: the full path decides
                tweet = None
            if tweet is not None:
                append(tweet)
                continue
        append(normalize(record, now))
    return out


def _dead(record: RawRecord, reason: R, detail: str) -> DeadLetter:
    payload = record.payload
    if isinstance(payload, bytes):
        text = payload[:PAYLOAD_PREVIEW].decode("utf-8", errors="backslashreplace")
    elif isinstance(payload, str):
        text = payload[:PAYLOAD_PREVIEW]
    else:
        try:
            text = orjson.dumps(payload, default=str).decode()[:PAYLOAD_PREVIEW]
        except Exception:
            text = repr(payload)[:PAYLOAD_PREVIEW]
    tweet_id = None
    if isinstance(payload, dict):
        raw_id = payload.get("id")
        if isinstance(raw_id, str | int) and not isinstance(raw_id, bool):
            tweet_id = str(raw_id)[:32]
    # NUL cannot be stored in PostgreSQL text; keep it visible instead.
    text = text.replace("\x00", "\\x00")
    return DeadLetter(
        origin=record.origin,
        source=record.source,
        reason=reason,
        detail=detail.replace("\x00", "\\x00")[:500],
        payload=text,
        tweet_id=tweet_id,
        seen_at=record.fetched_at,
    )


def _decode(payload: bytes | str | dict[str, Any]) -> dict[str, Any]:
    if isinstance(payload, dict):
        return payload
    if isinstance(payload, str):
        try:
            payload = payload.encode("utf-8")
        except UnicodeEncodeError as err:  # lone surrogates
            raise Invalid(R.INVALID_UTF8, str(err)) from None
    if not isinstance(payload, bytes | bytearray):
        raise Invalid(R.NOT_AN_OBJECT, f"payload is {type(payload).__name__}")
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise Invalid(R.TOO_LARGE, f"payload is {len(payload)} bytes (max {MAX_PAYLOAD_BYTES})")
    try:
        obj = orjson.loads(payload)
    except orjson.JSONDecodeError as err:
        try:
            bytes(payload).decode("utf-8")
        except UnicodeDecodeError as uerr:
            raise Invalid(R.INVALID_UTF8, str(uerr)) from None
        raise Invalid(R.MALFORMED_JSON, str(err)) from None
    if not isinstance(obj, dict):
        raise Invalid(R.NOT_AN_OBJECT, f"JSON {type(obj).__name__}, expected object")
    return obj


def _id(obj: dict[str, Any], key: str, *, required: bool) -> str | None:
    value = obj.get(key)
    # fast path: a canonical string of digits that fits in a signed 64-bit integer
    if (
        type(value) is str
        and value.isdigit()
        and value.isascii()
        and value[0] != "0"
        and (len(value) < 19 or (len(value) == 19 and value <= _MAX_ID_TEXT))
    ):
        return value
    if value is None:
        if required:
            raise Invalid(R.MISSING_FIELD, f"'{key}' is missing")
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise Invalid(
            R.WRONG_TYPE,
            f"'{key}' is {type(value).__name__}, expected string of digits",
        )
    text = str(value)
    if (
        not text.isascii()
        or not text.isdigit()
        or len(text) > 19
        or int(text) > MAX_ID
        or int(text) <= 0
    ):
        raise Invalid(R.INVALID_VALUE, f"'{key}' is not a tweet/user id: {text[:40]!r}")
    return text.lstrip("0") or "0"


def _str(obj: dict[str, Any], key: str, *, required: bool = False, limit: int = 200) -> str | None:
    value = obj.get(key)
    if value is None:
        if required:
            raise Invalid(R.MISSING_FIELD, f"'{key}' is missing")
        return None
    if not isinstance(value, str):
        raise Invalid(R.WRONG_TYPE, f"'{key}' is {type(value).__name__}, expected string")
    if len(value) > limit:
        raise Invalid(R.TOO_LARGE, f"'{key}' has {len(value)} characters (max {limit})")
    if "\x00" in value:
        raise Invalid(R.INVALID_VALUE, f"'{key}' contains a NUL character")
    if not value.isascii():
        _check_utf8(key, value)
    return value


def _check_utf8(key: str, value: str) -> None:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise Invalid(R.INVALID_UTF8, f"'{key}' is not valid UTF-8") from None


def _time(obj: dict[str, Any], key: str, now: datetime, *, required: bool) -> datetime | None:
    value = obj.get(key)
    if value is None:
        if required:
            raise Invalid(R.MISSING_FIELD, f"'{key}' is missing")
        return None
    if isinstance(value, bool):
        raise Invalid(R.WRONG_TYPE, f"'{key}' is bool, expected RFC 3339 time")
    if isinstance(value, int | float):
        seconds = value / 1000 if value > 1e11 else value  # epoch ms or s
        try:
            ts = datetime.fromtimestamp(seconds, UTC)
        except (OverflowError, OSError, ValueError):
            raise Invalid(R.INVALID_VALUE, f"'{key}' is out of range: {value}") from None
    elif isinstance(value, str):
        try:
            ts = datetime.fromisoformat(value)
        except ValueError:
            raise Invalid(
                R.INVALID_VALUE, f"'{key}' is not an RFC 3339 time: {value[:40]!r}"
            ) from None
        ts = ts.replace(tzinfo=UTC) if ts.tzinfo is None else ts.astimezone(UTC)
    else:
        raise Invalid(R.WRONG_TYPE, f"'{key}' is {type(value).__name__}, expected time")
    if not EARLIEST <= ts <= now + FUTURE_SLACK:
        raise Invalid(R.INVALID_VALUE, f"'{key}' is implausible: {ts.isoformat()}")
    return ts


def _count(value: Any) -> int:
    if type(value) is int and 0 <= value <= MAX_ID:
        return value
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise Invalid(R.WRONG_TYPE, "public metrics must be integers")
    try:
        n = int(value)
    except ValueError:
        raise Invalid(R.INVALID_VALUE, f"metric {value!r} is not a number") from None
    if not 0 <= n <= MAX_ID:
        raise Invalid(R.INVALID_VALUE, f"metric {n} is out of range")
    return n


def _metrics(obj: dict[str, Any]) -> PublicMetrics:
    pm = obj.get("public_metrics")
    if pm is None:
        return PublicMetrics()
    if not isinstance(pm, dict):
        raise Invalid(R.WRONG_TYPE, "'public_metrics' must be an object")
    views = pm.get("impression_count")
    return PublicMetrics(
        retweets=_count(pm.get("retweet_count")),
        replies=_count(pm.get("reply_count")),
        likes=_count(pm.get("like_count")),
        quotes=_count(pm.get("quote_count")),
        views=None if views is None else _count(views),
    )


def _followers(obj: dict[str, Any]) -> int | None:
    value = obj.get("author_followers")
    return None if value is None else _count(value)


def _reference(obj: dict[str, Any]) -> tuple[str | None, RefKind | None]:
    ref_id = _id(obj, "referenced_tweet_id", required=False)
    kind_raw = obj.get("referenced_kind")
    refs = obj.get("referenced_tweets")
    if refs is not None:
        if not isinstance(refs, list) or not all(isinstance(r, dict) for r in refs):
            raise Invalid(R.WRONG_TYPE, "'referenced_tweets' must be a list of objects")
        if refs:
            first = refs[0]
            ref_id = ref_id or _id(first, "id", required=True)
            kind_raw = kind_raw or first.get("type")
    if kind_raw is None:
        return ref_id, (RefKind.REPLY if ref_id else None)
    if not isinstance(kind_raw, str):
        raise Invalid(R.WRONG_TYPE, "'referenced_kind' must be a string")
    kind = _X_REF_KINDS.get(kind_raw)
    if kind is None:
        try:
            kind = RefKind(kind_raw)
        except ValueError:
            raise Invalid(
                R.INVALID_VALUE,
                f"'referenced_kind' is {kind_raw[:20]!r}, expected reply, quote or retweet",
            ) from None
    return ref_id, kind


def _to_tweet(obj: dict[str, Any], record: RawRecord, now: datetime) -> Tweet:
    if "platform" in obj and obj["platform"] != "x":  # another platform's post, e.g. from Kafka
        from chirpflow.operators.platforms.dispatch import from_canonical

        return from_canonical(obj, record)
    tweet_id = _id(obj, "id", required=True)
    text = _str(obj, "text", required=True, limit=MAX_TEXT_CHARS)
    author_id = _id(obj, "author_id", required=True)
    created_at = _time(obj, "created_at", now, required=True)
    fetched = _time(obj, "fetched_at", now, required=False) or _time(
        obj, "processed_at", now, required=False
    )
    ref_id, ref_kind = _reference(obj)
    assert tweet_id and text is not None and author_id and created_at
    return Tweet(
        id=tweet_id,
        text=text,
        author_id=author_id,
        created_at=created_at,
        origin=record.origin,
        source=record.source,
        fetched_at=fetched or record.fetched_at,
        author_username=_str(obj, "author_username", limit=50) or _str(obj, "username", limit=50),
        conversation_id=_id(obj, "conversation_id", required=False),
        lang=_str(obj, "lang", limit=16),
        referenced_tweet_id=ref_id,
        referenced_kind=ref_kind,
        metrics=_metrics(obj),
        watch=record.watch,
        key_total=record.key_total,
        author_followers=_followers(obj),
        store_id=int(tweet_id),  # every id above is canonical (see Tweet.store_id)
    )
