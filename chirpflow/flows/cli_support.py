"""What every ``chirpflow`` command shares: one clear error line, the config option's help."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import Any

import click

from chirpflow.errors import ChirpflowError
from chirpflow.logs import redact, secret_values

CONFIG_HELP = "TOML configuration file (default: $CHIRPFLOW_CONFIG, else built-in defaults)."


def fail_cleanly(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Show ChirpflowError as one clear message and exit 2, never a traceback."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except ChirpflowError as err:
            click.echo(f"error: {redact(str(err), secret_values())}", err=True)
            sys.exit(2)

    return wrapper
