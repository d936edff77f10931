"""Configuration: one TOML file for pipelines, the environment for services and secrets.

Errors name the bad key, say what was expected and show the value once, e.g.
``pipeline.max_wait: expected a duration with a unit such as ... '7d' (got 'soon')``.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from chirpflow.action_settings import ActionSettings
from chirpflow.errors import ConfigError
from chirpflow.kafka_connection import (
    ENV_PROPERTIES,
    SECRET_PROPERTIES,
    KafkaConnection,
    env_properties,
    flatten,
)

_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)\s*$")
DURATION_FORM = "a duration with a unit such as '250ms', '30s', '5m', '2h' or '7d'"


def parse_duration(value: Any) -> timedelta:
    """``"30s"``, ``"5m"``, ``"7d"`` or a timedelta -> timedelta.

    A bare number is refused: ``dedup_window = 7`` could mean seconds or days.
    Messages leave out the value; the caller shows it once.
    """
    if isinstance(value, timedelta):
        return value
    if isinstance(value, str):
        m = _DURATION.match(value)
        if m:
            return timedelta(seconds=float(m.group(1)) * _UNITS[m.group(2)])
    if isinstance(value, int | float) and not isinstance(value, bool):
        raise ValueError(f"expected {DURATION_FORM}; a bare number has no unit")
    raise ValueError(f"expected {DURATION_FORM}")


Duration = Annotated[timedelta, BeforeValidator(parse_duration)]


DEMO_RATE = 1000.0  # tweets/s of the built-in demo source (`make run` with no config)


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PipelineSettings(_Section):
    """How tweets are deduplicated and grouped."""

    chunk_key: Literal["source", "watch", "author"] = "source"
    chunk_size: int = Field(100, ge=1, le=1000)
    max_wait: Duration = timedelta(seconds=30)
    dedup_window: Duration = timedelta(days=7)
    dedup_shards: int = Field(16, ge=1, le=4096)
    snapshot_interval: Duration = timedelta(seconds=10)
    stop_timeout: Duration = timedelta(seconds=10)
    source_batch_size: int = Field(1000, ge=1, le=100_000)


POLLED = ("x", "twitterapi_io", "rapidapi")
PLATFORM_SOURCES = ("reddit", "bluesky", "mastodon")  # other platforms than X


class StreamRule(_Section):
    """One X filtered-stream rule; ``tag`` identifies it when syncing."""

    value: str = Field(min_length=1, max_length=1024)
    tag: str = Field(min_length=1, max_length=100)


class SourceSettings(_Section):
    """One input. ``type`` picks the connector; other keys are the connector's.

    Polled APIs (``x``, ``twitterapi_io``, ``rapidapi``) watch ``timelines``
    (usernames), ``mentions`` (handles) and ``searches`` (queries), one
    partition each, every ``interval``. Keys come from the environment:
    ``X_BEARER_TOKEN``, ``TWITTERAPI_IO_KEY``, ``RAPIDAPI_KEY``.
    """

    name: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.@#-]+$")
    type: Literal[
        "synthetic",
        "jsonl",
        "x",
        "twitterapi_io",
        "rapidapi",
        "x_stream",
        "kafka",
        "reddit",
        "bluesky",
        "mastodon",
    ]
    # synthetic
    seed: int = 42
    rate: float = Field(0.0, ge=0, description="tweets per second; 0 = as fast as possible")
    duplicate_ratio: float = Field(0.1, ge=0, le=0.9)
    accounts: int = Field(50, ge=1, le=100_000)
    # jsonl
    path: str | None = None
    follow: bool = False
    # polled APIs
    timelines: list[str] = Field(default_factory=list)
    mentions: list[str] = Field(default_factory=list)
    searches: list[str] = Field(default_factory=list)
    interval: Duration = timedelta(seconds=60)
    base_url: str | None = None  # a proxy or self-hosted gateway
    api_host: str | None = None  # RapidAPI's X-RapidAPI-Host, when not the default
    max_pages: int = Field(50, ge=1, le=1000)  # per poll, paging back to the last seen tweet
    backfill_pages: int = Field(1, ge=0, le=1000)  # first poll of a new watch
    requests_per_minute: float | None = Field(None, gt=0)  # your plan's budget
    price_per_request: float | None = Field(None, ge=0)  # USD; defaults per provider
    price_per_tweet: float | None = Field(None, ge=0)
    # x_stream
    rules: list[StreamRule] = Field(default_factory=list)
    # reddit (timelines = users), bluesky (timelines = handles), mastodon (timelines =
    # accounts, base_url = the instance): see chirpflow/flows/platform_sources.py
    subreddits: list[str] = Field(default_factory=list)
    comments: bool = False  # reddit: also the new comments of each subreddit
    hashtags: list[str] = Field(default_factory=list)  # mastodon
    auth_url: str | None = None  # reddit token / bluesky login host, when not the default
    user_agent: str | None = Field(None, min_length=10, max_length=300)  # reddit
    # bluesky: the Jetstream firehose instead of polling; mastodon: stream the hashtags
    stream: bool = False
    stream_url: str | None = None  # bluesky: a Jetstream host (wss://...)
    # kafka
    topic: str | None = None
    stop_at_end: bool = False  # read up to the end as it is at start, then finish (backfills)

    @model_validator(mode="after")
    def _check_type_keys(self) -> SourceSettings:
        if self.type == "jsonl" and not self.path:
            raise ValueError("a jsonl source needs 'path' (the JSON Lines file to read)")
        if self.type in POLLED and not (self.timelines or self.mentions or self.searches):
            raise ValueError(
                f"a {self.type} source needs something to watch: 'timelines', 'mentions'"
                " or 'searches'"
            )
        if self.type == "x_stream" and not self.rules:
            raise ValueError("an x_stream source needs 'rules' ([{value = ..., tag = ...}])")
        if self.type == "x_stream" and len({r.tag for r in self.rules}) != len(self.rules):
            raise ValueError("x_stream rules need distinct tags")
        if self.type in PLATFORM_SOURCES:
            _check_platform_keys(self)
        if self.type == "kafka" and not self.topic:
            raise ValueError("a kafka source needs 'topic'")
        return self


def _check_platform_keys(src: SourceSettings) -> None:
    watched = {
        "reddit": ("subreddits", "timelines", "searches"),
        "bluesky": ("timelines", "searches"),
        "mastodon": ("hashtags", "timelines", "searches"),
    }[src.type]
    if not any(getattr(src, k) for k in watched):
        names = ", ".join(f"'{k}'" for k in watched)
        raise ValueError(f"a {src.type} source needs something to watch: {names}")
    if src.mentions:
        raise ValueError(f"a {src.type} source has no 'mentions'; use 'searches'")
    if src.type == "mastodon" and not (src.base_url or "").startswith(("https://", "http://")):
        raise ValueError("a mastodon source needs 'base_url', the instance (https://...)")
    if src.type != "mastodon" and src.hashtags:
        raise ValueError("'hashtags' is for mastodon sources (search '#tag' elsewhere)")
    if src.stream and src.type == "reddit":
        raise ValueError("'stream' is for bluesky (Jetstream) and mastodon (hashtags) sources")
    if src.stream and src.type == "mastodon" and not src.hashtags:
        raise ValueError("a streaming mastodon source needs 'hashtags'")
    if src.type != "reddit" and (src.subreddits or src.comments):
        raise ValueError("'subreddits' and 'comments' are for reddit sources")


class PriceSettings(_Section):
    """USD per 1,000,000 tokens (check your provider's price page)."""

    input: float = Field(0.15, ge=0)
    cached_input: float = Field(0.075, ge=0)
    output: float = Field(0.60, ge=0)


class AnalyzerSettings(_Section):
    """``auto``: the LLM when OPENAI_API_KEY is set, else the offline analyzer."""

    kind: Literal["auto", "offline", "noop", "llm"] = "auto"
    model: str = Field("gpt-4o-mini", min_length=1)
    fallback_models: list[str] = Field(default_factory=list)
    temperature: float = Field(0.0, ge=0, le=2)
    max_output_tokens: int = Field(8000, ge=256, le=200_000)
    prices: PriceSettings = PriceSettings()
    timeout: Duration = timedelta(seconds=120)
    max_attempts: int = Field(8, ge=1, le=100)
    max_in_flight: int = Field(16, ge=1, le=1024)
    requests_per_minute: float | None = Field(None, gt=0)  # your provider tier's limits
    tokens_per_minute: float | None = Field(None, gt=0)
    provider: dict[str, Any] = Field(default_factory=dict)
    app_url: str | None = None
    app_title: str | None = "chirpflow"
    risk_keywords: list[str] = Field(
        default_factory=lambda: [
            "scam",
            "hack",
            "hacked",
            "exploit",
            "rug pull",
            "phishing",
            "lawsuit",
            "boycott",
            "leak",
            "fraud",
            "outage",
            "breach",
        ]
    )
    toxicity_keywords: list[str] = Field(default_factory=list)
    cache_size: int = Field(100_000, ge=0)  # in-process LRU entries (no REDIS_URL)
    cache_ttl: Duration = timedelta(days=30)  # Redis result cache entries


class AlertRuleSettings(_Section):
    """One alert rule: every condition set must hold; ``digest`` = one message per chunk."""

    name: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.-]+$")
    channels: list[str] = Field(min_length=1)
    digest: bool = False
    risk_at_least: int | None = Field(None, ge=0, le=100)
    sentiments: list[Literal["negative", "neutral", "positive"]] = Field(default_factory=list)
    score_below: float | None = Field(None, ge=-1, le=1)
    keywords: list[str] = Field(default_factory=list)
    regex: str | None = None
    authors: list[str] = Field(default_factory=list)
    min_followers: int | None = Field(None, ge=0)
    mentions: list[str] = Field(default_factory=list)
    flags: list[Literal["pii", "keyword", "toxicity"]] = Field(default_factory=list)

    @model_validator(mode="after")
    def _regex_compiles(self) -> AlertRuleSettings:
        if self.regex is not None:
            try:
                re.compile(self.regex)
            except re.error as err:
                raise ValueError(f"regex does not compile: {err}") from None
        return self


