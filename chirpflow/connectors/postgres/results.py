"""What the store learned, as rows a person reads: analysed tweets, dead letters, alerts.

One filter dataclass becomes parameterised SQL (values are always bound
parameters, never pasted into the text). The same queries serve
``chirpflow tweets``, ``chirpflow export`` and the web dashboard; ``stream``
reads any of them through a server-side cursor, so exporting millions of rows
holds one batch in memory.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from chirpflow.connectors.postgres.cursor import Cursor, TweetPage
from chirpflow.model import RiskFlag, Sentiment

Kind = Literal["int", "text", "float", "time", "list", "json"]
What = Literal["tweets", "dead-letters", "alerts"]
WHATS: tuple[What, ...] = ("tweets", "dead-letters", "alerts")
Query = sql.SQL | sql.Composed


@dataclass(frozen=True, slots=True)
class TweetFilter:
    """Which stored tweets; every field left ``None`` matches all (a filter on an
    analysis field matches only analysed tweets)."""

    since: datetime | None = None
    until: datetime | None = None
    source: str | None = None
    watch: str | None = None
    sentiment: Sentiment | None = None
    min_risk: int | None = None
    flag: RiskFlag | None = None
    flagged: bool = False  # any flag, or risk >= 50 (as ``stats`` counts "flagged")
    topic: str | None = None
    text: str | None = None  # case-insensitive substring
    author: str | None = None  # username, with or without "@"
    platform: str | None = None  # x, reddit, bluesky, mastodon


# Column name -> kind, in output order; CSV, JSON lines and Parquet follow it.
TWEET_COLUMNS: dict[str, Kind] = {
    "id": "text",
    "platform": "text",
    "post_id": "text",
    "created_at": "time",
    "author_username": "text",
    "author_id": "text",
    "source": "text",
    "watch": "text",
    "text": "text",
    "url": "text",
    "sentiment": "text",
    "sentiment_score": "float",
    "risk": "int",
    "flags": "list",
    "topics": "list",
    "language": "text",
    "reason": "text",
    "analyzer": "text",
    "analyzer_version": "text",
    "analyzed_at": "time",
    "likes": "int",
    "retweets": "int",
    "replies": "int",
    "quotes": "int",
}

DEAD_LETTER_COLUMNS: dict[str, Kind] = {
    "origin": "text",
    "source": "text",
    "reason": "text",
    "detail": "text",
    "payload": "text",
    "tweet_id": "text",
    "first_seen": "time",
    "last_seen": "time",
    "attempts": "int",
}

ALERT_COLUMNS: dict[str, Kind] = {
    "id": "text",
    "rule": "text",
    "channel": "text",
    "kind": "text",
    "status": "text",
    "attempts": "int",
    "last_error": "text",
    "title": "text",
    "url": "text",
    "payload": "json",
    "created_at": "time",
    "sent_at": "time",
}

COLUMNS: dict[What, dict[str, Kind]] = {
    "tweets": TWEET_COLUMNS,
    "dead-letters": DEAD_LETTER_COLUMNS,
    "alerts": ALERT_COLUMNS,
}

# The newest analysis of each tweet (a re-analysis by a newer analyzer wins); a tweet
# stored without one (an analyzer that produces none, e.g. noop) shows with empty
# analysis fields. The "+ interval '0'" keeps the planner off analyses_analyzed_idx,
# which it otherwise walks from the newest analysis down for every tweet (26 s
# instead of 0.1 s for 20,000).
_TWEETS = """
SELECT t.id::text AS id, t.platform, coalesce(t.post_id, t.id::text) AS post_id,
       t.created_at, t.author_username, t.author_id::text AS author_id,
       t.source, t.watch, t.text,
       coalesce(t.link, CASE WHEN t.platform = 'x' THEN
           'https://x.com/' || coalesce(t.author_username, 'i') || '/status/' || t.id END) AS url,
       a.sentiment, a.sentiment_score::float8 AS sentiment_score, a.risk::int AS risk,
       coalesce(a.flags, '{}') AS flags, coalesce(a.topics, '{}') AS topics, a.language,
       a.reason, a.analyzer, a.analyzer_version, a.analyzed_at,
       t.likes, t.retweets, t.replies, t.quotes
