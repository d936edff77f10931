"""Analysis results by text key in PostgreSQL: the result cache when there is no Redis.

A replay, ``--reset-recovery`` or a new process finds the results of texts
already analysed here, in one query per chunk, before calling the LLM. A
failing look-up or store is logged and treated as a miss: a cache never stops
the flow (the LLM is asked instead).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import asdict

import orjson
import psycopg

from chirpflow.model import RiskFlag, Sentiment, TweetAnalysis

log = logging.getLogger(__name__)


def _encode(a: TweetAnalysis) -> str:
    return orjson.dumps(asdict(a)).decode()


def _decode(raw: bytes | str) -> TweetAnalysis:
    d = orjson.loads(raw)
    d["sentiment"] = Sentiment(d["sentiment"])
    d["flags"] = [RiskFlag(f) for f in d["flags"]]
    return TweetAnalysis(**d)


def _line(err: Exception) -> str:
    """The first line of a driver error (they span several)."""
    lines = str(err).strip().splitlines()
    return lines[0] if lines else type(err).__name__


class PostgresResultCache:
    """``SELECT ... = ANY`` for look-ups, one ``INSERT ... ON CONFLICT DO NOTHING`` to store.

    Each call opens its own short connection: it is asked once per chunk (an LLM
    call's worth of time), and nothing is left open for a run that never closes it.
    """

    def __init__(self, url: str) -> None:
        self._url = url
        self.hits = 0
        self.misses = 0

    def get_many(self, keys: Iterable[str]) -> dict[str, TweetAnalysis]:
        wanted = list(keys)
        if not wanted:
            return {}
        try:
            with psycopg.connect(self._url, autocommit=True) as conn:
                rows = conn.execute(
                    "SELECT text_key, analysis::text FROM text_results WHERE text_key = ANY(%s)",
                    (wanted,),
                ).fetchall()
        except psycopg.Error as err:
            log.warning("stored results look-up failed (%s); analysing instead", _line(err))
            rows = []
        found: dict[str, TweetAnalysis] = {}
        for key, raw in rows:
            try:
                found[key] = _decode(raw)
            except (ValueError, TypeError, KeyError):
                continue  # an entry from an incompatible version: analyse again
        self.hits += len(found)
        self.misses += len(wanted) - len(found)
        return found

    def put_many(self, items: dict[str, TweetAnalysis]) -> None:
        if not items:
            return
        try:
            with psycopg.connect(self._url, autocommit=True) as conn:
                conn.execute(
                    "INSERT INTO text_results (text_key, analysis)"
                    " SELECT * FROM unnest(%s::text[], %s::jsonb[]) ON CONFLICT DO NOTHING",
                    (list(items), [_encode(a) for a in items.values()]),
                )
        except psycopg.Error as err:
            log.warning("storing analysis results by text failed (%s)", _line(err))

    def close(self) -> None:
        """Nothing stays open between calls."""
