"""What every ``chirpflow`` command shares: one clear error line, the config option's help."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import Any, NoReturn

import click

from chirpflow.errors import ChirpflowError
from chirpflow.logs import redact, secret_values

CONFIG_HELP = "TOML configuration file (default: $CHIRPFLOW_CONFIG, else built-in defaults)."


def exit_with(message: str, code: int) -> NoReturn:
    """``error: <message>`` (secrets masked) on stderr, then exit ``code``."""
    click.echo(f"error: {redact(message, secret_values())}", err=True)
    sys.exit(code)


def fail_cleanly(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Show ChirpflowError as one clear message and exit 2, never a traceback."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except ChirpflowError as err:
            exit_with(str(err), 2)

    return wrapper


def metrics_port_option(help: str, envvar: str | None = None) -> Callable[[Any], Any]:
    """``--metrics-port``: the port of /metrics and the health endpoints (0-65535)."""
    return click.option(
        "--metrics-port", type=click.IntRange(0, 65535), default=None, envvar=envvar, help=help
    )
