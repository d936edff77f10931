"""Drafts replies for a batch of tweets in one chat-completions call (strict JSON schema).

Each tweet is validated on its own (:func:`parse_drafts`): a tweet the answer
missed or garbled is asked again alone, once; if that fails too it gets no
draft and the problem is returned, never a guessed text. When the API itself
fails (unreachable, 5xx after the SDK's retries, bad key), ``DraftingUnavailable``
is raised so the caller keeps the batch for later instead of losing it.
Identical texts are asked once per batch, and a text drafted before under the
same prompt, context version and persona comes from :class:`DraftCache`.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import openai

from chirpflow.action_settings import DraftingSettings
from chirpflow.errors import ChirpflowError, ConfigError
from chirpflow.logs import redact, secret_values
from chirpflow.operators.actions.draft_cache import DraftCache, DraftStore, draft_key
from chirpflow.operators.actions.draft_prompt import (
    RESPONSE_FORMAT,
    draft_messages,
    parse_drafts,
)
from chirpflow.operators.llm.policy import Action, RetryPolicy
from chirpflow.rate_limits import RateLimiter
from chirpflow.retry import pause


class DraftingUnavailable(ChirpflowError):
    """The drafting API could not be reached or refused the call: retry the batch later."""


@dataclass
class DraftBatch:
    texts: dict[int, str] = field(default_factory=dict)
    problems: dict[int, str] = field(default_factory=dict)
    requests: int = 0


class Drafter:
    def __init__(
        self,
        settings: DraftingSettings,
        env: dict[str, str] | None = None,
        cache: DraftStore | None = None,
        limiter: RateLimiter | None = None,
        policy: RetryPolicy | None = None,
        max_attempts: int = 5,
    ) -> None:
        env = dict(os.environ) if env is None else env
        key = env.get(settings.api_key_env, "")
        if not key:
            raise ConfigError(f"drafting replies needs an API key in {settings.api_key_env}")
        self._settings = settings
        self.cache: DraftStore = cache if cache is not None else DraftCache()
        self._limiter = limiter  # the analysis path's (LocalLimiter, or RedisLimiter: shared)
        self._policy = policy or RetryPolicy()
        self._max_attempts = max_attempts
        self._client = openai.OpenAI(
            api_key=key,
            base_url=settings.base_url or env.get("OPENAI_BASE_URL") or None,
            timeout=settings.timeout_s,
            max_retries=0,  # retries follow the analysis path's policy, under the limiter
        )

    def _ask(
        self, texts: Sequence[str], persona: str, context: tuple[int, str] | None
    ) -> tuple[dict[int, str], list[str]]:
        request: dict[str, Any] = {
            "model": self._settings.model,
            "messages": draft_messages(texts, persona, context),
            "response_format": RESPONSE_FORMAT,
            "temperature": 0.4,
        }
        completion = self._call(request, sum(len(t) for t in texts) // 3 + 800)
        choice = completion.choices[0]
        if choice.finish_reason == "length":
            return {}, ["answer cut off (finish_reason length)"]
        return parse_drafts(choice.message.content, len(texts))

    def _call(self, request: dict[str, Any], tokens: int) -> Any:
        """One completion: waits for the limiter, retries as ``RetryPolicy`` decides."""
        for attempt in range(self._max_attempts):
            if self._limiter is not None:
                while (delay := self._limiter.try_take(tokens)) > 0:
                    pause(delay)
            try:
                raw = self._client.chat.completions.with_raw_response.create(**request)
            except openai.APIStatusError as err:
                if self._limiter is not None:
                    self._limiter.observe(err.response.headers)
                decision = self._policy.decide(
                    err.status_code, err.code, err.response.headers, attempt, str(err)
                )
                problem: openai.OpenAIError = err
            except openai.APIConnectionError as err:
                decision = self._policy.decide(None, None, {}, attempt, type(err).__name__)
                problem = err
            else:
                if self._limiter is not None:
                    self._limiter.observe(raw.headers)
                return raw.parse()
            if decision.action != Action.RETRY or attempt + 1 == self._max_attempts:
                break
            pause(decision.delay_s)
        text = redact(f"{type(problem).__name__}: {problem}", secret_values())[:300]
        raise DraftingUnavailable(f"drafting API: {text}") from None

    def draft(
        self,
        texts: Sequence[str],
        persona: str,
        context: tuple[int, str] | None,
        *,
        cached: bool = True,
    ) -> DraftBatch:
        """Drafts by index; ``cached=False`` (post suggestions) always asks the model."""
        if not cached:
            return self._draft_fresh(texts, persona, context)
        out = DraftBatch()
        keys = [draft_key(t, persona, context) for t in texts]
        ask: dict[str, int] = {}  # key -> index of the first text asked for it
        for i, key in enumerate(keys):
            known = self.cache.get(key)
            if known is not None:
                out.texts[i] = known
            else:
                ask.setdefault(key, i)
        if ask:
            asked = self._draft_fresh([texts[i] for i in ask.values()], persona, context)
            by_key = dict(zip(ask, range(len(ask)), strict=True))
            for key, j in by_key.items():
                if j in asked.texts:
                    self.cache.put(key, asked.texts[j])
            for i, key in enumerate(keys):
                if i in out.texts:
                    continue
                j = by_key[key]
                if j in asked.texts:
                    out.texts[i] = asked.texts[j]
                else:
                    out.problems[i] = asked.problems.get(j, "no draft")
            out.requests = asked.requests
        return out

    def _draft_fresh(
        self, texts: Sequence[str], persona: str, context: tuple[int, str] | None
    ) -> DraftBatch:
        out = DraftBatch()
        got, problems = self._ask(texts, persona, context)
        out.requests += 1
        out.texts.update(got)
        for i in range(len(texts)):
            if i in out.texts:
                continue
            alone, again = self._ask([texts[i]], persona, context)
            out.requests += 1
            if 0 in alone:
                out.texts[i] = alone[0]
            else:
                out.problems[i] = "; ".join(again or problems)[:300]
        return out

    def close(self) -> None:
        self._client.close()
        close = getattr(self.cache, "close", None)
        if close is not None:
            close()
