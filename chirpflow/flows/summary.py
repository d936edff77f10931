"""Live run summary: counts outcomes for the console and Prometheus metrics.

Counted per chunk, not per tweet. A tweet ends analysed, stored without an
analysis (under an analyzer that produces none, e.g. noop), a duplicate or a
dead letter: ``arrivals`` is the sum of those four.
"""

from __future__ import annotations

import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TextIO

from chirpflow import metrics
from chirpflow.live_line import LIVE
from chirpflow.model import ChunkResult, DeadLetter, Duplicate, Outcome


@dataclass
class RunSummary:
    """Totals of one run, updated by :class:`SummaryWriter` (thread-safe)."""

    started: float = field(default_factory=time.monotonic)
    arrivals: int = 0
    analyzed: int = 0
    stored_unanalysed: int = 0  # stored with their chunk, no analysis (noop)
    duplicates: int = 0
    dead_letters: int = 0
    chunks: int = 0
    flagged: int = 0
    sentiment: Counter[str] = field(default_factory=Counter)
    dead_reasons: Counter[str] = field(default_factory=Counter)
    cost_usd: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, outcomes: list[Outcome]) -> None:
        now = datetime.now(UTC)
        dups: Counter[str] = Counter()  # per source: one metric update per batch
        with self._lock:
            for item in outcomes:
                if isinstance(item, ChunkResult):
                    self._add_chunk(item, now)
                elif isinstance(item, Duplicate):
                    dups[item.source] += 1
                elif isinstance(item, DeadLetter):
                    self._add_dead(item)
            if dups:
                n = dups.total()
                self.arrivals += n
                self.duplicates += n
                for source, k in dups.items():
                    metrics.DUPLICATES.labels(source).inc(k)

    def _add_chunk(self, result: ChunkResult, now: datetime) -> None:
        ca = result.analysis
        tweets = result.chunk.tweets
        analyses = result.analyses
        dead = result.dead_letters
        self.chunks += 1
        self.arrivals += len(tweets)
        self.analyzed += len(analyses)
        self.stored_unanalysed += len(result.unanalysed())
        self.cost_usd += ca.cost_usd
        metrics.CHUNKS.labels(ca.analyzer).inc()
        metrics.CHUNK_SIZE.observe(ca.size)
        if analyses:
            metrics.ANALYZED.labels(ca.analyzer).inc(len(analyses))
            self.sentiment.update(a.sentiment.value for a in analyses)
            flagged = sum(1 for a in analyses if a.flagged)
            if flagged:
                self.flagged += flagged
                metrics.FLAGGED.inc(flagged)
        if ca.opened_at is not None:
            metrics.CHUNK_WAIT.observe((now - ca.opened_at).total_seconds())
        if tweets:  # once per chunk: its first tweet, the one that waited longest
            metrics.END_TO_END.observe(max(0.0, (now - tweets[0].fetched_at).total_seconds()))
        for d in dead:
            self.dead_letters += 1
            self.dead_reasons[d.reason.value] += 1
            metrics.DEAD_LETTERS.labels(d.reason.value).inc()

    def _add_dead(self, item: DeadLetter) -> None:
        self.arrivals += 1
        self.dead_letters += 1
        self.dead_reasons[item.reason.value] += 1
        metrics.DEAD_LETTERS.labels(item.reason.value).inc()

    def line(self) -> str:
        with self._lock:
            elapsed = max(time.monotonic() - self.started, 1e-9)
            total = sum(self.sentiment.values()) or 1
            mix = " ".join(
                f"{k[:3]} {100 * self.sentiment[k] / total:.0f}%"
                for k in ("negative", "neutral", "positive")
            )
            stored = (
                f"stored (not analysed) {self.stored_unanalysed:,}  "
                if self.stored_unanalysed
                else ""
            )
            return (
                f"{self.arrivals:>9,} tweets  {self.arrivals / elapsed:>8,.0f}/s | "
                f"analysed {self.analyzed:,}  {stored}dup {self.duplicates:,}  "
                f"dead {self.dead_letters:,}  chunks {self.chunks:,} | {mix} | "
                f"flagged {self.flagged:,}"
            )


class SummaryWriter:
    """A sink writer that feeds a :class:`RunSummary`."""

    def __init__(self, summary: RunSummary) -> None:
        self.summary = summary

    def write(self, items: list[Outcome]) -> None:
        self.summary.add(items)

    def close(self) -> None:
        return None


class SummaryPrinter:
    """Prints the summary line every ``interval`` seconds until stopped."""

    def __init__(self, summary: RunSummary, out: TextIO = sys.stderr, interval: float = 2.0):
        self.summary = summary
        self.out = out
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="summary", daemon=True)
        self._tty = out.isatty()

    def start(self) -> None:
        self._thread.start()

    def _emit(self, final: bool = False) -> None:
        text = self.summary.line()
        if self._tty and not final:
            LIVE.show(self.out, text)
        elif self._tty:
            LIVE.end(self.out, text)
        else:
            self.out.write(text + "\n")
            self.out.flush()

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            self._emit()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)
        self._emit(final=True)
