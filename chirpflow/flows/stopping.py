"""``--stop-timeout`` and the exit status of commands that stop on SIGINT / SIGTERM.

A signalled command ends within the stop bound (:mod:`chirpflow.shutdown`)
with status 130 after SIGINT and 143 after SIGTERM, and one line saying so,
never a traceback.
"""

from __future__ import annotations

import functools
import logging
import signal
import sys
from collections.abc import Callable
from typing import Any

import click

from chirpflow.shutdown import SHUTDOWN, Interrupted

log = logging.getLogger(__name__)


def stoppable(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Add ``--stop-timeout``; stop signals lead to :data:`SHUTDOWN` while ``fn`` runs."""

    @click.option(
        "--stop-timeout",
        type=click.FloatRange(min=0),
        help="Seconds SIGINT/SIGTERM may take to stop (default: [pipeline] stop_timeout, 10s); "
        "work not finished by then resumes next start.",
    )
    @functools.wraps(fn)
    def wrapper(*args: Any, stop_timeout: float | None = None, **kwargs: Any) -> Any:
        SHUTDOWN.configure(stop_timeout, explicit=True)
        result = None
        try:
            with SHUTDOWN.handling():
                result = fn(*args, **kwargs)
        except Interrupted:
            pass
        except Exception as err:
            if SHUTDOWN.signum is None:
                raise
            log.debug("ended by stop signal", exc_info=True)
            log.warning("stopping: %s: %s", type(err).__name__, err)
        code = SHUTDOWN.exit_code()
        if code is not None:
            assert SHUTDOWN.signum is not None
            click.echo(f"stopped by {signal.Signals(SHUTDOWN.signum).name}", err=True)
            sys.exit(code)
        return result

    return wrapper