FROM tweets t
LEFT JOIN LATERAL (
    SELECT * FROM analyses a WHERE a.tweet_id = t.id
    ORDER BY a.analyzed_at + interval '0' DESC, a.analyzer_version DESC LIMIT 1
) a ON true
"""


def _like(value: str) -> str:
    """A substring pattern for ILIKE with the user's own % and _ taken literally."""
    escaped = value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _tweet_where(f: TweetFilter) -> tuple[list[str], list[Any]]:
    where: list[str] = []
    args: list[Any] = []
    checks: list[tuple[Any, str, Any]] = [
        (f.since, "t.created_at >= %s", f.since),
        (f.until, "t.created_at < %s", f.until),
        (f.source, "t.source = %s", f.source),
        (f.watch, "t.watch = %s", f.watch),
        (f.sentiment, "a.sentiment = %s", str(f.sentiment) if f.sentiment else None),
        (f.min_risk is not None, "a.risk >= %s", f.min_risk),
        (f.flag, "%s = ANY(a.flags)", str(f.flag) if f.flag else None),
        (f.topic, "lower(%s) = ANY(SELECT lower(x) FROM unnest(a.topics) x)", f.topic),
        (f.text, "t.text ILIKE %s", _like(f.text) if f.text else None),
        (f.author, "lower(t.author_username) = lower(%s)", (f.author or "").lstrip("@")),
        (f.platform, "t.platform = %s", f.platform),
    ]
    for present, clause, value in checks:
        if present:
            where.append(clause)
            args.append(value)
    if f.flagged:
        where.append("(a.risk >= 50 OR cardinality(a.flags) > 0)")
    return where, args


def tweets_query(
    f: TweetFilter, *, limit: int | None = None, offset: int = 0, after: Cursor | None = None
) -> tuple[Query, list[Any]]:
    """Newest first (created_at, then id); ``limit`` with ``offset`` or, stable while
    rows arrive, ``after`` (the position of the previous page's last row) page through."""
    where, args = _tweet_where(f)
    if after is not None:
        where.append("(t.created_at, t.id) < (%s, %s)")
        args += [after.created_at, after.id]
    text = _TWEETS
    if where:
        text += "WHERE " + " AND ".join(where) + "\n"
    text += "ORDER BY t.created_at DESC, t.id DESC"
    if limit is not None:
        text += " LIMIT %s OFFSET %s"
        args += [limit, offset]
    return sql.SQL(text), args  # the text is ours; values are params


def count_query(what: What, f: TweetFilter) -> tuple[Query, list[Any]]:
    """How many rows ``query(what, f)`` yields (for a progress bar's total)."""
    inner, args = query(what, f)
    return sql.SQL("SELECT count(*) FROM ({}) q").format(inner), args


def _simple_where(f: TweetFilter, time_col: str, source_col: str | None) -> tuple[str, list[Any]]:
    where: list[str] = []
    args: list[Any] = []
    if f.since:
        where.append(f"{time_col} >= %s")
        args.append(f.since)
    if f.until:
        where.append(f"{time_col} < %s")
        args.append(f.until)
    if f.source and source_col:
        where.append(f"{source_col} = %s")
        args.append(f.source)
    return ("WHERE " + " AND ".join(where) + "\n") if where else "", args


def query(what: What, f: TweetFilter) -> tuple[Query, list[Any]]:
    """The full query for one kind of result (no paging), newest first."""
    if what == "tweets":
        return tweets_query(f)
    if what == "dead-letters":
        where, args = _simple_where(f, "last_seen", "source")
        text = (
            f"SELECT {', '.join(DEAD_LETTER_COLUMNS)} FROM dead_letters\n{where}"
            "ORDER BY last_seen DESC, origin"
        )
        return sql.SQL(text), args
    where, args = _simple_where(f, "created_at", None)
    text = (
        "SELECT id, rule, channel, kind, status, attempts, last_error, "
        "payload->>'title' AS title, payload->>'url' AS url, payload, created_at, sent_at "
        f"FROM notifications\n{where}ORDER BY seq DESC"
    )
    return sql.SQL(text), args


def list_tweets(
    url: str, f: TweetFilter, *, limit: int = 20, page: int = 1
) -> list[dict[str, Any]]:
    """One page (1-based) of analysed tweets, newest first."""
    return tweet_page(url, f, limit=limit, page=page).rows


def tweet_page(
    url: str, f: TweetFilter, *, limit: int = 20, page: int = 1, after: Cursor | None = None
) -> TweetPage:
    """One page of analysed tweets, newest first: the ``page``-th, or the one ``after``
    a cursor; with the cursor of the next page when there is one."""
    offset = 0 if after is not None else (page - 1) * limit
    q, args = tweets_query(f, limit=limit + 1, offset=offset, after=after)
    with psycopg.connect(url, row_factory=dict_row) as conn:
        rows: list[dict[str, Any]] = conn.execute(q, args).fetchall()
    more = len(rows) > limit
    rows = rows[:limit]
    return TweetPage(rows, Cursor.of(rows[-1]).encode() if more else None)


def count(url: str, what: What, f: TweetFilter) -> int:
    q, args = count_query(what, f)
    with psycopg.connect(url) as conn:
        row = conn.execute(q, args).fetchone()
    return int(row[0]) if row else 0


def stream(
    url: str, what: What, f: TweetFilter, *, batch: int = 5000
) -> Iterator[list[dict[str, Any]]]:
    """Every matching row in batches, through a server-side cursor (constant memory)."""
    q, args = query(what, f)
    with (
        psycopg.connect(url, row_factory=dict_row) as conn,
        conn.cursor(name=f"chirpflow_export_{what.replace('-', '_')}") as cur,
    ):
        cur.itersize = batch
        cur.execute(q, args)
        while rows := cur.fetchmany(batch):
            yield rows
