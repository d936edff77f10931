"""Analyse one chunk: reuse cached results, analyse each distinct text once.

Turns an :class:`Analyzer` (batch in, results out) into a
:class:`ChunkResult`: every tweet of the chunk ends analysed or as a dead
letter with the reason; an analyzer exception never escapes. Under an
analyzer that produces no analyses (the no-op one) a tweet ends stored with
its chunk and no analysis, unless the analyzer reports it failed.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from datetime import UTC, datetime

from chirpflow import metrics
from chirpflow.logs import CHUNK_ID, scrub
from chirpflow.model import (
    Chunk,
    ChunkAnalysis,
    ChunkResult,
    DeadLetter,
    DeadLetterReason,
    Tweet,
    TweetAnalysis,
)
from chirpflow.operators.analyzer import Analyzer, BatchAnalysis, produces_analyses
from chirpflow.operators.result_cache import ResultCache, text_key
from chirpflow.serialization import tweet_to_json

log = logging.getLogger(__name__)


@dataclasses.dataclass(slots=True)
class _Plan:
    keys: list[str]  # text key per tweet of the chunk
    cached: dict[str, TweetAnalysis]
    todo: dict[str, Tweet]  # one representative tweet per text still to analyse


@dataclasses.dataclass(slots=True)
class CacheStats:
    hits: int = 0
    analysed: int = 0
    failed: int = 0


class ChunkAnalyzer:
    """Runs an analyzer over chunks with a result cache in front of it."""

    def __init__(self, analyzer: Analyzer, cache: ResultCache | None = None) -> None:
        self.analyzer = analyzer
        # an analyzer that produces no analyses: nothing to match, nothing missing
        self.produces_analyses = produces_analyses(analyzer)
        # an analyzer whose result is the same for every text (``cacheable =
        # False``, e.g. noop) gains nothing from text keys and cache look-ups
        cacheable = getattr(analyzer, "cacheable", True) and self.produces_analyses
        self.cache = cache if cacheable else None
        self.stats = CacheStats()

    def run(self, chunk: Chunk) -> ChunkResult:
        """Analyse ``chunk`` on this thread."""
        chunk_id = chunk.chunk_id  # a digest of the ids: computed once
        token = CHUNK_ID.set(chunk_id)
        try:
            if not self.produces_analyses:
                return self._stored(chunk, self._analyze(chunk.tweets), chunk_id)
            plan = self._plan(chunk)
            batch = self._analyze(list(plan.todo.values()))
            return self._finish(chunk, plan, batch, chunk_id)
        finally:
            CHUNK_ID.reset(token)

    async def run_async(self, chunk: Chunk) -> ChunkResult:
        """Analyse ``chunk`` on an event loop (async analyzers never block it)."""
        CHUNK_ID.set(chunk.chunk_id)  # this task's context only
        if not self.produces_analyses:
            return self._stored(chunk, await asyncio.to_thread(self._analyze, chunk.tweets))
        plan = self._plan(chunk)
        tweets = list(plan.todo.values())
        analyze_async = getattr(self.analyzer, "analyze_async", None)
        if analyze_async is None or not tweets:
            batch = await asyncio.to_thread(self._analyze, tweets)
        else:
            try:
                batch = await analyze_async(tweets)
            except Exception as err:  # an analyzer bug must not stop the flow
                batch = self._crashed(tweets, err)
        return self._finish(chunk, plan, batch)

    def failed(self, chunk: Chunk, reason: str) -> ChunkResult:
        """Every tweet of ``chunk`` as a dead letter with ``reason``."""
        plan = _Plan([], {}, {})
        batch = BatchAnalysis(analyses=[], failures=[(t.id, reason) for t in chunk.tweets])
        plan.keys = self._keys(chunk)
        plan.todo = dict(zip(plan.keys, chunk.tweets, strict=True))
        return self._finish(chunk, plan, batch)

    def _keys(self, chunk: Chunk) -> list[str]:
        """Per tweet: its text key, or (no cache) its id: nothing hashed."""
        if self.cache is None:
            return [t.id for t in chunk.tweets]
        version = self.analyzer.version
        return [text_key(t.text, version) for t in chunk.tweets]

    def _plan(self, chunk: Chunk) -> _Plan:
        keys = self._keys(chunk)
        if self.cache is None:
            return _Plan(keys, {}, dict(zip(keys, chunk.tweets, strict=True)))
        cached = self.cache.get_many(set(keys))
        metrics.CACHE_LOOKUPS.inc(len(keys))
        metrics.CACHE_HITS.inc(sum(1 for k in keys if k in cached))
        todo: dict[str, Tweet] = {}
        for key, tweet in zip(keys, chunk.tweets, strict=True):
            if key not in cached and key not in todo:
                todo[key] = tweet
        return _Plan(keys, cached, todo)

    def _stored(
        self, chunk: Chunk, batch: BatchAnalysis, chunk_id: str | None = None
    ) -> ChunkResult:
        """A chunk under an analyzer that produces no analyses: only its failures are
        dead letters; every other tweet is stored with the chunk, not analysed."""
        now = datetime.now(UTC)
        dead: list[DeadLetter] = []
        if batch.failures:
            reasons = dict(batch.failures)
            dead = [_dead(t, reasons[t.id], now) for t in chunk.tweets if t.id in reasons]
        self.stats.failed += len(dead)
        summary = self._summary(chunk, batch, chunk_id, now, hits=0)
        return ChunkResult(chunk=chunk, analysis=summary, analyses=[], dead_letters=dead)

    def _summary(
        self, chunk: Chunk, batch: BatchAnalysis, chunk_id: str | None, now: datetime, hits: int
    ) -> ChunkAnalysis:
        return ChunkAnalysis(
            chunk_id=chunk_id or chunk.chunk_id,
            key=chunk.key,
            seq=chunk.seq,
            size=len(chunk.tweets),
            summary=batch.summary,
            analyzer=self.analyzer.name,
            analyzer_version=self.analyzer.version,
            model=batch.model,
            prompt_tokens=batch.prompt_tokens,
            cached_tokens=batch.cached_tokens,
            completion_tokens=batch.completion_tokens,
            cost_usd=batch.cost_usd,
            opened_at=chunk.opened_at,
            analyzed_at=now,
            requests=batch.requests,
            cache_hits=hits,
        )

    def _finish(
        self, chunk: Chunk, plan: _Plan, batch: BatchAnalysis, chunk_id: str | None = None
    ) -> ChunkResult:
        now = datetime.now(UTC)
        keys, cached, todo = plan.keys, plan.cached, plan.todo
        by_id = {a.tweet_id: a for a in batch.analyses}
        fresh: dict[str, TweetAnalysis] = {}
        failed: dict[str, str] = {}
        reasons = dict(batch.failures)
        for key, rep in todo.items():
            result = by_id.get(rep.id)
            if result is None:
                failed[key] = reasons.get(rep.id, "analyzer returned no result")
            else:
                fresh[key] = result
        if self.cache is not None and fresh:
            self.cache.put_many(fresh)
        analyses: list[TweetAnalysis] = []
        dead: list[DeadLetter] = []
        for key, tweet in zip(keys, chunk.tweets, strict=True):
            base = cached.get(key) or fresh.get(key)
            if base is None:
                dead.append(_dead(tweet, failed.get(key, "no result"), now))
                continue
            analyses.append(base if base.tweet_id == tweet.id else _for(base, tweet.id))
        hits = sum(1 for k in keys if k in cached) if cached else 0
        self.stats.hits += hits
        self.stats.analysed += len(todo)
        self.stats.failed += len(dead)
        summary = self._summary(chunk, batch, chunk_id, now, hits)
        return ChunkResult(chunk=chunk, analysis=summary, analyses=analyses, dead_letters=dead)

    def _analyze(self, tweets: list[Tweet]) -> BatchAnalysis:
        if not tweets:
            return BatchAnalysis(analyses=[], summary="all results from cache")
        try:
            return self.analyzer.analyze(tweets)
        except Exception as err:  # an analyzer bug must not stop the flow
            return self._crashed(tweets, err)

    def _crashed(self, tweets: list[Tweet], err: Exception) -> BatchAnalysis:
        log.error("analyzer %s failed on %d tweets: %r", self.analyzer.name, len(tweets), err)
        reason = f"{type(err).__name__}: {err}"
        return BatchAnalysis(analyses=[], failures=[(t.id, reason) for t in tweets])


def _for(base: TweetAnalysis, tweet_id: str) -> TweetAnalysis:
    return dataclasses.replace(base, tweet_id=tweet_id, topics=list(base.topics))


def _dead(tweet: Tweet, reason: str, now: datetime) -> DeadLetter:
    return DeadLetter(
        origin=tweet.origin,
        source=tweet.source,
        reason=DeadLetterReason.ANALYZER_FAILED,
        detail=scrub(reason)[:500],  # a provider error may echo a key
        payload=tweet_to_json(tweet).decode(),
        tweet_id=tweet.id,
        seen_at=now,
    )
