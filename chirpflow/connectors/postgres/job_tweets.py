"""How an on-demand job's chunk results account for its tweets.

Each finished chunk of a job is one JSON document in ``analysis_results``
with three lists of tweets: ``analyses``, ``dead_letters`` and
``not_analysed`` (stored without an analysis, under an analyzer that produces
none, e.g. noop). A tweet in any of them is done: the job's progress counts
them all, and a restarted job skips them.
"""

from __future__ import annotations

from typing import Any

from chirpflow.model import ChunkResult

# every tweet a job's chunk result (``r.results``) ended, as one JSON array
# (results written before ``not_analysed`` existed have only the first two)
JOB_TWEETS = (
    "(r.results->'analyses') || (r.results->'dead_letters')"
    " || coalesce(r.results->'not_analysed', '[]'::jsonb)"
)

# the analysis fields a stored-but-not-analysed tweet shows in a job's results
UNANALYSED: dict[str, Any] = {
    "analysed": False,
    "sentiment": None,
    "sentiment_score": None,
    "topics": [],
    "risk": None,
    "flags": [],
    "language": None,
    "reason": None,
}


def not_analysed(item: ChunkResult) -> list[dict[str, Any]]:
    """The chunk's tweets with neither an analysis nor a dead letter, as stored."""
    return [
        {"tweet_id": t.id, "text": t.text, "created_at": t.created_at.isoformat()}
        for t in item.unanalysed()
    ]
