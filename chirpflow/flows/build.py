"""Turn settings into the parts of a flow: readers, the analyzer, writers."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from chirpflow.connectors.kafka import offsets
from chirpflow.connectors.kafka.reader import KafkaPartitionReader
from chirpflow.connectors.notify.channel import Channel
from chirpflow.connectors.notify.discord import DiscordChannel
from chirpflow.connectors.notify.outbox import Outbox
from chirpflow.connectors.notify.telegram import TelegramChannel
from chirpflow.connectors.postgres.result_store import PostgresResultCache
from chirpflow.connectors.providers import rapidapi, twitterapi_io, x_api
from chirpflow.connectors.providers.base import Pricing, Provider, Watch, WatchKind
from chirpflow.connectors.redis.rate_limit import RedisLimiter
from chirpflow.connectors.redis.result_cache import RedisResultCache
from chirpflow.connectors.sources.jsonl_reader import JsonlFileReader
from chirpflow.connectors.sources.polling_reader import Usage
from chirpflow.connectors.sources.reader import RecordReader
from chirpflow.connectors.sources.synthetic import SyntheticTweets
from chirpflow.connectors.sources.synthetic_reader import SyntheticReader
from chirpflow.connectors.sources.x_stream import XStreamReader
from chirpflow.errors import ConfigError
from chirpflow.flows.platform_sources import platform_readers
from chirpflow.flows.polled_readers import polled_readers
from chirpflow.kafka_connection import KafkaConnection
from chirpflow.logs import add_secret_vars
from chirpflow.model import RiskFlag, Sentiment
from chirpflow.operators.alerts.rules import AlertRule
from chirpflow.operators.analyzer import Analyzer
from chirpflow.operators.chunk_analysis import ChunkAnalyzer
from chirpflow.operators.llm.analyzer import LLMAnalyzer, LLMSettings
from chirpflow.operators.llm.pricing import Prices
from chirpflow.operators.llm.rate_limit import LocalLimiter
from chirpflow.operators.offline import NoopAnalyzer, OfflineAnalyzer
from chirpflow.operators.result_cache import LruResultCache, ResultCache, TieredResultCache
from chirpflow.rate_limits import RateLimiter
from chirpflow.settings import (
    DEMO_RATE,
    PLATFORM_SOURCES,
    POLLED,
    AlertSettings,
    AnalyzerSettings,
    Environment,
    IngestSettings,
    JobSettings,
    Settings,
    SourceSettings,
)


def source_override(spec: str) -> SourceSettings:
    """``--source synthetic``, ``jsonl:PATH`` or ``kafka[:TOPIC]`` as a source setting."""
    if spec == "synthetic":
        return SourceSettings(name="synthetic", type="synthetic", rate=DEMO_RATE)
    if spec.startswith("jsonl:"):
        path = spec.removeprefix("jsonl:")
        if not path:
            raise ConfigError("--source jsonl:PATH needs a path, e.g. jsonl:tweets.jsonl")
        return SourceSettings(name="jsonl", type="jsonl", path=path)
    if spec == "kafka" or spec.startswith("kafka:"):
        topic = spec.partition(":")[2] or IngestSettings().topic
        return SourceSettings(name="kafka", type="kafka", topic=topic)
    raise ConfigError(f"--source {spec!r}: expected 'synthetic', 'jsonl:PATH' or 'kafka[:TOPIC]'")


def with_rate(sources: list[SourceSettings], rate: float | None) -> list[SourceSettings]:
    """``--rate`` applied to every synthetic source."""
    if rate is None:
        return sources
    return [s.model_copy(update={"rate": rate}) if s.type == "synthetic" else s for s in sources]


@dataclass
class SourceHooks:
    """What polled sources report to: spend, fatal stops, a shared rate budget."""

    on_usage: Callable[[Usage], None] | None = None
    on_fatal: Callable[[str, str], None] | None = None
    redis_url: str | None = None


KEY_VARS = {
    "x": "X_BEARER_TOKEN",
    "twitterapi_io": "TWITTERAPI_IO_KEY",
    "rapidapi": "RAPIDAPI_KEY",
    "x_stream": "X_BEARER_TOKEN",
}
BASE_URLS = {
    "x": x_api.BASE_URL,
    "x_stream": x_api.BASE_URL,
    "twitterapi_io": twitterapi_io.BASE_URL,
    "rapidapi": rapidapi.BASE_URL,
}
_PRICING = {
    "x": x_api.PRICING,
    "twitterapi_io": twitterapi_io.PRICING,
    "rapidapi": rapidapi.PRICING,
}


def api_key(kind: str, env: Mapping[str, str], what: str) -> str:
    """The key of a tweet API from the environment; ``what`` names the setting in errors."""
    var = KEY_VARS[kind]
    key = env.get(var)
    if not key:
        raise ConfigError(f"{what} (type {kind}) needs {var} in the environment")
    return key


def make_provider(
    kind: str,
    env: Mapping[str, str],
    what: str,
    *,
    base_url: str | None = None,
    api_host: str | None = None,
    price_per_request: float | None = None,
    price_per_tweet: float | None = None,
) -> Provider:
    """A provider of tweets (``x``, ``twitterapi_io`` or ``rapidapi``)."""
    key = api_key(kind, env, what)
    base = _PRICING[kind]
    pricing = Pricing(
        per_request=base.per_request if price_per_request is None else price_per_request,
        per_tweet=base.per_tweet if price_per_tweet is None else price_per_tweet,
        min_request=base.min_request,
    )
    url = base_url or BASE_URLS[kind]
    if kind == "x":
        return x_api.XApiProvider(key, url, pricing)
    if kind == "twitterapi_io":
        return twitterapi_io.TwitterApiIoProvider(key, url, pricing)
    return rapidapi.RapidApiProvider(key, url, api_host, pricing)


def job_provider(cfg: JobSettings, env: Mapping[str, str]) -> Provider:
    """The provider jobs fetch accounts through."""
    return make_provider(cfg.provider, env, "jobs", base_url=cfg.base_url)


def watches(src: SourceSettings) -> list[Watch]:
    return (
        [Watch(WatchKind.TIMELINE, t) for t in src.timelines]
        + [Watch(WatchKind.MENTIONS, m) for m in src.mentions]
        + [Watch(WatchKind.SEARCH, q) for q in src.searches]
    )


def configured_readers(
    settings: Settings,
    env: Environment,
    hooks: SourceHooks,
    *,
    source_spec: str | None = None,
    rate: float | None = None,
    allow_none: bool = False,
) -> list[RecordReader]:
    """Readers of every configured source (or of ``--source``), ``--rate`` applied."""
    sources = [source_override(source_spec)] if source_spec else list(settings.sources)
    sources = with_rate(sources, rate)
    if not sources and not allow_none:
        raise ConfigError("sources: no source configured (add a [[sources]] table or --source)")
    env_vars = dict(os.environ)
    if env.kafka_bootstrap_servers:
        env_vars["KAFKA_BOOTSTRAP_SERVERS"] = env.kafka_bootstrap_servers
    kafka = env.with_kafka_settings(settings).kafka
    return [r for s in sources for r in make_readers(s, env_vars, hooks, kafka=kafka)]


def make_readers(
    src: SourceSettings,
    env: Mapping[str, str] | None = None,
    hooks: SourceHooks | None = None,
    *,
    kafka: KafkaConnection | None = None,
) -> list[RecordReader]:
    """One reader per partition: a polled source has one per watched item."""
    env = os.environ if env is None else env
    hooks = hooks or SourceHooks()
    what = f"sources[{src.name}]"
    if src.type in POLLED:

        def provider() -> Provider:
            return make_provider(
                src.type,
                env,
                what,
                base_url=src.base_url,
                api_host=src.api_host,
                price_per_request=src.price_per_request,
                price_per_tweet=src.price_per_tweet,
            )

        return polled_readers(src, watches(src), provider, hooks)
    if src.type in PLATFORM_SOURCES:
        return platform_readers(src, env, hooks)
    if src.type == "kafka":
        assert src.topic is not None
        kafka = kafka or Environment.from_env(dict(env)).kafka
        if kafka is None:
            raise ConfigError(f"{what} (type kafka) needs KAFKA_BOOTSTRAP_SERVERS")
        return kafka_readers(src.name, kafka, src.topic, to_end=src.stop_at_end)
    if src.type == "x_stream":
        rules = {r.tag: r.value for r in src.rules}
        key = api_key(src.type, env, what)
        url = src.base_url or BASE_URLS[src.type]
        return [XStreamReader(src.name, key, rules, url, on_fatal=hooks.on_fatal)]
    return [make_reader(src)]


def kafka_readers(
    source: str,
    kafka: KafkaConnection | str,
    topic: str,
    ranges: dict[int, tuple[int, int | None]] | None = None,
    to_end: bool = False,
) -> list[RecordReader]:
    """One reader per partition; ``ranges`` (start, end) for a replay, else from the start
    (to the end as it is now with ``to_end``, else tailing)."""
    c = offsets.consumer(kafka)
    try:
        parts = offsets.partitions(c, topic)
        if ranges is None:
            ranges = {
                p: (
                    offsets.watermarks(c, topic, p)[0],
                    offsets.end_offset(c, topic, p) if to_end else None,
                )
                for p in parts
            }
    finally:
        c.close()
    return [
        KafkaPartitionReader(source, kafka, topic, p, start, end)
        for p, (start, end) in sorted(ranges.items())
    ]


def make_reader(src: SourceSettings) -> RecordReader:
    if src.type == "synthetic":
        gen = SyntheticTweets(
            seed=src.seed, accounts=src.accounts, duplicate_ratio=src.duplicate_ratio
        )
        return SyntheticReader(src.name, gen, rate=src.rate)
    if src.type == "jsonl":
        assert src.path is not None
        path = Path(src.path)
        if not path.is_file():
            raise ConfigError(f"sources[{src.name}].path: no such file: {path}")
        return JsonlFileReader(src.name, path, follow=src.follow)
    raise ConfigError(f"sources[{src.name}].type: unsupported source type {src.type!r}")


def make_analyzer(cfg: AnalyzerSettings, env: Environment) -> Analyzer:
    """The configured analyzer; ``auto`` is the LLM when OPENAI_API_KEY is set."""
    kind = cfg.kind
    if kind == "auto":
        kind = "llm" if env.openai_api_key else "offline"
    if kind == "noop":
        return NoopAnalyzer()
    if kind == "llm":
        if not env.openai_api_key and not env.openai_base_url:
            raise ConfigError(
                "analyzer.kind = 'llm' needs OPENAI_API_KEY (and OPENAI_BASE_URL for "
                "OpenRouter, vLLM, Ollama or another OpenAI-compatible server)"
            )
        rpm, tpm = cfg.requests_per_minute, cfg.tokens_per_minute
        limiter: RateLimiter = (
            RedisLimiter(env.redis_url, rpm, tpm, name=cfg.model)
            if env.redis_url
            else LocalLimiter(rpm, tpm)
        )
        return LLMAnalyzer(
            llm_settings(cfg), env.openai_api_key or "unused", env.openai_base_url, limiter=limiter
        )
    return OfflineAnalyzer(cfg.risk_keywords, cfg.toxicity_keywords or None)


def llm_settings(cfg: AnalyzerSettings) -> LLMSettings:
    p = cfg.prices
    return LLMSettings(
        model=cfg.model,
        fallback_models=tuple(cfg.fallback_models),
        temperature=cfg.temperature,
        max_output_tokens=cfg.max_output_tokens,
        prices=Prices(input=p.input, cached_input=p.cached_input, output=p.output),
        timeout_s=cfg.timeout.total_seconds(),
        max_attempts=cfg.max_attempts,
        provider=dict(cfg.provider) or None,
        app_url=cfg.app_url,
        app_title=cfg.app_title,
    )


def make_chunk_analyzer(
    settings: Settings, env: Environment, store_url: str | None = None
) -> ChunkAnalyzer:
    """The analyzer behind a result cache: Redis (shared, with a TTL) or an in-process
    LRU; without Redis, an LLM's results are also looked up in the store at
    ``store_url`` (so a replay or a new process calls the LLM for no stored text)."""
    cfg = settings.analyzer
    analyzer = make_analyzer(cfg, env)
    cache: ResultCache
    if env.redis_url:
        cache = RedisResultCache(env.redis_url, cfg.cache_ttl)
    elif store_url and isinstance(analyzer, LLMAnalyzer):
        cache = TieredResultCache(LruResultCache(cfg.cache_size), PostgresResultCache(store_url))
    else:
        cache = LruResultCache(cfg.cache_size)
    return ChunkAnalyzer(analyzer, cache)


def make_rules(cfg: AlertSettings) -> list[AlertRule]:
    return [
        AlertRule(
            name=r.name,
            channels=tuple(r.channels),
            digest=r.digest,
            risk_at_least=r.risk_at_least,
            sentiments=tuple(Sentiment(x) for x in r.sentiments),
            score_below=r.score_below,
            keywords=tuple(r.keywords),
            regex=r.regex,
            authors=tuple(r.authors),
            min_followers=r.min_followers,
            mentions=tuple(r.mentions),
            flags=tuple(RiskFlag(f) for f in r.flags),
        )
        for r in cfg.rules
    ]


def _secret(env: Mapping[str, str], var: str, channel: str) -> str:
    value = env.get(var)
    if not value:
        raise ConfigError(f"alerts.channels.{channel}: environment variable {var} is not set")
    return value


def make_channels(cfg: AlertSettings, env: Mapping[str, str], outbox: Outbox) -> dict[str, Channel]:
    """Senders for every configured channel; secrets come from the environment."""
    add_secret_vars(
        v for ch in cfg.channels.values() for v in (ch.webhook_url_env, ch.bot_token_env)
    )
    channels: dict[str, Channel] = {}
    for name, ch in cfg.channels.items():
        if ch.type == "discord":
            channels[name] = DiscordChannel(name, _secret(env, ch.webhook_url_env, name))
        else:
            chat = outbox.chat_id(name) or ch.chat_id or _secret(env, ch.chat_id_env, name)
            channels[name] = TelegramChannel(
                name,
                _secret(env, ch.bot_token_env, name),
                chat,
                base_url=ch.base_url,
                parse_mode=ch.parse_mode,
                on_migrate=outbox.set_chat_id,
                min_interval=ch.min_interval.total_seconds(),
            )
    return channels
