"""Analysis jobs and API keys in PostgreSQL: the queue every process shares.

Jobs are claimed first in, first out with ``FOR UPDATE SKIP LOCKED`` (several
processes can take from one queue), never more than ``max_active`` at once.
Progress is counted from ``analysis_results`` (one row per finished chunk,
inserted idempotently), so a replay never makes it go backwards or count twice.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from chirpflow.connectors.postgres.api_keys import ApiKeys
from chirpflow.connectors.postgres.job_tweets import JOB_TWEETS, UNANALYSED
from chirpflow.connectors.postgres.job_workers import JobWorkers
from chirpflow.connectors.postgres.pool import open_pool
from chirpflow.logs import scrub

JOB_ENDED = frozenset({"completed", "failed", "cancelled"})
_JOB_COLS = (
    "id, status, username, max_tweets, include_replies, total_tweets, processed_tweets,"
    " fetched_tweets, error, created_at, updated_at, started_at, completed_at, cancel_requested"
)
# what a job id can look like (ours are uuid4 hex); anything else names no job
_JOB_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
# ``owner``: only jobs of that API key; None: every job (admin keys, the CLI, workers)
_OWNED = " AND (%s::bigint IS NULL OR api_key_id = %s)"


def is_job_id(job_id: str) -> bool:
    return _JOB_ID.fullmatch(job_id) is not None


class JobStore:
    def __init__(self, url: str, pool_size: int = 4) -> None:
        self.url = url
        self._pool = open_pool(url, name="jobs", max_size=pool_size)
        self.keys = ApiKeys(self._pool)
        self.workers = JobWorkers(self._pool)

    def close(self) -> None:
        self._pool.close()

    def ping(self) -> bool:
        """The database answers (the API's readiness)."""
        try:
            return self._one("SELECT 1 AS ok") is not None
        except Exception:
            return False

    def _one(self, query: str, params: tuple[Any, ...] = ()) -> dict[str, Any] | None:
        with self._pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
            cur.execute(query.encode(), params)
            return cur.fetchone() if cur.description else None

    def _all(self, query: str, params: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
        with self._pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
            cur.execute(query.encode(), params)
            return cur.fetchall()

    # -- API keys -------------------------------------------------------------
    def create_key(self, name: str, admin: bool = False) -> str:
        """A new key, shown once; only its hash is stored."""
        return self.keys.create(name, admin)

    def key_id(self, key: str) -> int | None:
        caller = self.keys.authenticate(key)
        return caller.key_id if caller else None

    # -- jobs ----------------------------------------------------------------
    def create(
        self, username: str, max_tweets: int, include_replies: bool, api_key_id: int | None
    ) -> dict[str, Any]:
        job_id = uuid.uuid4().hex
        row = self._one(
            f"INSERT INTO analysis_jobs (id, key, username, max_tweets, include_replies,"
            f" api_key_id, params) VALUES (%s, %s, %s, %s, %s, %s, %s) RETURNING {_JOB_COLS}",
            (
                job_id,
                f"job:{job_id}",
                username,
                max_tweets,
                include_replies,
                api_key_id,
                Jsonb(
                    {
                        "username": username,
                        "max_tweets": max_tweets,
                        "include_replies": include_replies,
                    }
                ),
            ),
        )
        assert row is not None
        return row

    def get(self, job_id: str, *, owner: int | None = None) -> dict[str, Any] | None:
        """The job, if it exists (and belongs to ``owner`` when one is given)."""
        if not is_job_id(job_id):
            return None
        return self._one(
            f"SELECT {_JOB_COLS} FROM analysis_jobs WHERE id = %s{_OWNED}",
            (job_id, owner, owner),
        )

    def list_jobs(
        self, status: str | None = None, limit: int = 100, *, owner: int | None = None
    ) -> list[dict[str, Any]]:
        return self._all(
            f"SELECT {_JOB_COLS} FROM analysis_jobs WHERE (%s::text IS NULL OR status = %s)"
            f"{_OWNED} ORDER BY seq DESC LIMIT %s",
            (status, status, owner, owner, limit),
        )

    def cancel(self, job_id: str, *, owner: int | None = None) -> dict[str, Any] | None:
        """Queued jobs stop at once; running ones within one chunk (the reader checks)."""
        if not is_job_id(job_id):
            return None
        return self._one(
            f"UPDATE analysis_jobs SET cancel_requested = true, updated_at = now(),"
            f" status = CASE WHEN status = 'queued' THEN 'cancelled' ELSE status END,"
            f" completed_at = CASE WHEN status = 'queued' THEN now() ELSE completed_at END"
            f" WHERE id = %s{_OWNED} RETURNING {_JOB_COLS}",
            (job_id, owner, owner),
        )

    def claim(self, max_active: int) -> list[dict[str, Any]]:
        """Start queued jobs, oldest first, while fewer than ``max_active`` run."""
        with (
            self._pool.connection() as conn,
            conn.transaction(),
            conn.cursor(row_factory=dict_row) as cur,
        ):
            cur.execute("SELECT pg_advisory_xact_lock(hashtext('chirpflow-job-claim'))")
            cur.execute(
                "SELECT count(*) AS n FROM analysis_jobs WHERE status IN ('fetching', 'analysing')"
            )
            row = cur.fetchone()
            free = max_active - int(row["n"] if row else 0)
            if free <= 0:
                return []
            cur.execute(
                f"UPDATE analysis_jobs SET status = 'fetching', started_at = now(),"
                f" updated_at = now() WHERE id IN (SELECT id FROM analysis_jobs"
                f" WHERE status = 'queued' ORDER BY seq LIMIT %s FOR UPDATE SKIP LOCKED)"
                f" RETURNING {_JOB_COLS}",
                (free,),
            )
            return sorted(cur.fetchall(), key=lambda r: r["started_at"])

    def done_tweet_ids(self, job_id: str) -> set[str]:
        """Tweets of the job already analysed, dead-lettered or stored unanalysed
        (after a restart: skip them)."""
        rows = self._all(
            "SELECT DISTINCT e->>'tweet_id' AS id FROM analysis_results r,"
            f" jsonb_array_elements({JOB_TWEETS}) e"
            " WHERE r.job_id = %s",
            (job_id,),
        )
        return {r["id"] for r in rows if r["id"]}

    def queued(self) -> int:
        row = self._one("SELECT count(*) AS n FROM analysis_jobs WHERE status = 'queued'")
        return int(row["n"]) if row else 0

    def running(self) -> list[dict[str, Any]]:
        return self._all(
            f"SELECT {_JOB_COLS} FROM analysis_jobs WHERE status IN"
            " ('fetching', 'analysing') ORDER BY seq"
        )

    def fetched(self, job_id: str, fetched: int, done: bool) -> None:
        """Tweets fetched so far; ``done``: the total is known, analysis finishes it."""
        self._one(
            "UPDATE analysis_jobs SET fetched_tweets = %s, updated_at = now(),"
            " total_tweets = CASE WHEN %s THEN %s ELSE total_tweets END,"
            " status = CASE WHEN NOT %s THEN status"
            "   WHEN processed_tweets >= %s THEN 'completed' ELSE 'analysing' END,"
            " completed_at = CASE WHEN %s AND processed_tweets >= %s THEN now()"
            "   ELSE completed_at END"
            " WHERE id = %s AND status IN ('fetching', 'analysing')",
            (fetched, done, fetched, done, fetched, done, fetched, job_id),
        )

    def finish(self, job_id: str, status: str, error: str | None = None) -> None:
        self._one(
            "UPDATE analysis_jobs SET status = %s, error = %s, updated_at = now(),"
            " completed_at = now() WHERE id = %s AND status NOT IN ('completed', 'failed',"
            " 'cancelled')",
            (status, None if error is None else scrub(error), job_id),
        )

    def results(self, job_id: str, offset: int, limit: int) -> dict[str, Any]:
        """Per-tweet analyses (newest first, paginated; a tweet stored without one has
        empty fields and ``analysed`` false), chunk summaries and aggregates."""
        rows = self._all(
            "SELECT chunk_id, results FROM analysis_results WHERE job_id = %s"
            " ORDER BY created_at, chunk_id",
            (job_id,),
        )
        unique = {a["tweet_id"]: a for r in rows for a in r["results"].get("analyses", [])}
        bare = {  # stored, not analysed (an analyzer that produces none): empty fields
            t["tweet_id"]: {**t, **UNANALYSED}
            for r in rows
            for t in r["results"].get("not_analysed", [])
            if t["tweet_id"] not in unique
        }
        analyses = list(unique.values())
        mix: dict[str, int] = {}
        topics: dict[str, int] = {}
        for a in analyses:
            mix[a["sentiment"]] = mix.get(a["sentiment"], 0) + 1
            for t in a["topics"]:
                topics[t] = topics.get(t, 0) + 1
        flagged = sorted(
            (a for a in analyses if a["risk"] >= 50 or a["flags"]), key=lambda a: -a["risk"]
        )[:20]
        listed = [*analyses, *bare.values()]
        listed.sort(key=lambda a: int(a["tweet_id"]), reverse=True)
        keys = ("chunk_id", "summary", "model", "cost_usd", "dead_letters")
        chunks = [{k: r["results"].get(k) for k in keys} for r in rows]
        top = sorted(topics.items(), key=lambda kv: (-kv[1], kv[0]))[:10]
        return {
            "tweets": listed[offset : offset + limit],
            "chunks": chunks,
            "aggregates": {
                "sentiment": mix,
                "top_topics": [{"topic": t, "count": n} for t, n in top],
                "flagged": [
                    {"tweet_id": a["tweet_id"], "risk": a["risk"], "flags": a["flags"]}
                    for a in flagged
                ],
                "cost_usd": sum(c["cost_usd"] or 0 for c in chunks),
                "not_analysed": len(bare),
            },
            "total": len(listed),
            "offset": offset,
            "limit": limit,
        }
