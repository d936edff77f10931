"""A reply or post draft as the store keeps it."""

from __future__ import annotations

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
