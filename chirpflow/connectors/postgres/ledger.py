"""Spend from the append-only ledger: lifetime totals and per-run figures.

``llm_spend`` has one row per chunk analysis and ``source_spend`` one per
usage flush; both carry the run id of the process that spent (see
:mod:`chirpflow.runs`). Nothing here is ever updated, only summed.
"""

from __future__ import annotations

from typing import Any

import psycopg

_LIFETIME = """
SELECT coalesce(sum(prompt_tokens), 0)::bigint AS llm_prompt_tokens,
       coalesce(sum(completion_tokens), 0)::bigint AS llm_completion_tokens,
       coalesce(sum(cost_usd), 0)::float8 AS llm_cost_usd,
       coalesce(sum(requests), 0)::bigint AS llm_requests,
       coalesce(sum(cache_hits), 0)::bigint AS cache_hits
FROM llm_spend
"""

_RUNS = """
WITH llm AS (
    SELECT run_id, min(at) AS started, max(at) AS last, count(*) AS chunks,
           sum(tweets) AS tweets, sum(requests) AS requests, sum(cost_usd) AS cost,
           sum(cache_hits) AS hits, sum(prompt_tokens) AS prompt, sum(completion_tokens) AS comp
    FROM llm_spend GROUP BY run_id
), src AS (
    SELECT run_id, min(at) AS started, max(at) AS last, sum(requests) AS requests,
           sum(cost_usd) AS cost
    FROM source_spend GROUP BY run_id
)
SELECT coalesce(llm.run_id, src.run_id) AS run_id,
       least(llm.started, src.started) AS started_at,
       greatest(llm.last, src.last) AS last_at,
       coalesce(llm.chunks, 0)::bigint AS chunks_analysed,
       coalesce(llm.tweets, 0)::bigint AS tweets_analysed,
       coalesce(llm.requests, 0)::bigint AS llm_requests,
       coalesce(llm.cost, 0)::float8 AS llm_cost_usd,
       coalesce(llm.hits, 0)::bigint AS cache_hits,
       coalesce(llm.prompt, 0)::bigint AS llm_prompt_tokens,
       coalesce(llm.comp, 0)::bigint AS llm_completion_tokens,
       coalesce(src.requests, 0)::bigint AS source_requests,
       coalesce(src.cost, 0)::float8 AS source_cost_usd
FROM llm FULL JOIN src ON src.run_id = llm.run_id
ORDER BY least(llm.started, src.started) DESC
LIMIT %s
"""


def lifetime_spend(conn: psycopg.Connection[Any]) -> dict[str, Any]:
    """LLM tokens, requests, cost and cache hits over every run."""
    cur = conn.execute(_LIFETIME)
    assert cur.description is not None
    row = cur.fetchone()
    assert row is not None
    return dict(zip([d.name for d in cur.description], row, strict=True))


def spend_by_run(conn: psycopg.Connection[Any], limit: int = 10) -> list[dict[str, Any]]:
    """The newest ``limit`` runs, newest first, each with its own spend."""
    cur = conn.execute(_RUNS, (limit,))
    assert cur.description is not None
    names = [d.name for d in cur.description]
    runs = [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
    for run in runs:
        for key in ("started_at", "last_at"):
            run[key] = run[key].isoformat() if run[key] is not None else None
    return runs
