"""The figures of the web dashboard's overview, from the store.

Counts come from ``store_stats`` (the very numbers ``chirpflow stats`` shows);
this adds what a chart needs: per-minute series, top topics, alert outcomes.
"""

from __future__ import annotations

from typing import Any

import psycopg

from chirpflow.connectors.postgres.stats import store_stats

_PER_MINUTE = """
SELECT to_char(date_trunc('minute', stored_at), 'YYYY-MM-DD"T"HH24:MI"Z"'), count(*)
FROM tweets WHERE stored_at >= now() - make_interval(mins => %s)
GROUP BY 1 ORDER BY 1
"""

_SENTIMENT = """
SELECT to_char(date_trunc('minute', analyzed_at), 'YYYY-MM-DD"T"HH24:MI"Z"'), sentiment, count(*)
FROM analyses WHERE analyzed_at >= now() - make_interval(mins => %s)
GROUP BY 1, 2 ORDER BY 1, 2
"""

_TOPICS = """
SELECT topic, count(*) FROM analyses, unnest(topics) AS topic
GROUP BY topic ORDER BY count(*) DESC, topic LIMIT %s
"""

_ALERTS = "SELECT status, count(*) FROM notifications GROUP BY status"


def overview(url: str, minutes: int = 60, top: int = 10) -> dict[str, Any]:
    """Counts (as ``stats --json``) plus the series the overview draws."""
    out = store_stats(url)
    with psycopg.connect(url) as conn:
        out["tweets_per_minute"] = [[m, n] for m, n in conn.execute(_PER_MINUTE, (minutes,))]
        series: dict[str, dict[str, int]] = {}
        for minute, sentiment, n in conn.execute(_SENTIMENT, (minutes,)):
            series.setdefault(minute, {})[sentiment] = n
        out["sentiment_per_minute"] = [[m, s] for m, s in series.items()]
        out["top_topics"] = [[t, n] for t, n in conn.execute(_TOPICS, (top,))]
        alerts: dict[str, int] = dict(conn.execute(_ALERTS).fetchall())
    out["alerts_sent"] = alerts.get("sent", 0)
    out["alerts_failed"] = alerts.get("failed", 0) + alerts.get("uncertain", 0)
    out["alerts_by_status"] = alerts
    analysed = out["analyzed"]
    out["flagged_share"] = out["flagged"] / analysed if analysed else 0.0
    return out


_JOBS = """
SELECT id, status, username, max_tweets, total_tweets, processed_tweets, fetched_tweets, error,
       created_at, completed_at
FROM analysis_jobs ORDER BY seq DESC LIMIT %s
"""


def recent_jobs(url: str, limit: int = 50) -> list[dict[str, Any]]:
    """On-demand jobs, newest first, with their progress."""
    from psycopg.rows import dict_row

    with psycopg.connect(url, row_factory=dict_row) as conn:
        rows: list[dict[str, Any]] = conn.execute(_JOBS, (limit,)).fetchall()
    return rows


def job_report(url: str, job_id: str) -> dict[str, Any]:
    """A finished job's report: sentiment mix, flagged and not-analysed counts, summaries."""
    with psycopg.connect(url) as conn:
        summaries = [
            s
            for (s,) in conn.execute(
                "SELECT results->>'summary' FROM analysis_results WHERE job_id = %s"
                " ORDER BY created_at",
                (job_id,),
            )
        ]
        mix: dict[str, int] = {}
        flagged = bare = 0
        for (doc,) in conn.execute(
            "SELECT results FROM analysis_results WHERE job_id = %s", (job_id,)
        ):
            for a in doc.get("analyses", []) if isinstance(doc, dict) else []:
                mix[a.get("sentiment", "?")] = mix.get(a.get("sentiment", "?"), 0) + 1
                flagged += bool(a.get("flags")) or int(a.get("risk", 0)) >= 50
            bare += len(doc.get("not_analysed", [])) if isinstance(doc, dict) else 0
    return {
        "sentiment": mix,
        "flagged": flagged,
        "not_analysed": bare,  # stored without an analysis (noop)
        "summaries": [s for s in summaries if s],
    }
