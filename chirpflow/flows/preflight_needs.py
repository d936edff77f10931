"""Which services a command uses (cheap to import: the CLI names them per command)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Needs:
    """What a command uses; each is only checked when its variable is set (llm: when used)."""

    postgres: bool = False
    redis: bool = False
    kafka: bool = False
    llm: bool = False
