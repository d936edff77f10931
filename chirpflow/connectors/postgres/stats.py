"""Counts from the store, for ``chirpflow stats``.

Every tweet ingested ends one way: ``tweets_ingested = analyzed +
stored_not_analysed + duplicates + dead_letters``.
"""

from __future__ import annotations

from typing import Any

import psycopg

from chirpflow.connectors.postgres.action_stats import action_counts
from chirpflow.connectors.postgres.alert_stats import alerts_by_channel
from chirpflow.connectors.postgres.ledger import lifetime_spend, spend_by_run
from chirpflow.connectors.postgres.usage import usage_by_provider

# tweets stored with their chunk and never analysed nor dead-lettered: what an
# analyzer that produces no analyses (noop) leaves; an accounted end, not a loss
STORED_NOT_ANALYSED = """SELECT count(*) FROM tweets t
    WHERE NOT EXISTS (SELECT 1 FROM analyses a WHERE a.tweet_id = t.id)
      AND NOT EXISTS (SELECT 1 FROM dead_letters d WHERE d.origin = t.origin)"""

_COUNTS = f"""
SELECT
    (SELECT coalesce(sum(last_seq - first_seq + 1), 0)::bigint FROM source_progress)
        AS tweets_ingested,
    (SELECT count(*) FROM duplicates) AS duplicates,
    (SELECT count(DISTINCT tweet_id) FROM analyses) AS analyzed,
    ({STORED_NOT_ANALYSED}) AS stored_not_analysed,
    (SELECT count(*) FROM dead_letters) AS dead_letters,
    (SELECT count(*) FROM chunks) AS chunks,
    (SELECT count(*) FROM tweets) AS tweets_stored,
    (SELECT count(*) FROM analyses WHERE risk >= 50 OR cardinality(flags) > 0) AS flagged
"""


def store_stats(url: str) -> dict[str, Any]:
    """One flat object of counts; the keys are stable (scripts read ``--json``)."""
    with psycopg.connect(url) as conn:
        cur = conn.execute(_COUNTS)
        assert cur.description is not None
        names = [d.name for d in cur.description]
        row = cur.fetchone()
        assert row is not None
        out: dict[str, Any] = dict(zip(names, row, strict=True))
        out.update(lifetime_spend(conn))  # llm_* and cache_hits: lifetime, from the ledger
        out["runs"] = spend_by_run(conn)  # newest first, each run's own spend
        out["sentiment"] = {
            s: n
            for s, n in conn.execute(
                "SELECT sentiment, count(*) FROM analyses GROUP BY sentiment ORDER BY sentiment"
            )
        }
        out["dead_letters_by_reason"] = {
            r: n
            for r, n in conn.execute(
                "SELECT reason, count(*) FROM dead_letters GROUP BY reason ORDER BY reason"
            )
        }
        out["providers"] = usage_by_provider(conn)
        out["alerts"] = alerts_by_channel(conn)
        out["actions"] = action_counts(conn)
        out["by_source"] = {
            s: n for s, n in conn.execute("SELECT source, count(*) FROM tweets GROUP BY source")
        }
        out["by_platform"] = {
            p: n for p, n in conn.execute("SELECT platform, count(*) FROM tweets GROUP BY 1")
        }
    ingested = out["tweets_ingested"]
    out["source_cost_usd"] = sum(p["cost_usd"] for p in out["providers"].values())
    out["cost_per_1k_tweets_usd"] = (out["llm_cost_usd"] / ingested * 1000) if ingested else 0.0
    total = out["llm_cost_usd"] + out["source_cost_usd"]
    out["total_cost_per_1k_tweets_usd"] = (total / ingested * 1000) if ingested else 0.0
    return out
