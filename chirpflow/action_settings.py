"""The ``[actions]`` section: reply rules, caps, quiet hours, gate, approval, posting.

Everything is off by default: ``enabled = false`` is the global kill switch,
and nothing is posted without a human approval unless ``auto_approve_below``
is set (and even then only drafts that passed every gate check).
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d$")


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ReplyRuleSettings(_Section):
    """Which analysed tweets get a reply draft; any of the triggers, all of the bounds."""

    sources: list[str] = Field(default_factory=list)  # empty = every source
    mentions: bool = True  # the tweet mentions the watched handle
    questions: bool = True  # the tweet asks a question
    negative: bool = False  # negative sentiment about the brand
    max_risk: int = Field(60, ge=0, le=100)  # the tweet's own risk must stay below
    block_authors: list[str] = Field(default_factory=list)  # usernames or ids


class CapSettings(_Section):
    per_day: int = Field(20, ge=0)
    per_author: int = Field(1, ge=0)
    per_author_hours: int = Field(24, ge=1)
    quiet_hours: str | None = None  # "22:00-07:00", UTC

    @field_validator("quiet_hours")
    @classmethod
    def _hhmm(cls, v: str | None) -> str | None:
        if v is not None and not _HHMM.match(v):
            raise ValueError("quiet_hours must look like 22:00-07:00 (UTC)")
        return v


class GateSettings(_Section):
    max_weighted_length: int = Field(280, ge=1, le=25000)
    max_mentions: int = Field(2, ge=0)
    allowed_domains: list[str] = Field(default_factory=list)  # empty = no links at all
    risk_keywords: list[str] = Field(default_factory=list)
    toxicity: list[str] | None = None  # None = the offline analyzer's list
    moderation: bool = False  # OpenAI moderation endpoint (needs OPENAI_API_KEY)
    moderation_base_url: str = "https://api.openai.com/v1"


class ApprovalSettings(_Section):
    admins: list[int] = Field(default_factory=list)  # Telegram user ids allowed to act
    chat_id: str | None = None
    bot_token_env: str = "CHIRPFLOW_BOT_TOKEN"
    base_url: str = "https://api.telegram.org"
    auto_approve_below: int | None = Field(None, ge=0, le=100)  # off by default


class PostingSettings(_Section):
    base_url: str = "https://api.x.com"
    auth: Literal["oauth1", "oauth2"] = "oauth1"
    timeout_s: float = Field(15.0, gt=0)
    user_id: str | None = None  # the posting account (looked up with /2/users/me if unset)
    max_per_day: int | None = Field(None, ge=1)  # our own cap (X tiers: Free 17, Basic 100)


class DraftingSettings(_Section):
    """The LLM that writes drafts (any OpenAI-compatible API: OpenAI, Together, OpenRouter)."""

    model: str = Field("gpt-4o-mini", min_length=1)
    base_url: str | None = None  # None = $OPENAI_BASE_URL, else OpenAI
    api_key_env: str = "OPENAI_API_KEY"
    timeout_s: float = Field(60.0, gt=0)
    batch: int = Field(20, ge=1, le=100)  # tweets drafted per request


class ScheduleSettings(_Section):
    """Original post suggestions on a schedule, run by ``chirpflow actions draft``."""

    topic: str | None = None  # None = no scheduled suggestions
    variants: int = Field(3, ge=1, le=20)
    every_hours: float = Field(24.0, gt=0)


class ActionSettings(_Section):
    enabled: bool = False  # global kill switch
    handle: str | None = None  # the watched account, without @
    persona: str = "You reply for the brand: short, friendly, factual, never promise refunds."
    reply: ReplyRuleSettings = ReplyRuleSettings()
    caps: CapSettings = CapSettings()
    gate: GateSettings = GateSettings()
    approval: ApprovalSettings = ApprovalSettings()
    posting: PostingSettings = PostingSettings()
    drafting: DraftingSettings = DraftingSettings()
    schedule: ScheduleSettings = ScheduleSettings()

    @model_validator(mode="after")
    def _handle_for_mentions(self) -> ActionSettings:
        if self.enabled and self.reply.mentions and not self.handle:
            raise ValueError(
                "handle (the watched account, without @) is needed when reply.mentions is on"
            )
        return self
