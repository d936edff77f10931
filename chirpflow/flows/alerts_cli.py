"""``chirpflow alerts list|test|resend``: the alerts outbox from the command line."""

from __future__ import annotations

import os
from datetime import UTC, datetime

import click
import orjson

from chirpflow.errors import ConfigError, ServiceError
from chirpflow.flows.cli_support import CONFIG_HELP, fail_cleanly
from chirpflow.settings import Environment, load_settings

STATUSES = ("pending", "sending", "sent", "folded", "uncertain", "failed", "disabled")


@click.group()
def alerts() -> None:
    """The alerts outbox: list rows, test a channel, resend what was not delivered."""


@alerts.command("list")
@click.option("--status", type=click.Choice(STATUSES), help="Only rows with this status.")
@click.option("--channel", help="Only this channel.")
@click.option("--limit", type=click.IntRange(min=1), default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="One JSON array (for scripts).")
@fail_cleanly
def alerts_list(status: str | None, channel: str | None, limit: int, as_json: bool) -> None:
    """The newest alerts with their status, channel, attempts and remote message id."""
    from chirpflow.connectors.notify.outbox import Outbox
    from chirpflow.flows.services import database

    with database(Environment.from_env()) as url:
        outbox = Outbox(url, max_size=1)
        try:
            rows = outbox.rows(status=status, channel=channel, limit=limit)
        finally:
            outbox.close()
    if as_json:
        click.echo(orjson.dumps(rows, option=orjson.OPT_INDENT_2).decode())
        return
    for r in rows:
        note = r["last_error"] or (f"remote {r['remote_id']}" if r["remote_id"] else "")
        interrupted = f" interrupted x{r['interrupted']}" if r["interrupted"] else ""
        click.echo(
            f"{r['channel']:<12} {r['status']:<9} x{r['attempts']}{interrupted}"
            f"  {r['id']}  {str(note)[:80]}"
        )
    if not rows:
        click.echo("no alerts")


@alerts.command("test")
@click.argument("channel")
@click.option("-c", "--config", type=click.Path(dir_okay=False), help=CONFIG_HELP)
@fail_cleanly
def alerts_test(channel: str, config: str | None) -> None:
    """Send one test message to CHANNEL (as configured under [alerts.channels.CHANNEL])."""
    from chirpflow.connectors.notify.channel import SendError
    from chirpflow.connectors.notify.outbox import Outbox
    from chirpflow.flows.build import make_channels
    from chirpflow.flows.services import database
    from chirpflow.model import Notification

    cfg = load_settings(config).alerts
    if channel not in cfg.channels:
        known = ", ".join(sorted(cfg.channels)) or "none configured"
        raise ConfigError(f"no alert channel {channel!r} (channels: {known})")
    only = cfg.model_copy(update={"channels": {channel: cfg.channels[channel]}, "rules": []})
    now = datetime.now(UTC).isoformat(timespec="seconds")
    with database(Environment.from_env()) as url:
        outbox = Outbox(url, max_size=1)
        try:
            sender = make_channels(only, os.environ, outbox)[channel]
            try:
                remote = sender.send(
                    Notification(
                        id=f"test:{channel}:{now}",
                        rule="test",
                        channel=channel,
                        kind="test",
                        title="chirpflow test alert",
                        body=f"If you can read this, alerts reach channel {channel} ({now}).",
                    )
                )
            except SendError as err:
                raise ServiceError(
                    f"alerts channel {channel}: test message failed: {err}"
                ) from None
            finally:
                sender.close()
        finally:
            outbox.close()
    click.echo(f"sent a test message to {channel}" + (f" (message id {remote})" if remote else ""))


@alerts.command("resend")
@click.option("--channel", help="Only this channel.")
@fail_cleanly
def alerts_resend(channel: str | None) -> None:
    """Put uncertain and failed alerts back to pending (and re-enable their channels);
    the next `chirpflow run` sends them."""
    from chirpflow.connectors.notify.outbox import Outbox
    from chirpflow.flows.services import database

    with database(Environment.from_env()) as url:
        outbox = Outbox(url, max_size=1)
        try:
            n = outbox.resend(channel)
        finally:
            outbox.close()
    where = f" on {channel}" if channel else ""
    click.echo(f"{n} alert(s){where} back to pending")
