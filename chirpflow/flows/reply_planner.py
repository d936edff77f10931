"""Turns analysed tweets into reply drafts: rules, caps, one LLM call per batch, the gate.

Reads what the analysis flow stored (``tweets`` joined with ``analyses``)
after a cursor kept in ``action_state``, so it runs beside the stream job and
resumes where it stopped. The cursor is exact: rows are ordered by the id of
the transaction that wrote them (``analyses.txid``) and read only once every
transaction that could still commit below them has finished, so a slow
writer's row stamped earlier is never skipped (it is read late instead).
A replay drafts nothing twice: draft ids are
``reply:<tweet id>`` and a tweet or thread already drafted is skipped by
the caps. While actions are off (kill switch) or paused, nothing is read
and the cursor stays, so resuming picks up what arrived meanwhile. Tweets
that match a rule but hit a cap (quiet hours included) are skipped with an
audit row naming the cap. When the drafting API is unavailable the cursor
stays too (``DraftingUnavailable`` propagates) and the batch is tried again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from chirpflow.action_model import PROMPT_VERSION, CapCounts, Draft, reply_id
from chirpflow.action_settings import ActionSettings
from chirpflow.connectors.actions.store import ActionStore
from chirpflow.connectors.postgres.pool import open_pool
from chirpflow.model import Sentiment, Tweet, TweetAnalysis
from chirpflow.operators.actions.drafter import Drafter
from chirpflow.operators.actions.gate import SafetyGate
from chirpflow.operators.actions.rules import cap_refusal, reply_reason

CURSOR_KEY = "plan_cursor"
_CANDIDATES = (
    "SELECT t.id::text, t.text, t.author_id::text, t.author_username,"
    " t.conversation_id::text, t.created_at, t.fetched_at, t.source, t.origin,"
    " a.sentiment, a.sentiment_score, a.risk, a.analyzer, a.analyzer_version, a.analyzed_at,"
    " a.txid::text"
    " FROM analyses a JOIN tweets t ON t.id = a.tweet_id"
    " WHERE (a.txid, a.analyzed_at, a.tweet_id) > (%s::xid8, %s::timestamptz, %s::bigint)"
    " AND a.txid < pg_snapshot_xmin(pg_current_snapshot())"  # every earlier writer is done
    " AND t.id > 0"  # X posts only: other platforms' posts are keyed by negative ids
    " ORDER BY a.txid, a.analyzed_at, a.tweet_id LIMIT %s"
)


@dataclass
class PlanReport:
    read: int = 0
    drafted: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)  # tweet id -> cap
    failed: dict[str, str] = field(default_factory=dict)  # tweet id -> problem
    held: str | None = None  # why nothing was read


def _row(r: tuple[Any, ...]) -> tuple[Tweet, TweetAnalysis]:
    tid, text, author, username, conv, created, fetched, source, origin = r[:9]
    sentiment, score, risk, analyzer, version = r[9:14]
    tweet = Tweet(
        id=tid,
        text=text,
        author_id=author,
        created_at=created,
        origin=origin,
        source=source,
        fetched_at=fetched,
        author_username=username,
        conversation_id=conv,
    )
    analysis = TweetAnalysis(
        tid, Sentiment(sentiment), float(score), [], None, int(risk), [], analyzer, version
    )
    return tweet, analysis


class ReplyPlanner:
    def __init__(
        self,
        url: str,
        settings: ActionSettings,
        store: ActionStore,
        drafter: Drafter,
        gate: SafetyGate,
    ) -> None:
        self._pool = open_pool(url, name="actions-planner", max_size=1)
        self._s = settings
        self._store = store
        self._drafter = drafter
        self._gate = gate

    def _cursor(self) -> tuple[str, str, str]:
        raw = self._store.state(CURSOR_KEY)
        if not raw:
            return "0", "-infinity", "0"
        parts = raw.split("|")
        if len(parts) == 2:  # written before analyses.txid: those rows all have txid 1
            return "1", parts[0], parts[1]
        return parts[0], parts[1], parts[2]

    def run_once(self, now: datetime | None = None) -> PlanReport:
        now = now or datetime.now(UTC)
        report = PlanReport()
        if not self._s.enabled:
            report.held = "kill switch: actions.enabled is false"
            return report
        if self._store.paused():
            report.held = "paused by an admin"
            return report
        with self._pool.connection() as conn:
            rows = conn.execute(_CANDIDATES, (*self._cursor(), self._s.drafting.batch)).fetchall()
        report.read = len(rows)
        if not rows:
            return report
        eligible: list[tuple[Tweet, TweetAnalysis, str]] = []
        taken_authors: dict[str, int] = {}
        taken_threads: set[str] = set()
        for r in rows:
            tweet, analysis = _row(r)
            why = reply_reason(tweet, analysis, self._s)
            if why is None:
                continue
            counts = self._store.cap_counts(
                tweet.author_id, tweet.id, tweet.conversation_id, self._s.caps.per_author_hours
            )
            thread = tweet.conversation_id or tweet.id
            counts = CapCounts(
                counts.drafted_last_day + len(eligible),
                counts.drafted_for_author + taken_authors.get(tweet.author_id, 0),
                counts.tweet_or_thread_seen or thread in taken_threads,
                counts.paused,
            )
            refusal = cap_refusal(self._s, counts, now)
            if refusal:
                report.skipped[tweet.id] = refusal
                self._store.audit("chirpflow", "skipped", reply_id(tweet.id), refusal)
                continue
            eligible.append((tweet, analysis, why))
            taken_authors[tweet.author_id] = taken_authors.get(tweet.author_id, 0) + 1
            taken_threads.add(thread)
        if eligible:
            self._draft(eligible, report)
        last = rows[-1]
        self._store.set_state(CURSOR_KEY, f"{last[15]}|{last[14].isoformat()}|{last[0]}")
        return report

    def _draft(self, eligible: list[tuple[Tweet, TweetAnalysis, str]], report: PlanReport) -> None:
        context = self._store.active_context()
        batch = self._drafter.draft([t.text for t, _, _ in eligible], self._s.persona, context)
        for i, (tweet, analysis, _why) in enumerate(eligible):
            text = batch.texts.get(i)
            if text is None:
                problem = batch.problems.get(i, "no draft")
                report.failed[tweet.id] = problem
                self._store.audit("chirpflow", "draft_failed", reply_id(tweet.id), problem)
                continue
            verdict = self._gate.check(text)
            draft = Draft(
                id=reply_id(tweet.id),
                kind="reply",
                text=text,
                prompt_version=PROMPT_VERSION,
                context_version=context[0] if context else None,
                source=tweet.source,
                tweet_id=tweet.id,
                conversation_id=tweet.conversation_id,
                author_id=tweet.author_id,
                tweet_text=tweet.text,
                risk=analysis.risk,
            )
            if self._store.add_draft(draft, verdict):
                (report.drafted if verdict.passed else report.blocked).append(draft.id)

    def close(self) -> None:
        self._drafter.close()
        self._pool.close()
