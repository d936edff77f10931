"""Original post suggestions: N variants drafted in one LLM call, gated, stored for approval.

They take the same path as replies from there on (Telegram approval, the
post outbox, the gate again before posting), as drafts of kind ``post``
with ids ``post:<batch>:<n>``. Variants with the same text are kept once
(X refuses duplicate content).
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

from chirpflow.action_model import PROMPT_VERSION, Draft
from chirpflow.action_settings import ActionSettings
from chirpflow.connectors.actions.store import ActionStore
from chirpflow.operators.actions.drafter import Drafter
from chirpflow.operators.actions.gate import SafetyGate

BRIEF = "Original post, variant {k} of {n}, for our own timeline about: {topic}"


def suggest(
    store: ActionStore,
    drafter: Drafter,
    gate: SafetyGate,
    settings: ActionSettings,
    n: int,
    topic: str,
    now: datetime | None = None,
) -> list[Draft]:
    now = now or datetime.now(UTC)
    batch = hashlib.blake2b(f"{topic}|{now.isoformat()}".encode(), digest_size=5).hexdigest()
    context = store.active_context()
    briefs = [BRIEF.format(k=k + 1, n=n, topic=topic) for k in range(n)]
    result = drafter.draft(briefs, settings.persona, context, cached=False)  # fresh each time
    seen: set[str] = set()
    out = []
    for k in range(n):
        text = result.texts.get(k)
        if text is None or text in seen:
            continue
        seen.add(text)
        draft = Draft(
            id=f"post:{batch}:{k + 1}",
            kind="post",
            text=text,
            prompt_version=PROMPT_VERSION,
            context_version=context[0] if context else None,
            tweet_text=f"suggestion: {topic}",
        )
        if store.add_draft(draft, gate.check(text)):
            out.append(store.draft(draft.id) or draft)
    return out


SCHEDULE_KEY = "posts_last_suggested"


def suggest_if_due(
    store: ActionStore,
    drafter: Drafter,
    gate: SafetyGate,
    settings: ActionSettings,
    now: datetime | None = None,
) -> list[Draft]:
    """The scheduled suggestions (``[actions.schedule]``), when ``every_hours`` have passed."""
    plan = settings.schedule
    now = now or datetime.now(UTC)
    if not plan.topic or not settings.enabled or store.paused():
        return []
    last = store.state(SCHEDULE_KEY)
    if last and (now - datetime.fromisoformat(last)).total_seconds() < plan.every_hours * 3600:
        return []
    made = suggest(store, drafter, gate, settings, plan.variants, plan.topic, now)
    store.set_state(SCHEDULE_KEY, now.isoformat())
    return made
