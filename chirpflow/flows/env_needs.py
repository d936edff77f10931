"""What ``chirpflow run`` will read from the environment for a configuration.

``chirpflow config check`` lists these with whether each is set (never the
values), so a missing key shows up before a run fails on it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from chirpflow.flows.build import KEY_VARS
from chirpflow.settings import Settings


@dataclass(frozen=True, slots=True)
class Need:
    """One variable (or a choice of variables) and the setting that reads it."""

    variables: tuple[str, ...]  # any one of them will do
    used_by: str
    required: bool = True

    @property
    def name(self) -> str:
        return " or ".join(self.variables)

    def is_set(self, env: Mapping[str, str]) -> bool:
        return any(env.get(v) for v in self.variables)

    def as_dict(self, env: Mapping[str, str]) -> dict[str, str | bool]:
        return {
            "variable": self.name,
            "used_by": self.used_by,
            "required": self.required,
            "set": self.is_set(env),
        }


def env_needs(settings: Settings) -> list[Need]:
    """Every variable the configuration reads, required ones first, in config order."""
    needs = [
        Need(("DATABASE_URL",), "the store (else an embedded PostgreSQL)", required=False),
        Need(("REDIS_URL",), "shared dedup, cache and rate limits (else in-process)", False),
    ]
    kind = settings.analyzer.kind
    if kind == "llm":
        needs.append(Need(("OPENAI_API_KEY", "OPENAI_BASE_URL"), "analyzer.kind = 'llm'"))
    elif kind == "auto":
        needs.append(
            Need(("OPENAI_API_KEY",), "analyzer.kind = 'auto' (else the offline analyzer)", False)
        )
    for i, src in enumerate(settings.sources):
        where = f"sources[{i}] {src.name!r} (type {src.type})"
        if src.type in KEY_VARS:
            needs.append(Need((KEY_VARS[src.type],), where))
        elif src.type == "kafka":
            needs.append(Need(("KAFKA_BOOTSTRAP_SERVERS",), where))
    if settings.sinks.kafka.enabled:
        needs.append(Need(("KAFKA_BOOTSTRAP_SERVERS",), "sinks.kafka.enabled"))
    if settings.jobs.enabled:
        provider = settings.jobs.provider
        needs.append(Need((KEY_VARS[provider],), f"jobs.enabled (provider {provider})"))
    for name, ch in settings.alerts.channels.items():
        where = f"alerts.channels.{name} ({ch.type})"
        if ch.type == "discord":
            needs.append(Need((ch.webhook_url_env,), where))
        else:
            needs.append(Need((ch.bot_token_env,), where))
            if not ch.chat_id:
                needs.append(Need((ch.chat_id_env,), f"{where}, no chat_id set"))
    return sorted(needs, key=lambda n: not n.required)


def missing(needs: list[Need], env: Mapping[str, str]) -> list[Need]:
    return [n for n in needs if n.required and not n.is_set(env)]


def describe(needs: list[Need], env: Mapping[str, str]) -> list[str]:
    """One line per variable: set / MISSING / unset, its name and what reads it."""
    lines = []
    for n in needs:
        state = "set" if n.is_set(env) else ("MISSING" if n.required else "unset")
        lines.append(f"  {state:<8} {n.name:<34} {n.used_by}")
    return lines
