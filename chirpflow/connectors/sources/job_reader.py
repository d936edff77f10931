"""Tweets of on-demand jobs: claimed from the PostgreSQL queue, fetched page by page.

At most ``max_active`` jobs run at once across every process (the queue
decides, first in, first out). Active jobs are fetched round-robin, one page
each per turn, so one 3,200-tweet job cannot starve the others: their chunks
interleave. Every tweet is emitted under ``watch = "job:<id>"``, which is
also its chunk key. HTTP and SQL run on a background thread; ``read`` never
blocks the worker. A cancelled job stops fetching at once; what is already
read finishes as its last chunk.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from chirpflow.connectors.postgres.job_workers import HEARTBEAT_S, new_worker_id
from chirpflow.connectors.postgres.jobs import JobStore
from chirpflow.connectors.providers.base import ErrorKind, Provider, ProviderError, Watch, WatchKind
from chirpflow.connectors.sources.feed import Feed
from chirpflow.connectors.sources.feed_reader import FeedReader
from chirpflow.connectors.sources.reader import ReadResult
from chirpflow.logs import JOB_ID
from chirpflow.model import JOB_PREFIX, RawRecord, make_origin

log = logging.getLogger(__name__)
READ_POLL = timedelta(milliseconds=200)
MAX_TRANSIENT = 5


@dataclass
class _Job:
    id: str
    username: str
    max_tweets: int
    include_replies: bool
    cursor: str | None = None
    fetched: int = 0
    seen: set[str] = field(default_factory=set)
    failures: int = 0
    emitted: int = 0  # tweets handed to the flow in this life of the reader


def _is_reply(t: Any) -> bool:
    return isinstance(t, dict) and t.get("referenced_kind") == "reply"


class JobReader(FeedReader[tuple[str, Any, int | None], int]):
    read_poll = READ_POLL

    def __init__(
        self,
        store: JobStore,
        provider: Provider,
        *,
        max_active: int = 10,
        idle_s: float = 1.0,
        source: str = "jobs",
        stop_when_idle: bool = False,
    ) -> None:
        self.store = store
        self.provider = provider
        self.max_active = max_active
        self.idle_s = idle_s
        self.source = source
        self._stream = f"{source}:queue"
        self._feed: Feed[tuple[str, Any, int | None]] = Feed("jobs", self._run)
        self.active: dict[str, _Job] = {}
        self.stop_when_idle = stop_when_idle  # batch use: end when the queue is empty
        self._idle = threading.Event()
        self.worker_id = new_worker_id()  # its heartbeat tells the API that jobs get done
        self._beaten = float("-inf")

    def start_position(self) -> int:
        return 0

    def _exhausted(self) -> bool:
        return self._idle.is_set()

    def _records(
        self, position: int, items: list[tuple[str, Any, int | None]], now: datetime
    ) -> ReadResult:
        records = [
            RawRecord(
                make_origin(self._stream, position + i),
                self.source,
                payload,
                now,
                f"{JOB_PREFIX}{job_id}",
                key_total=total,
            )
            for i, (job_id, payload, total) in enumerate(items)
        ]
        return ReadResult(records, position + len(items))

    def close(self) -> None:
        self._feed.stop()
        self.provider.close()
        self.store.close()  # the reader owns its store and the pool behind it

    # -- the background thread ------------------------------------------------------
    def _adopt(self, rows: list[dict[str, Any]]) -> None:
        for r in rows:
            if r["id"] not in self.active:
                job = _Job(
                    r["id"], r["username"], r["max_tweets"] or 200, bool(r["include_replies"])
                )
                # resumed after a restart: what is already done is skipped, never re-analysed
                job.seen = self.store.done_tweet_ids(job.id) if r["fetched_tweets"] else set()
                job.fetched = len(job.seen)
                self.active[r["id"]] = job

    def _beat(self) -> None:
        if time.monotonic() - self._beaten >= HEARTBEAT_S:
            self.store.workers.beat(self.worker_id)
            self._beaten = time.monotonic()

    def _run(self) -> None:
        try:
            self._work()
        finally:
            try:
                self.store.workers.leave(self.worker_id)
            except Exception:
                log.warning("jobs: could not remove the heartbeat of %s", self.worker_id)

    def _work(self) -> None:
        try:
            self._beat()
            # jobs left running by a previous life of this job runner start over:
            # already analysed tweets come from the cache and results are idempotent
            self._adopt([r for r in self.store.running() if r["status"] == "fetching"])
        except Exception:
            log.exception("jobs: cannot read the queue")
        while not self._feed.stopping.is_set():
            try:
                self._beat()
                if len(self.active) < self.max_active:
                    self._adopt(self.store.claim(self.max_active))
                if not self.active:
                    if self.stop_when_idle and not self.store.queued() and self._feed.empty():
                        self._idle.set()
                        return
                    self._feed.stopping.wait(self.idle_s)
                    continue
                for job in list(self.active.values()):
                    self._turn(job)
            except Exception:
                log.exception("jobs: queue error; retrying")
                self._feed.stopping.wait(self.idle_s)

    def _turn(self, job: _Job) -> None:
        """One page of one job, or its end."""
        token = JOB_ID.set(job.id)
        try:
            state = self.store.get(job.id)
            if state is None or state["cancel_requested"]:
                self.store.finish(job.id, "cancelled")
                self.active.pop(job.id, None)
                return
            watch = Watch(WatchKind.TIMELINE, job.username)
            try:
                page = self.provider.fetch(watch, None, job.cursor)
            except ProviderError as err:
                if err.kind is ErrorKind.FATAL or job.failures >= MAX_TRANSIENT:
                    self.store.finish(job.id, "failed", str(err))
                    self.active.pop(job.id, None)
                    log.error("job failed: %s", err)
                else:
                    job.failures += 1
                    wait = (
                        (err.retry_at - datetime.now(UTC)).total_seconds() if err.retry_at else 2.0
                    )
                    self._feed.stopping.wait(min(max(wait, 0.1), 60.0))
                return
            job.failures = 0
            fresh = []
            for t in page.tweets:
                tid = str(t.get("id")) if isinstance(t, dict) else repr(t)
                if tid in job.seen or (not job.include_replies and _is_reply(t)):
                    continue
                job.seen.add(tid)
                fresh.append(t)
            fresh = fresh[: job.max_tweets - job.fetched]
            job.fetched += len(fresh)
            job.cursor = page.next_cursor
            done = job.cursor is None or job.fetched >= job.max_tweets or not page.tweets
            job.emitted += len(fresh)
            total = job.emitted if done else None  # its last chunk then closes at once
            self._feed.put((job.id, t, total) for t in fresh)
            self.store.fetched(job.id, job.fetched, done)
            if done:
                self.active.pop(job.id, None)
        finally:
            JOB_ID.reset(token)
