"""Posts approved drafts from the outbox to X, exactly once.

Each round: rows left ``sending`` (a crash or an uncertain answer) are
resolved first by reading the account's own recent posts back (same reply
target, same text, links compared as links since X wraps them); then each
``pending`` row is gated again, claimed, posted and marked. Nothing that
might have been posted is sent again until a read-back says it was not.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field

from chirpflow.action_model import Gate
from chirpflow.connectors.actions.post_outbox import PostOutbox, PostRow
from chirpflow.connectors.actions.x_poster import OwnPost, ReadBackError, XPoster
from chirpflow.errors import ChirpflowError


class PostingHalted(ChirpflowError):
    """X refused our credentials: nothing more is posted until they are fixed."""


@dataclass
class RoundReport:
    posted: list[str] = field(default_factory=list)
    resolved: list[str] = field(default_factory=list)  # posted, known by read-back
    released: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    unresolved: list[str] = field(default_factory=list)
    capped: bool = False  # posting.max_per_day reached: the rest waits


_URL = re.compile(r"https?://\S+", re.I)


def same_text(ours: str, theirs: str) -> bool:
    def norm(t: str) -> str:
        t = unicodedata.normalize("NFC", t)
        t = _URL.sub("<url>", t)  # X shows links wrapped (t.co)
        return re.sub(r"\s+", " ", t).strip()

    return norm(ours) == norm(theirs)


def find_own(row: PostRow, posts: list[OwnPost]) -> OwnPost | None:
    return next(
        (p for p in posts if p.reply_to == row.reply_to and same_text(row.text, p.text)), None
    )


class Publisher:
    def __init__(
        self,
        outbox: PostOutbox,
        poster: XPoster,
        gate: Gate,
        paused: Callable[[], bool] = lambda: False,
        max_per_day: int | None = None,
    ) -> None:
        self._max_per_day = max_per_day
        self._outbox = outbox
        self._poster = poster
        self._gate = gate
        self._paused = paused

    def _read_back(self, row: PostRow, report: RoundReport, failed: str) -> bool:
        """Settle ``row`` by reading back our recent posts: True when it is posted or
        still unresolved (the read-back failed: noted as ``failed: <error>``)."""
        try:
            found = find_own(row, self._poster.recent_posts())
        except ReadBackError as err:
            self._outbox.note(row.draft_id, f"{failed}: {err}")
            report.unresolved.append(row.draft_id)
            return True
        if found is None:
            return False
        self._outbox.mark_posted(row.draft_id, found.id, "read-back")
        report.resolved.append(row.draft_id)
        return True

    def _resolve(self, row: PostRow, report: RoundReport) -> None:
        if not self._read_back(row, report, "read-back failed, still unresolved"):
            self._outbox.release(row.draft_id, "read-back: not on X, will post again")
            report.released.append(row.draft_id)

    def recover(self) -> RoundReport:
        report = RoundReport()
        for row in self._outbox.in_flight():
            self._resolve(row, report)
        return report

    def run_once(self) -> RoundReport:
        report = self.recover()
        if report.unresolved or self._paused():
            return report  # X cannot be read (or an admin paused): post nothing new
        for row in self._outbox.pending():
            if self._max_per_day and self._outbox.posted_last_day() >= self._max_per_day:
                report.capped = True
                break
            verdict = self._gate(row.text)
            if not verdict.passed:
                self._outbox.fail(
                    row.draft_id, f"gate: {verdict.blocked_by}: {verdict.detail}", "blocked"
                )
                report.failed.append(row.draft_id)
                continue
            if not self._outbox.claim(row.draft_id):
                continue
            out = self._poster.post(row.text, row.reply_to)
            if out.kind == "posted" and out.x_id:
                self._outbox.mark_posted(row.draft_id, out.x_id, "response")
                report.posted.append(row.draft_id)
            elif out.kind in ("rate_limited", "not_sent"):
                self._outbox.release(row.draft_id, out.kind + ": " + out.detail, out.retry_at)
                report.released.append(row.draft_id)
                break  # the account's bucket is empty: the rest waits too
            elif out.kind in ("uncertain", "duplicate"):
                # maybe posted (a cut-off call, or an earlier send X remembers)
                self._outbox.note(row.draft_id, f"{out.kind}: {out.detail}")
                if out.kind == "duplicate":
                    self._resolve_duplicate(row, report, out.detail)
                else:
                    self._resolve(row, report)
            elif out.kind == "unauthorized":
                self._outbox.release(row.draft_id, out.detail)
                raise PostingHalted(f"X refused the posting credentials ({out.detail})")
            else:
                self._outbox.fail(row.draft_id, out.detail)
                report.failed.append(row.draft_id)
        return report

    def _resolve_duplicate(self, row: PostRow, report: RoundReport, detail: str) -> None:
        if not self._read_back(row, report, "duplicate; read-back failed"):
            self._outbox.fail(row.draft_id, f"duplicate content: {detail}")
            report.failed.append(row.draft_id)
