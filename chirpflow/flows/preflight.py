"""Before a command starts: wait a bounded time for the services it needs, else say which not.

A pod often starts before its database, so each command waits up to
``--wait-for-services`` (``CHIRPFLOW_SERVICE_WAIT``) for the services it
needs. What is still missing then becomes a :class:`ServiceUnavailable`
naming, per service, the variable, the address (secrets masked) and the
cause; the CLI prints it as one line per service and exits 3. A malformed
address, or a service that answers but refuses us (a rejected API key), is a
:class:`ConfigError` (exit 2) at once: waiting cannot fix it.
Services that go away after a good start are the sinks' and readers'
business (they retry and wait).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from urllib.parse import urlparse

from tenacity import Retrying, retry_if_exception_type, stop_before_delay, wait_exponential

from chirpflow.errors import ConfigError, ServiceError
from chirpflow.flows.checks import bootstrap_addresses, llm_check, service_checks, wants_llm
from chirpflow.flows.preflight_needs import Needs
from chirpflow.flows.service_check import Check, ServiceCheck, cause
from chirpflow.logs import redact
from chirpflow.logs import secret_values as secrets
from chirpflow.settings import Environment, Settings, redact_url

log = logging.getLogger(__name__)

DEFAULT_WAIT_S = 5.0


class ServiceUnavailable(ServiceError):
    """A service a command needs did not answer within the wait."""


class _StillDown(Exception):
    pass


def validate(env: Environment, needs: Needs) -> None:
    """Addresses that can never work: one ConfigError naming each variable."""
    problems = []
    if needs.postgres and env.database_url:
        problems += _bad("DATABASE_URL", env.database_url, _check_conninfo)
    if needs.redis and env.redis_url:
        problems += _bad("REDIS_URL", env.redis_url, _check_redis_url)
    if needs.kafka and env.kafka_bootstrap_servers:
        problems += _bad("KAFKA_BOOTSTRAP_SERVERS", env.kafka_bootstrap_servers, _check_bootstrap)
    if needs.llm and env.openai_base_url:
        problems += _bad("OPENAI_BASE_URL", env.openai_base_url, _check_http_url)
    if problems:
        raise ConfigError(_lines(problems, "bad service addresses"))


def _bad(var: str, value: str, check: Callable[[str], None]) -> list[str]:
    try:
        check(value)
    except Exception as err:  # ValueError, psycopg.ProgrammingError (bad conninfo), ...
        return [f"{var} {redact_url(value)!r}: {cause(err)}"]
    return []


def _check_conninfo(value: str) -> None:
    from psycopg.conninfo import conninfo_to_dict

    conninfo_to_dict(value)


def _check_redis_url(value: str) -> None:
    from redis.connection import parse_url

    parse_url(value)


def _check_bootstrap(value: str) -> None:
    bootstrap_addresses(value)


def _check_http_url(value: str) -> None:
    url = urlparse(value)
    if url.scheme not in ("http", "https") or not url.netloc:
        raise ValueError("expected an http(s):// URL")


def checks_for(env: Environment, needs: Needs) -> dict[str, Check]:
    """The doctor's checks of exactly the services ``needs`` names and the environment sets."""
    available = service_checks(env)
    wanted = {"postgres": needs.postgres, "redis": needs.redis, "kafka": needs.kafka}
    out = {name: check for name, check in available.items() if wanted[name]}
    if needs.llm:
        out["llm"] = llm_check(env)
    return out


def require(env: Environment, needs: Needs, wait_s: float = DEFAULT_WAIT_S) -> None:
    """Return once every needed service answers; else raise (see the module doc)."""
    validate(env, needs)
    pending = checks_for(env, needs)
    final: dict[str, str] = {}
    down: dict[str, str] = {}
    started = time.monotonic()

    said: list[bool] = []

    def note_wait(state: object) -> None:
        if not said:
            said.append(True)
            log.warning("waiting up to %.0fs for: %s", wait_s, "; ".join(down.values()))

    retrying = Retrying(
        stop=stop_before_delay(wait_s),
        wait=wait_exponential(multiplier=0.25, max=3.0),
        retry=retry_if_exception_type(_StillDown),
        before_sleep=note_wait,
        reraise=True,
    )
    try:
        for attempt in retrying:
            with attempt:
                down.clear()
                for name, check in list(pending.items()):
                    ok, detail, again = _attempt(check)
                    if ok:
                        del pending[name]
                    elif again:
                        down[name] = detail
                    else:
                        final[name] = detail
                        del pending[name]
                if down and not final:
                    raise _StillDown
    except _StillDown:
        pass
    problems = [*final.values(), *down.values()]
    if problems:
        waited = time.monotonic() - started
        hint = f"waited {waited:.0f}s, see --wait-for-services" if down else ""
        text = redact(_lines(problems, "services unavailable", hint), secrets())
        if final:  # answered, but refused us (a rejected key): waiting will not help
            raise ConfigError(text)
        raise ServiceUnavailable(text)


def _attempt(check: Check) -> tuple[bool, str, bool]:
    if isinstance(check, ServiceCheck):
        return check.attempt()
    ok, detail = check()
    return ok, detail, False


def _lines(problems: list[str], what: str, hint: str = "") -> str:
    """One line per problem (a header line first when there are several)."""
    note = f" ({hint})" if hint else ""
    if len(problems) == 1:
        return problems[0] + note
    return f"{len(problems)} {what}{note}:\n" + "\n".join(f"  {p}" for p in problems)


def command_needs(
    settings: Settings,
    env: Environment,
    *,
    kafka: bool = False,
    source_spec: str | None = None,
) -> Needs:
    """What ``run``/``replay``/``ingest`` use with these settings and ``--source``."""
    if source_spec is not None:
        kafka = kafka or source_spec == "kafka" or source_spec.startswith("kafka:")
    else:
        kafka = kafka or any(src.type == "kafka" for src in settings.sources)
    return Needs(
        postgres=settings.sinks.postgres,
        redis=True,
        kafka=kafka or settings.sinks.kafka.enabled,
        llm=wants_llm(settings, env),
    )
