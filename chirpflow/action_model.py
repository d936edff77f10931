"""Domain types of acting on tweets, shared by operators (rules, gate) and connectors (store).

A ``Draft`` is a reply or post text as the store keeps it; a ``GateResult``
says which safety check blocked a text, if any; ``CapCounts`` is what the
store counted for a candidate tweet; a ``Gate`` is anything that checks a text.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

PROMPT_VERSION = "reply-v1"


@dataclass(frozen=True, slots=True)
class Draft:
    id: str  # reply:<tweet id> | post:<batch>:<n>
    kind: str  # reply | post
    text: str
    prompt_version: str = PROMPT_VERSION
    context_version: int | None = None
    source: str | None = None
    tweet_id: str | None = None
    conversation_id: str | None = None
    author_id: str | None = None
    tweet_text: str | None = None
    risk: int = 0
    status: str = "pending"
    blocked_by: str | None = None
    block_detail: str | None = None
    chat_message_id: str | None = None
    chat_shown: str | None = None


def reply_id(tweet_id: str) -> str:
    return f"reply:{tweet_id}"


@dataclass(frozen=True, slots=True)
class GateResult:
    blocked_by: str | None = None
    detail: str = ""

    @property
    def passed(self) -> bool:
        return self.blocked_by is None


Gate = Callable[[str], GateResult]


@dataclass(frozen=True, slots=True)
class CapCounts:
    """What the store counted for one candidate tweet."""

    drafted_last_day: int
    drafted_for_author: int  # within ``caps.per_author_hours``
    tweet_or_thread_seen: bool
    paused: bool = False