class ChannelSettings(_Section):
    """A Discord webhook or a Telegram chat. Secrets are read from the named variables."""

    type: Literal["discord", "telegram"]
    max_per_minute: int = Field(20, ge=1, le=1000)
    webhook_url_env: str = "DISCORD_WEBHOOK_URL"
    bot_token_env: str = "TELEGRAM_BOT_TOKEN"
    chat_id_env: str = "TELEGRAM_CHAT_ID"
    chat_id: str | None = None
    parse_mode: Literal["MarkdownV2", "HTML"] = "MarkdownV2"
    base_url: str = "https://api.telegram.org"
    # an alert whose HTTP call a crash interrupted: "resend" (may duplicate) or "skip" (may lose)
    on_interrupted: Literal["resend", "skip"] = "resend"
    # Telegram: the least time between two messages (default 1s, its per-chat limit)
    min_interval: Duration = timedelta(seconds=1)


class AlertSettings(_Section):
    rules: list[AlertRuleSettings] = Field(default_factory=list)
    channels: dict[str, ChannelSettings] = Field(default_factory=dict)
    stop_timeout: Duration = timedelta(seconds=10)  # at stop: send what is due for this long

    @model_validator(mode="after")
    def _channels_exist(self) -> AlertSettings:
        for rule in self.rules:
            missing = [c for c in rule.channels if c not in self.channels]
            if missing:
                raise ValueError(
                    f"rule {rule.name!r} names unknown channel(s) {', '.join(missing)}; "
                    "define them under [alerts.channels.NAME]"
                )
        return self


