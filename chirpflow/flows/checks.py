"""Service checks for ``chirpflow doctor`` and the readiness probe.

Each check returns ``(ok, detail)``; details never contain secret values.
Tweet API checks only confirm the key is set and the host answers: a real
API call could bill a read.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from functools import partial
from urllib.parse import urlparse

import httpx

from chirpflow.flows.service_check import Check, ServiceCheck, tcp_probe
from chirpflow.kafka_connection import KafkaConnection, as_connection
from chirpflow.settings import PLATFORM_SOURCES, POLLED, Environment, Settings, redact_url

TIMEOUT_S = 5.0
DEFAULT_LLM_BASE = "https://api.openai.com/v1"


def postgres(url: str) -> tuple[bool, str]:
    import psycopg

    with psycopg.connect(url, connect_timeout=int(TIMEOUT_S)) as conn:
        row = conn.execute("SELECT current_setting('server_version')").fetchone()
    return True, f"PostgreSQL {row[0] if row else '?'}"


def redis_ping(url: str) -> tuple[bool, str]:
    import redis

    client = redis.Redis.from_url(url, socket_timeout=TIMEOUT_S, socket_connect_timeout=TIMEOUT_S)
    try:
        return bool(client.ping()), "PING answered"
    finally:
        client.close()


def bootstrap_addresses(bootstrap: str) -> list[tuple[str, int]]:
    """``host:port[,host:port...]`` (an optional ``SCHEME://`` each) -> addresses."""
    out = []
    for part in bootstrap.split(","):
        hostport = part.strip().rsplit("://", 1)[-1]
        host, sep, port = hostport.rpartition(":")
        if not sep or not host or not port.isdigit():
            raise ValueError(f"expected host:port[,host:port...], got {part.strip()!r}")
        out.append((host.strip("[]"), int(port)))
    return out


def kafka(connection: KafkaConnection | str) -> tuple[bool, str]:
    from chirpflow.flows.kafka_check import probe

    connection = as_connection(connection)
    tcp_probe(bootstrap_addresses(connection.bootstrap), TIMEOUT_S)
    return probe(connection)


def llm(base_url: str | None, key: str) -> tuple[bool, str]:
    base = (base_url or DEFAULT_LLM_BASE).rstrip("/")
    resp = httpx.get(
        f"{base}/models", headers={"authorization": f"Bearer {key}"}, timeout=TIMEOUT_S
    )
    if resp.status_code in (401, 403):
        return False, f"key rejected (HTTP {resp.status_code}; check OPENAI_API_KEY)"
    if resp.status_code >= 500 and resp.status_code != 501:
        raise OSError(f"HTTP {resp.status_code}")  # up but failing: worth waiting for
    # any other answer (also 404/501 from servers without GET /models): it is there
    return True, f"{base}: HTTP {resp.status_code}"


def reachable(url: str) -> tuple[bool, str]:
    """The host answers HTTP at all (any status)."""
    host = urlparse(url).netloc
    resp = httpx.get(url, timeout=TIMEOUT_S)
    return True, f"{host}: HTTP {resp.status_code}"


def discord(webhook_url: str) -> tuple[bool, str]:
    resp = httpx.get(webhook_url, timeout=TIMEOUT_S)  # GET returns the webhook object
    if resp.status_code == 404:
        return False, "webhook unknown (deleted?)"
    return resp.status_code < 400, f"HTTP {resp.status_code}"


def telegram(base_url: str, token: str) -> tuple[bool, str]:
    resp = httpx.get(f"{base_url.rstrip('/')}/bot{token}/getMe", timeout=TIMEOUT_S)
    data = (
        resp.json() if resp.headers.get("content-type", "").startswith("application/json") else {}
    )
    if not data.get("ok"):
        return False, f"getMe failed: {data.get('description') or resp.status_code}"
    return True, f"bot @{data['result'].get('username')}"


def _missing(var: str) -> Check:
    return lambda: (False, f"{var} is not set")


def service_checks(env: Environment, db_url: str | None = None) -> dict[str, Check]:
    """The services the process depends on at runtime (readiness)."""
    checks: dict[str, Check] = {}
    if db_url or env.database_url:
        url = db_url or env.database_url or ""
        checks["postgres"] = ServiceCheck("DATABASE_URL", redact_url(url), partial(postgres, url))
    if env.redis_url:
        checks["redis"] = ServiceCheck(
            "REDIS_URL", redact_url(env.redis_url), partial(redis_ping, env.redis_url)
        )
    if env.kafka is not None:
        checks["kafka"] = ServiceCheck(
            "KAFKA_BOOTSTRAP_SERVERS", env.kafka.bootstrap, partial(kafka, env.kafka)
        )
    return checks


def llm_check(env: Environment) -> Check:
    """The LLM API answers and accepts the key (or: the key is missing)."""
    key = env.openai_api_key
    if not key:
        return _missing("OPENAI_API_KEY")
    base = (env.openai_base_url or DEFAULT_LLM_BASE).rstrip("/")
    return ServiceCheck("OPENAI_BASE_URL", base, partial(llm, env.openai_base_url, key))


def wants_llm(settings: Settings, env: Environment) -> bool:
    kind = settings.analyzer.kind
    return kind == "llm" or (kind == "auto" and bool(env.openai_api_key))


def all_checks(
    settings: Settings, env: Environment, vars: Mapping[str, str] | None = None
) -> dict[str, Check]:
    """Everything the configuration uses, for ``chirpflow doctor``."""
    from chirpflow.flows.build import BASE_URLS, KEY_VARS  # imports the LLM SDK: slow
    from chirpflow.flows.platform_checks import platform_check

    vars = os.environ if vars is None else vars
    env = env.with_kafka_settings(settings)
    checks = service_checks(env)
    if not env.database_url:
        checks["postgres"] = lambda: (True, "embedded PostgreSQL (DATABASE_URL not set)")
    if wants_llm(settings, env):
        checks["llm"] = llm_check(env)
    for src in settings.sources:
        if src.type in POLLED or src.type == "x_stream":
            var = KEY_VARS[src.type]
            name = f"source {src.name} ({src.type})"
            if not vars.get(var):
                checks[name] = _missing(var)
            else:
                checks[name] = partial(reachable, src.base_url or BASE_URLS[src.type])
        if src.type in PLATFORM_SOURCES:
            checks[f"source {src.name} ({src.type})"] = partial(platform_check, src, vars)
        if src.type == "kafka" and not env.kafka_bootstrap_servers:
            checks[f"source {src.name} (kafka)"] = _missing("KAFKA_BOOTSTRAP_SERVERS")
    for name, ch in settings.alerts.channels.items():
        label = f"channel {name} ({ch.type})"
        if ch.type == "discord":
            hook = vars.get(ch.webhook_url_env)
            checks[label] = partial(discord, hook) if hook else _missing(ch.webhook_url_env)
        else:
            token = vars.get(ch.bot_token_env)
            checks[label] = (
                partial(telegram, ch.base_url, token) if token else _missing(ch.bot_token_env)
            )
    from chirpflow.flows.action_checks import action_checks

    checks.update(action_checks(settings.actions, vars, telegram))
    return checks


def run_checks(checks: dict[str, Check]) -> list[tuple[str, bool, str]]:
    out = []
    for name, check in checks.items():
        try:
            ok, detail = check()
        except Exception as err:
            ok, detail = False, f"{type(err).__name__}: {str(err)[:200]}"
        out.append((name, ok, detail))
    return out
