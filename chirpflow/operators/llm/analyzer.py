"""LLM analysis: one chat-completions request per chunk, validated, repaired, priced.

A request holds every tweet of a chunk under local indices. The answer is
checked (:mod:`chirpflow.operators.llm.validate`): missing indices are asked again
alone; an unusable answer (invalid JSON, ``finish_reason: length``, a
refusal) splits the batch in halves down to single tweets; a tweet that
still fails is returned as a failure with the reason (a dead letter
downstream). Transient errors are retried by :mod:`chirpflow.operators.llm.policy`;
the SDK's own retries are off so the two policies do not multiply.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import openai

from chirpflow import metrics
from chirpflow.logs import redact, secret_values
from chirpflow.model import Tweet, TweetAnalysis
from chirpflow.operators.analyzer import BatchAnalysis
from chirpflow.operators.llm.loop import BackgroundLoop
from chirpflow.operators.llm.policy import Action, RetryPolicy
from chirpflow.operators.llm.pricing import Prices
from chirpflow.operators.llm.prompt import PROMPT_VERSION, RESPONSE_FORMAT, messages
from chirpflow.operators.llm.validate import Entry, Unusable, parse
from chirpflow.rate_limits import RateLimiter
from chirpflow.retry import pause_async

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class LLMSettings:
    model: str
    fallback_models: tuple[str, ...] = ()
    temperature: float = 0.0
    max_output_tokens: int = 8000
    prices: Prices = field(default_factory=Prices)
    timeout_s: float = 120.0
    max_attempts: int = 8
    provider: dict[str, Any] | None = None  # OpenRouter provider routing
    app_url: str | None = None  # OpenRouter HTTP-Referer
    app_title: str | None = "chirpflow"  # OpenRouter X-Title


class GiveUp(Exception):
    """A request failed for good; its tweets become failures with this reason."""


@dataclass(slots=True)
class _Call:
    content: str | None
    finish_reason: str | None
    refusal: str | None
    model: str
    prompt_tokens: int
    cached_tokens: int
    completion_tokens: int
    cost_usd: float


@dataclass(slots=True)
class _Tally:
    results: dict[str, TweetAnalysis] = field(default_factory=dict)
    failures: dict[str, str] = field(default_factory=dict)
    summaries: list[str] = field(default_factory=list)
    models: set[str] = field(default_factory=set)
    requests: int = 0
    prompt_tokens: int = 0
    cached_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0

    def add(self, call: _Call) -> None:
        self.requests += 1
        self.models.add(call.model)
        self.prompt_tokens += call.prompt_tokens
        self.cached_tokens += call.cached_tokens
        self.completion_tokens += call.completion_tokens
        self.cost_usd += call.cost_usd


class LLMAnalyzer:
    """Analyzer over any OpenAI-compatible API (OpenAI, OpenRouter, vLLM, Ollama...)."""

    name = "llm"

    def __init__(
        self,
        settings: LLMSettings,
        api_key: str,
        base_url: str | None = None,
        policy: RetryPolicy | None = None,
        limiter: RateLimiter | None = None,
    ) -> None:
        self.settings = settings
        # masked in error texts: some providers echo the key
        self._secrets = [api_key] if len(api_key) >= 6 else []
        self.policy = policy or RetryPolicy()
        self.limiter = limiter
        headers = {}
        if settings.app_url:
            headers["HTTP-Referer"] = settings.app_url
        if settings.app_title:
            headers["X-Title"] = settings.app_title
        self._client = openai.AsyncOpenAI(
            api_key=api_key,
            base_url=base_url,
            max_retries=0,
            timeout=settings.timeout_s,
            default_headers=headers,
        )
        self._loop: BackgroundLoop | None = None
        self.circuit_open = False
        self.circuit_reason = ""

    @property
    def version(self) -> str:
        return f"llm-{PROMPT_VERSION}-{self.settings.model}"

    def analyze(self, tweets: Sequence[Tweet]) -> BatchAnalysis:
        if self._loop is None:
            self._loop = BackgroundLoop()
        return self._loop.run(self.analyze_async(tweets))

    async def analyze_async(self, tweets: Sequence[Tweet]) -> BatchAnalysis:
        tally = _Tally()
        await self._solve(list(tweets), tally)
        return BatchAnalysis(
            analyses=[tally.results[t.id] for t in tweets if t.id in tally.results],
            summary=" ".join(tally.summaries)[:4000],
            model=", ".join(sorted(tally.models)) or None,
            prompt_tokens=tally.prompt_tokens,
            cached_tokens=tally.cached_tokens,
            completion_tokens=tally.completion_tokens,
            cost_usd=tally.cost_usd,
            failures=list(tally.failures.items()),
            requests=tally.requests,
        )

    async def _solve(self, tweets: list[Tweet], tally: _Tally) -> None:
        if not tweets:
            return
        try:
            call = await self._call(tweets)
        except GiveUp as err:
            for t in tweets:
                tally.failures[t.id] = str(err)
            return
        tally.add(call)
        problem = None
        if call.refusal:
            problem = f"refused: {call.refusal[:200]}"
        elif call.finish_reason == "length":
            problem = "answer truncated (finish_reason=length)"
        elif call.finish_reason == "content_filter":
            problem = "answer withheld by the provider's content filter"
        checked = None
        if problem is None:
            try:
                checked = parse(call.content, len(tweets))
            except Unusable as err:
                problem = str(err)
        if checked is None:
            if len(tweets) == 1:
                tally.failures[tweets[0].id] = problem or "unusable answer"
                return
            half = len(tweets) // 2
            log.info("splitting %d tweets after: %s", len(tweets), problem)
            await asyncio.gather(
                self._solve(tweets[:half], tally), self._solve(tweets[half:], tally)
            )
            return
        if checked.problems:
            log.info("answer problems: %s", "; ".join(checked.problems[:5]))
        if checked.summary:
            tally.summaries.append(checked.summary)
        for i, entry in checked.entries.items():
            tally.results[tweets[i].id] = self._analysis(tweets[i], entry, call.model)
        if checked.missing:
            if len(tweets) == 1:
                why = f": {checked.problems[-1]}" if checked.problems else ""
                tally.failures[tweets[0].id] = f"no valid entry in the answer{why}"
                return
            await asyncio.gather(*(self._solve([tweets[i]], tally) for i in checked.missing))

    def _analysis(self, tweet: Tweet, entry: Entry, model: str) -> TweetAnalysis:
        return TweetAnalysis(
            tweet_id=tweet.id,
            sentiment=entry.sentiment,
            sentiment_score=entry.score,
            topics=entry.topics,
            language=entry.language or tweet.lang,
            risk=entry.risk,
            flags=entry.flags,
            analyzer=self.name,
            analyzer_version=self.version,
            reason=entry.reason,
        )

    def _request(self, tweets: list[Tweet]) -> dict[str, Any]:
        s = self.settings
        body: dict[str, Any] = {
            "model": s.model,
            "messages": messages(tweets),
            "temperature": s.temperature,
            "max_completion_tokens": s.max_output_tokens,
            "response_format": RESPONSE_FORMAT,
        }
        extra: dict[str, Any] = {}
        if s.fallback_models:
            extra["models"] = [s.model, *s.fallback_models]
        if s.provider:
            extra["provider"] = s.provider
        if extra:
            body["extra_body"] = extra
        return body

    async def _call(self, tweets: list[Tweet]) -> _Call:
        request = self._request(tweets)
        model = self.settings.model
        estimate = sum(len(m["content"]) for m in request["messages"]) // 4 + 60 * len(tweets) + 50
        attempt = 0
        while True:
            if self.limiter is not None:
                metrics.LLM_RATE_WAIT.inc(await self.limiter.acquire(estimate))
            metrics.LLM_IN_FLIGHT.inc()
            sent = time.monotonic()
            try:
                raw = await self._client.chat.completions.with_raw_response.create(**request)
                completion = raw.parse()
                if self.limiter is not None:
                    self.limiter.observe(raw.headers, time.monotonic() - sent)
                self.circuit_open = False
                metrics.LLM_CIRCUIT_OPEN.set(0)
                call = self._read(completion)
                self._count(call)
                return call
            except openai.APIStatusError as err:
                status, code, headers = err.status_code, err.code, err.response.headers
                message = redact(str(err), [*self._secrets, *secret_values()])[:300]
                if status == 429:
                    metrics.LLM_RATE_LIMITED.labels(code or "none").inc()
                    if self.limiter is not None:
                        self.limiter.observe(headers, time.monotonic() - sent)
            except (openai.APITimeoutError, openai.APIConnectionError) as err:
                status, code, headers, message = None, None, None, type(err).__name__
            finally:
                metrics.LLM_IN_FLIGHT.dec()
            metrics.LLM_REQUESTS.labels(model, str(status or "error")).inc()
            decision = self.policy.decide(status, code, headers, attempt, message)
            if decision.action is Action.GIVE_UP:
                raise GiveUp(f"LLM request rejected: {decision.reason}")
            if decision.action is Action.CIRCUIT:
                metrics.LLM_CIRCUIT_OPEN.set(1)
                if not self.circuit_open:
                    log.error(
                        "LLM circuit open at %s (%s): chunks wait, none dropped",
                        self._client.base_url,
                        decision.reason,
                    )
                self.circuit_open, self.circuit_reason = True, decision.reason
            else:
                attempt += 1
                metrics.LLM_RETRIES.labels(str(status or message)).inc()
                if attempt >= self.settings.max_attempts:
                    raise GiveUp(
                        f"LLM at {self._client.base_url} unavailable after {attempt} attempts: "
                        f"{decision.reason}"
                    )
                log.warning(
                    "LLM call to %s failed (%s); retry in %.1fs",
                    self._client.base_url,
                    decision.reason,
                    decision.delay_s,
                )
            if not await pause_async(decision.delay_s):
                await (
                    asyncio.Event().wait()
                )  # stopping: the chunk stays unfinished, in the snapshot

    def _count(self, call: _Call) -> None:
        metrics.LLM_REQUESTS.labels(call.model, "ok").inc()
        metrics.LLM_TOKENS.labels(call.model, "prompt").inc(call.prompt_tokens)
        metrics.LLM_TOKENS.labels(call.model, "cached").inc(call.cached_tokens)
        metrics.LLM_TOKENS.labels(call.model, "completion").inc(call.completion_tokens)
        metrics.LLM_COST.labels(call.model).inc(call.cost_usd)

    def _read(self, completion: Any) -> _Call:
        choice = completion.choices[0] if completion.choices else None
        usage = completion.usage
        prompt = int(getattr(usage, "prompt_tokens", 0) or 0)
        details = getattr(usage, "prompt_tokens_details", None)
        cached = int(getattr(details, "cached_tokens", 0) or 0)
        output = int(getattr(usage, "completion_tokens", 0) or 0)
        provider_cost = (getattr(usage, "model_extra", None) or {}).get("cost")
        cost = (
            float(provider_cost)
            if isinstance(provider_cost, int | float)
            else self.settings.prices.cost(prompt, cached, output)
        )
        return _Call(
            content=choice.message.content if choice else None,
            finish_reason=choice.finish_reason if choice else None,
            refusal=getattr(choice.message, "refusal", None) if choice else None,
            model=completion.model or self.settings.model,
            prompt_tokens=prompt,
            cached_tokens=cached,
            completion_tokens=output,
            cost_usd=cost,
        )

    def close(self) -> None:
        if self._loop is not None:
            self._loop.close()