class KafkaSinkSettings(_Section):
    """Analyses to ``topic``, dead letters to ``dlq_topic`` (needs KAFKA_BOOTSTRAP_SERVERS)."""

    enabled: bool = False
    topic: str = "tweets.analyses"
    dlq_topic: str = "tweets.dlq"


class SinkSettings(_Section):
    postgres: bool = True
    console: bool = True
    kafka: KafkaSinkSettings = KafkaSinkSettings()
    batch_rows: int = Field(5000, ge=1)


class IngestSettings(_Section):
    """``chirpflow ingest``: sources -> normalize -> ``topic`` (dead letters to ``dlq_topic``)."""

    topic: str = "tweets.raw"
    dlq_topic: str = "tweets.dlq"
    partitions: int = Field(3, ge=1, le=1000)  # when ingest creates the topic
    # the message key, which picks the partition: "tweet_id" spreads evenly and keeps
    # every copy of one tweet in one partition (in order); "conversation" keeps a
    # thread together, "author" an account, "watch" a watched item (one hot
    # search lands on one partition)
    key: Literal["tweet_id", "conversation", "author", "watch"] = "tweet_id"


class JobSettings(_Section):
    """On-demand account analyses (``chirpflow api`` queues them, ``chirpflow run`` does them)."""

    enabled: bool = False
    provider: Literal["x", "twitterapi_io", "rapidapi"] = "twitterapi_io"
    base_url: str | None = None
    max_active: int = Field(10, ge=1, le=1000)  # users processed at once, across processes
    max_tweets_limit: int = Field(3200, ge=1, le=100_000)  # the most one job may ask for
    requests_per_minute_per_key: int = Field(120, ge=1)  # API clients, per API key


