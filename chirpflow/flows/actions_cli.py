"""``chirpflow actions ...``: list drafts, counts, and the publisher that posts approved ones."""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import click
import orjson

from chirpflow.errors import ChirpflowError, ConfigError
from chirpflow.flows.cli_support import CONFIG_HELP, metrics_port_option
from chirpflow.logs import add_secret_vars, redact, scrub, secret_values
from chirpflow.settings import Environment, load_settings

if TYPE_CHECKING:
    from chirpflow.action_settings import ActionSettings
    from chirpflow.connectors.actions.store import ActionStore
    from chirpflow.operators.actions.drafter import Drafter
    from chirpflow.operators.actions.gate import SafetyGate

_metrics_port = metrics_port_option(
    "Serve /metrics and /healthz on this port (chirpflow_actions_total and the rest)."
)


@contextmanager
def _store() -> Iterator[tuple[str, ActionStore]]:
    from chirpflow.connectors.actions.store import ActionStore
    from chirpflow.flows.services import database

    with database(Environment.from_env()) as url:
        store = ActionStore(url)
        try:
            yield url, store
        finally:
            store.close()


class _ConfigFailure(click.ClickException):
    exit_code = 2


class _ServiceFailure(click.ClickException):
    exit_code = 3


def _one_line(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Configuration and service failures as one clear line (secrets masked), no traceback."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        import psycopg
        from telegram.error import InvalidToken, TelegramError

        try:
            return fn(*args, **kwargs)
        except click.ClickException:
            raise
        except (ChirpflowError, psycopg.Error, TelegramError, OSError) as err:
            text = redact(
                f"{err}".splitlines()[0] if str(err) else type(err).__name__, secret_values()
            )
            # exit 2: configuration or a refused credential; 3: a service did not answer
            refused = isinstance(err, InvalidToken)
            code = err.exit_code if isinstance(err, ChirpflowError) else 2 if refused else 3
            raise (_ConfigFailure if code == 2 else _ServiceFailure)(text) from None

    return wrapper


def _serve_metrics(port: int | None) -> None:
    if port is not None:
        from chirpflow.flows.ops_server import OpsServer

        OpsServer(port)  # a daemon thread for the life of the command


def _load(config: str | None) -> ActionSettings:
    """The ``[actions]`` settings; the secret variables they name are masked from now on."""
    settings = load_settings(config).actions
    add_secret_vars([settings.approval.bot_token_env, settings.drafting.api_key_env])
    return settings


def _drafter(config: str | None, settings: ActionSettings) -> Drafter:
    """The drafter under the analysis path's rate limiter (Redis-shared with REDIS_URL)."""
    from chirpflow.flows.drafting_limiter import drafting_limiter
    from chirpflow.operators.actions.drafter import Drafter

    env = Environment.from_env()
    limiter = drafting_limiter(load_settings(config), env)
    cache = None
    if env.redis_url:  # drafts shared across processes and restarts
        from chirpflow.connectors.redis.draft_cache import RedisDraftCache

        cache = RedisDraftCache(env.redis_url)
    return Drafter(settings.drafting, limiter=limiter, cache=cache)


def _gate(settings: ActionSettings) -> SafetyGate:
    """The safety gate, with OpenAI moderation when ``actions.gate.moderation`` is on."""
    from chirpflow.connectors.actions.moderation import OpenAIModeration
    from chirpflow.operators.actions.gate import SafetyGate

    g = settings.gate
    return SafetyGate(g, OpenAIModeration(g.moderation_base_url) if g.moderation else None)


@click.group()
def actions() -> None:
    """Reply and post drafts, approvals and posting to X."""


@actions.command("list")
@click.option("--status", default=None, help="pending, blocked, approved, rejected, posted, failed")
@click.option("--limit", default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True)
@_one_line
def list_cmd(status: str | None, limit: int, as_json: bool) -> None:
    """Drafts, newest first, with the check that blocked them."""
    with _store() as (_, store):
        drafts = store.drafts(status, limit)
        counts = store.counts()
    if as_json:
        rows = [
            {
                "id": d.id,
                "status": d.status,
                "blocked_by": d.blocked_by,
                "text": d.text,
                "reply_to": d.tweet_id,
                "context_version": d.context_version,
                "prompt_version": d.prompt_version,
            }
            for d in drafts
        ]
        click.echo(scrub(orjson.dumps({"drafts": rows, "counts": counts}).decode()))
        return
    for d in drafts:
        why = f" [{d.blocked_by}]" if d.blocked_by else ""
        click.echo(f"{d.id:<32} {d.status:<9}{why} {d.text[:80]!r}")
    click.echo(" ".join(f"{k}={v}" for k, v in sorted(counts.items())) or "no drafts")


@actions.command("audit")
@click.option("--limit", default=50, show_default=True)
@_one_line
def audit_cmd(limit: int) -> None:
    """Who did what and when: drafts, decisions, refusals, pauses, context changes, posts."""
    with _store() as (_, store):
        rows = store.audit_log(limit)
    for at, actor, action, target, detail, allowed in rows:
        flag = "" if allowed else "  REFUSED"
        extra = f" ({detail})" if detail else ""
        click.echo(f"{at:%Y-%m-%d %H:%M:%S} {actor:<22} {action:<16} {target or '-'}{extra}{flag}")


@actions.command("publish")
@click.option("--config", default=None, help=CONFIG_HELP)
@click.option("--once", is_flag=True, help="One round (resolve, then post what is pending).")
@click.option("--interval", default=5.0, show_default=True, help="Seconds between rounds.")
@_metrics_port
@_one_line
def publish(config: str | None, once: bool, interval: float, metrics_port: int | None) -> None:
    """Post approved drafts to X exactly once (resolving interrupted posts by read-back)."""
    from chirpflow.connectors.actions.post_outbox import PostOutbox, PublisherBusy
    from chirpflow.connectors.actions.publisher import Publisher
    from chirpflow.connectors.actions.x_poster import XPoster
    from chirpflow.flows.action_checks import require_x_account

    try:
        settings = _load(config)
        _serve_metrics(metrics_port)
        if not settings.enabled:
            raise ConfigError("actions are off (kill switch): set actions.enabled = true")
        poster = XPoster(settings.posting)
        try:
            require_x_account(poster, settings)
        except ChirpflowError:
            poster.close()
            raise
        with _store() as (url, store):
            outbox = PostOutbox(url)
            try:
                outbox.acquire(url)
                pub = Publisher(
                    outbox, poster, _gate(settings), store.paused, settings.posting.max_per_day
                )
                stop = threading.Event()
                while True:
                    report = pub.run_once()
                    for name in ("posted", "resolved", "released", "failed", "unresolved"):
                        for draft_id in getattr(report, name):
                            click.echo(f"{name}: {draft_id}")
                    if once or stop.wait(interval):
                        break
            finally:
                outbox.close()
                poster.close()
    except PublisherBusy as err:
        raise click.ClickException(str(err)) from None


@actions.command("draft")
@click.option("--config", default=None, help=CONFIG_HELP)
@click.option("--once", is_flag=True, help="One batch, then exit.")
@click.option("--interval", default=10.0, show_default=True, help="Seconds between batches.")
@_metrics_port
@_one_line
def draft_cmd(config: str | None, once: bool, interval: float, metrics_port: int | None) -> None:
    """Draft replies for newly analysed tweets (rules, caps, one LLM call per batch, gate)."""
    from chirpflow.flows.post_suggestions import suggest_if_due
    from chirpflow.flows.reply_planner import ReplyPlanner
    from chirpflow.operators.actions.drafter import DraftingUnavailable

    try:
        settings = _load(config)
        _serve_metrics(metrics_port)
        with _store() as (url, store):
            drafter, gate = _drafter(config, settings), _gate(settings)
            planner = ReplyPlanner(url, settings, store, drafter, gate)
            stop = threading.Event()
            try:
                while True:
                    try:
                        for d in suggest_if_due(store, drafter, gate, settings):
                            click.echo(f"suggested: {d.id}")
                        report = planner.run_once()
                    except DraftingUnavailable as err:
                        if once:
                            raise
                        click.echo(f"waiting: {err}", err=True)
                        stop.wait(interval)
                        continue
                    if report.held:
                        click.echo(f"held: {report.held}")
                    for did in report.drafted:
                        click.echo(f"drafted: {did}")
                    for did in report.blocked:
                        click.echo(f"blocked: {did}")
                    for tid, why in report.skipped.items():
                        click.echo(f"skipped: {tid} ({why})")
                    for tid, why in report.failed.items():
                        click.echo(f"no draft: {tid} ({why})")
                    if once or stop.wait(interval if report.read == 0 else 0):
                        break
            finally:
                planner.close()
    except ChirpflowError as err:
        raise click.ClickException(str(err)) from None


@click.command("bot")
@click.option("--config", default=None, help=CONFIG_HELP)
@click.option("--poll-timeout", default=25, show_default=True, help="Long-poll seconds.")
@click.option("--webhook", default=None, help="Public HTTPS URL: webhook mode instead of polling.")
@click.option("--listen", default="127.0.0.1:8443", show_default=True, help="host:port (webhook).")
@_metrics_port
@_one_line
def bot(
    config: str | None,
    poll_timeout: int,
    webhook: str | None,
    listen: str,
    metrics_port: int | None,
) -> None:
    """The Telegram approval bot: drafts to the admin chat, Approve / Edit / Reject, commands.

    Long polling by default; with --webhook, Telegram POSTs updates to that URL (served on
    --listen) carrying the secret from CHIRPFLOW_BOT_WEBHOOK_SECRET."""
    import asyncio
    import os

    from chirpflow.connectors.actions.approval_bot import ApprovalBot

    settings = _load(config)
    _serve_metrics(metrics_port)
    token = os.environ.get(settings.approval.bot_token_env, "")
    secret = os.environ.get("CHIRPFLOW_BOT_WEBHOOK_SECRET", "")
    host, _, port = listen.rpartition(":")
    if webhook and not (secret and port.isdigit()):
        raise ConfigError(
            "webhook mode needs CHIRPFLOW_BOT_WEBHOOK_SECRET (letters, digits, _ or -)"
            " and --listen HOST:PORT"
        )
    with _store() as (_, store):
        approval = ApprovalBot(settings, store, _gate(settings), token)
        asyncio.run(_serve(approval, poll_timeout, webhook, secret, host, int(port or 0)))


async def _serve(
    approval: object, poll_timeout: int, webhook: str | None, secret: str, host: str, port: int
) -> None:
    from chirpflow.connectors.actions.approval_bot import ApprovalBot
    from chirpflow.connectors.actions.approval_webhook import serve_webhook

    assert isinstance(approval, ApprovalBot)
    await approval.start()
    try:
        if webhook:
            await serve_webhook(approval, webhook, secret, host, port)
        else:
            await approval.bot.delete_webhook()
            await approval.run(poll_timeout)
    finally:
        await approval.stop()


@click.group()
def posts() -> None:
    """Original posts: suggestions drafted by the LLM, approved in Telegram."""


@posts.command("suggest")
@click.argument("count", type=click.IntRange(1, 20))
@click.option("--topic", required=True, help="What the posts are about.")
@click.option("--config", default=None, help=CONFIG_HELP)
@_one_line
def posts_suggest(count: int, topic: str, config: str | None) -> None:
    """Draft COUNT post variants about --topic; they wait for approval like replies."""
    from chirpflow.flows.post_suggestions import suggest

    try:
        settings = _load(config)
        drafter = _drafter(config, settings)
        with _store() as (_, store):
            try:
                made = suggest(store, drafter, _gate(settings), settings, count, topic)
            finally:
                drafter.close()
        for d in made:
            why = f" [{d.blocked_by}]" if d.blocked_by else ""
            click.echo(f"{d.id} {d.status}{why}: {d.text}")
    except ChirpflowError as err:
        raise click.ClickException(str(err)) from None