class Settings(_Section):
    # librdkafka properties for every Kafka client ([kafka] table; KAFKA_* variables override)
    kafka: dict[str, str] = Field(default_factory=dict)
    pipeline: PipelineSettings = PipelineSettings()
    jobs: JobSettings = JobSettings()
    ingest: IngestSettings = IngestSettings()
    sources: list[SourceSettings] = Field(
        default_factory=lambda: [SourceSettings(name="synthetic", type="synthetic", rate=DEMO_RATE)]
    )
    analyzer: AnalyzerSettings = AnalyzerSettings()
    alerts: AlertSettings = AlertSettings()
    sinks: SinkSettings = SinkSettings()
    actions: ActionSettings = ActionSettings()

    def masked_dump(self) -> dict[str, Any]:
        """The settings as JSON-ready data, secret [kafka] properties masked."""
        data = self.model_dump(mode="json")
        data["kafka"] = {k: "****" if k in SECRET_PROPERTIES else v for k, v in self.kafka.items()}
        return data

    def secret_vars(self) -> set[str]:
        """The environment variables this configuration names for secrets (to mask)."""
        names = set()
        for ch in self.alerts.channels.values():
            names.add(ch.webhook_url_env if ch.type == "discord" else ch.bot_token_env)
        return names

    @field_validator("kafka", mode="before")
    @classmethod
    def _kafka_properties(cls, value: Any) -> Any:
        if not isinstance(value, dict):
            return value
        props = flatten(value)
        if "bootstrap.servers" in props:
            raise ValueError(
                "set the brokers with KAFKA_BOOTSTRAP_SERVERS, not kafka.bootstrap.servers"
            )
        return props

    @model_validator(mode="after")
    def _unique_sources(self) -> Settings:
        names = [s.name for s in self.sources]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"source names must be unique, repeated: {', '.join(dupes)}")
        return self


def _loc(parts: tuple[int | str, ...]) -> str:
    out = ""
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out or "(top level)"


def settings_from_dict(data: dict[str, Any], origin: str = "config") -> Settings:
    try:
        return Settings.model_validate(data)
    except ValidationError as err:
        lines = []
        for e in err.errors():
            loc = _loc(tuple(e["loc"]))
            msg = e["msg"].removeprefix("Value error, ")
            if e["type"] == "extra_forbidden":
                msg = "unknown setting (check the spelling; see chirpflow.example.toml)"
            elif "input" in e and e["type"] != "missing" and not isinstance(e["input"], dict):
                msg = f"{msg} (got {e['input']!r})"
            lines.append(f"{loc}: {msg}")
        raise ConfigError(f"{origin}: invalid configuration\n  " + "\n  ".join(lines)) from None


def load_settings(path: str | os.PathLike[str] | None = None) -> Settings:
    """Settings from ``path``, else ``$CHIRPFLOW_CONFIG``, else the defaults."""
    chosen = path or os.environ.get("CHIRPFLOW_CONFIG")
    if not chosen:
        return Settings()
    p = Path(chosen)
    try:
        raw = p.read_bytes()
    except OSError as err:
        raise ConfigError(f"cannot read config file {p}: {err.strerror}") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        raise ConfigError(f"{p}: not valid TOML: {err}") from None
    return settings_from_dict(data, origin=str(p))


@dataclass(frozen=True, slots=True)
class Environment:
    """Services and secrets, under the ecosystem's usual variable names."""

    database_url: str | None
    redis_url: str | None
    kafka_bootstrap_servers: str | None
    openai_api_key: str | None
    openai_base_url: str | None
    home: Path
    kafka_env: Mapping[str, str] = field(default_factory=dict)  # from KAFKA_* variables
    kafka_settings: Mapping[str, str] = field(default_factory=dict)  # the [kafka] table

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Environment:
        e = os.environ if env is None else env
        return cls(
            database_url=e.get("DATABASE_URL") or None,
            redis_url=e.get("REDIS_URL") or None,
            kafka_bootstrap_servers=e.get("KAFKA_BOOTSTRAP_SERVERS") or None,
            openai_api_key=e.get("OPENAI_API_KEY") or None,
            openai_base_url=e.get("OPENAI_BASE_URL") or None,
            home=Path(e.get("CHIRPFLOW_HOME") or ".chirpflow").resolve(),
            kafka_env=env_properties(e),
        )

    def with_kafka_settings(self, settings: Settings) -> Environment:
        """This environment with the ``[kafka]`` table of ``settings`` under its variables."""
        return replace(self, kafka_settings=dict(settings.kafka))

    @property
    def kafka(self) -> KafkaConnection | None:
        """How to reach the Kafka cluster (None without KAFKA_BOOTSTRAP_SERVERS)."""
        if not self.kafka_bootstrap_servers:
            return None
        return KafkaConnection.build(
            self.kafka_bootstrap_servers, self.kafka_settings, self.kafka_env
        )

    def redacted(self) -> dict[str, str | None]:
        """What is configured, with secrets and credentials masked."""
        return {
            "DATABASE_URL": redact_url(self.database_url) if self.database_url else "(embedded)",
            "REDIS_URL": redact_url(self.redis_url) if self.redis_url else "(in-process)",
            "KAFKA_BOOTSTRAP_SERVERS": self.kafka_bootstrap_servers or "(not set)",
            **{
                var: "****" if prop in SECRET_PROPERTIES else self.kafka_env[prop]
                for var, prop in ENV_PROPERTIES.items()
                if prop in self.kafka_env
            },
            "OPENAI_API_KEY": "****" if self.openai_api_key else "(not set)",
            "OPENAI_BASE_URL": self.openai_base_url or "(default)",
            "CHIRPFLOW_HOME": str(self.home),
        }


def redact_url(url: str) -> str:
    """``postgresql://user:secret@host/db`` -> ``postgresql://user:****@host/db``."""
    return re.sub(r"(//[^:/@]*:)[^@]*@", r"\1****@", url)
