"""The ``chirpflow`` command line."""

from __future__ import annotations

import functools
import logging
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
import orjson

from chirpflow.connectors.kafka.offsets import parse_offsets
from chirpflow.errors import ChirpflowError, ServiceError
from chirpflow.flows.cli_support import CONFIG_HELP, exit_with, metrics_port_option
from chirpflow.flows.preflight_needs import Needs
from chirpflow.flows.stopping import stoppable
from chirpflow.logs import add_secret_vars, redact, scrub, secret_values, setup_logging
from chirpflow.model import USERNAME_PATTERN
from chirpflow.settings import Environment, Settings, load_settings, parse_duration
from chirpflow.shutdown import SHUTDOWN

if TYPE_CHECKING:
    from chirpflow.connectors.postgres.jobs import JobStore

_metrics_port = metrics_port_option(
    "Serve /metrics, /healthz and /readyz on this port (also CHIRPFLOW_METRICS_PORT).",
    envvar="CHIRPFLOW_METRICS_PORT",
)


def _settings(config: str | None) -> Settings:
    settings = load_settings(config)
    add_secret_vars(settings.secret_vars())  # custom token variables are masked too
    SHUTDOWN.configure(settings.pipeline.stop_timeout.total_seconds())
    return settings


def _fail_cleanly(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Show errors as one clear message, never a traceback: exit 2 (config), 3 (service)."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from chirpflow.flows.service_check import cause, is_service_failure

        try:
            return fn(*args, **kwargs)
        except ChirpflowError as err:
            exit_with(str(err), err.exit_code)
        except Exception as err:
            if not is_service_failure(err):
                raise
            exit_with(cause(err), ServiceError.exit_code)

    return wrapper


def _show_version(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if not value or ctx.resilient_parsing:
        return
    from chirpflow.version import installed_version

    click.echo(f"chirpflow {installed_version()}")
    ctx.exit()


def _needs(
    needs: Needs | Callable[..., Needs],
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Add --wait-for-services; check the services the command needs before it starts."""

    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        @click.option(
            "--wait-for-services",
            "service_wait",
            metavar="DURATION",
            envvar="CHIRPFLOW_SERVICE_WAIT",
            default="5s",
            show_default=True,
            callback=_seconds,
            help="How long to wait for the services this command needs "
            "(also CHIRPFLOW_SERVICE_WAIT); then exit 3 naming each missing one.",
        )
        @functools.wraps(fn)
        def wrapper(*args: Any, service_wait: float, **kwargs: Any) -> Any:
            from chirpflow.flows.preflight import require

            env = Environment.from_env()
            if "config" in kwargs:  # the command's [kafka] table
                env = env.with_kafka_settings(_settings(kwargs["config"]))
            require(env, needs(**kwargs) if callable(needs) else needs, service_wait)
            return fn(*args, **kwargs)

        return wrapper

    return decorate


def _seconds(ctx: click.Context, param: click.Parameter, value: str) -> float:
    if value.strip() == "0":  # no wait at all needs no unit
        return 0.0
    try:
        return parse_duration(value).total_seconds()
    except ValueError as err:
        raise click.BadParameter(str(err)) from None


def _with_analyzer(settings: Settings, analyzer: str | None) -> Settings:
    if not analyzer:
        return settings
    return settings.model_copy(
        update={"analyzer": settings.analyzer.model_copy(update={"kind": analyzer})}
    )


def _job_needs(
    config: str | None = None,
    source_spec: str | None = None,
    analyzer: str | None = None,
    kafka: bool = False,
    **_: Any,
) -> Needs:
    from chirpflow.flows.preflight import command_needs

    settings = _with_analyzer(_settings(config), analyzer)
    return command_needs(settings, Environment.from_env(), kafka=kafka, source_spec=source_spec)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--version",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=_show_version,
    help="Show the installed version and exit.",
)
@click.option("-v", "--verbose", count=True, help="More log output (-vv for debug).")
@click.option(
    "--log-format",
    type=click.Choice(["text", "json"]),
    envvar="CHIRPFLOW_LOG_FORMAT",
    default="text",
    show_default=True,
    help="json: one JSON object per line (also CHIRPFLOW_LOG_FORMAT).",
)
def main(verbose: int, log_format: str) -> None:
    """chirpflow: watch tweets, analyse every one, store and alert.

    \b
    Quick start (no keys, no servers):
      chirpflow run --limit 5000     synthetic tweets -> offline analysis -> embedded PostgreSQL
      chirpflow stats                what the store holds

    Services come from the environment: DATABASE_URL (else an embedded
    PostgreSQL under $CHIRPFLOW_HOME, default ./.chirpflow), REDIS_URL,
    KAFKA_BOOTSTRAP_SERVERS, OPENAI_API_KEY, OPENAI_BASE_URL.
    """
    setup_logging(max(logging.WARNING - 10 * verbose, logging.DEBUG), log_format)


@main.command()
@click.option("-c", "--config", type=click.Path(dir_okay=False), help=CONFIG_HELP)
@click.option(
    "--source",
    "source_spec",
    metavar="SPEC",
    help="Override the configured sources: 'synthetic', 'jsonl:PATH' or 'kafka[:TOPIC]' "
    "(reads the topic `chirpflow ingest` writes; needs KAFKA_BOOTSTRAP_SERVERS).",
)
@click.option(
    "--limit", type=click.IntRange(min=1), help="Stop after N source tweets (sinks flushed)."
)
@click.option(
    "--rate",
    type=click.FloatRange(min=0),
    help="Tweets per second of synthetic sources (0 = as fast as possible; "
    "the built-in demo source defaults to 1000).",
)
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=1,
    show_default=True,
    help="Bytewax worker threads in this process.",
)
@click.option(
    "--analyzer", type=click.Choice(["auto", "offline", "noop"]), help="Override [analyzer].kind."
)
@click.option("--no-recovery", is_flag=True, help="Do not snapshot state (start fresh every run).")
@click.option(
    "--reset-recovery",
    is_flag=True,
    help="Forget saved source positions and dedup state before starting.",
)
@click.option("--quiet", is_flag=True, help="No live summary line.")
@_metrics_port
@stoppable
@_fail_cleanly
@_needs(_job_needs)
def run(
    config: str | None,
    source_spec: str | None,
    limit: int | None,
    rate: float | None,
    workers: int,
    analyzer: str | None,
    no_recovery: bool,
    reset_recovery: bool,
    quiet: bool,
    metrics_port: int | None,
) -> None:
    """Run the analysis job: sources -> dedup -> chunks -> analyzer -> PostgreSQL.

    Runs until every source ends, --limit is reached, or Ctrl-C / SIGTERM
    (which finishes open chunks and flushes sinks first, for at most
    --stop-timeout; exit 130 / 143). With recovery on (the default) a
    restart resumes where the last snapshot left off.
    """
    from chirpflow.flows.job import run_job

    settings = _settings(config)
    if analyzer:
        settings = settings.model_copy(
            update={"analyzer": settings.analyzer.model_copy(update={"kind": analyzer})}
        )
    run_job(
        settings,
        Environment.from_env(),
        source_spec=source_spec,
        limit=limit,
        rate=rate,
        workers=workers,
        recovery=not no_recovery,
        reset_recovery=reset_recovery,
        live=not quiet,
        metrics_port=metrics_port,
    )


@main.command()
@click.option("-c", "--config", type=click.Path(dir_okay=False), help=CONFIG_HELP)
@click.option("--source", "source_spec", metavar="SPEC", help="Override the configured sources.")
@click.option("--limit", type=click.IntRange(min=1), help="Stop after N source tweets.")
@click.option("--rate", type=click.FloatRange(min=0), help="Tweets/s of synthetic sources.")
@click.option("--no-recovery", is_flag=True, help="Do not snapshot source positions.")
@click.option("--reset-recovery", is_flag=True, help="Forget saved source positions first.")
@_metrics_port
@stoppable
@_fail_cleanly
@_needs(functools.partial(_job_needs, kafka=True))
def ingest(
    config: str | None,
    source_spec: str | None,
    limit: int | None,
    rate: float | None,
    no_recovery: bool,
    reset_recovery: bool,
    metrics_port: int | None,
) -> None:
    """Sources -> normalize -> Kafka ([ingest] topic, default tweets.raw).

    Run it beside `chirpflow run --source kafka` for a durable log you can
    replay. Keyed by source key, valued by the Tweet JSON; dead letters go to
    the DLQ topic. Needs KAFKA_BOOTSTRAP_SERVERS. Restarts resume from the
    last snapshot of source positions.
    """
    from chirpflow.flows.ingest import run_ingest

    run_ingest(
        _settings(config),
        Environment.from_env(),
        source_spec=source_spec,
        limit=limit,
        rate=rate,
        recovery=not no_recovery,
        reset_recovery=reset_recovery,
        metrics_port=metrics_port,
    )


def _when(value: str | None, flag: str) -> datetime | None:
    if value is None:
        return None
    try:
        ts = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(
            f"expected an ISO time like 2026-11-22T10:00:00Z, got {value!r}", param_hint=flag
        ) from None
    return ts.replace(tzinfo=UTC) if ts.tzinfo is None else ts


@main.command()
@click.option("-c", "--config", type=click.Path(dir_okay=False), help=CONFIG_HELP)
@click.option("--topic", default="tweets.raw", show_default=True, help="The topic to replay.")
@click.option("--from-beginning", is_flag=True, help="Start at each partition's first offset.")
@click.option(
    "--from-offset",
    metavar="P:O[,P:O...]",
    help="Start offsets per partition (partitions not named are skipped).",
)
@click.option("--from-timestamp", metavar="ISO", help="Start at the first message at/after this.")
@click.option("--to-timestamp", metavar="ISO", help="Stop before the first message at/after this.")
@click.option("--to-end", is_flag=True, help="Stop at the end as it is now (the default).")
@click.option("--quiet", is_flag=True, help="No progress bars.")
@stoppable
@_fail_cleanly
@_needs(functools.partial(_job_needs, kafka=True))
def replay(
    config: str | None,
    topic: str,
    from_beginning: bool,
    from_offset: str | None,
    from_timestamp: str | None,
    to_timestamp: str | None,
    to_end: bool,
    quiet: bool,
) -> None:
    """Re-analyse exactly one range of a Kafka topic.

    Independent of the live job's recovery state. Rows are upserted (never
    duplicated) and cached analyses cost nothing. Timestamps map to offsets
    with the broker's offsets_for_times, checked against the messages, or a
    binary search over message timestamps where the broker lacks it.
    """
    from chirpflow.flows.replay import ReplayRange, run_replay

    if to_end and to_timestamp:
        raise click.UsageError("--to-end and --to-timestamp exclude each other")
    r = ReplayRange(
        from_beginning=from_beginning,
        from_offsets=parse_offsets(from_offset) if from_offset else None,
        from_time=_when(from_timestamp, "--from-timestamp"),
        to_time=_when(to_timestamp, "--to-timestamp"),
    )
    summary, ranges = run_replay(
        _settings(config), Environment.from_env(), topic, r, live=not quiet
    )
    if not ranges:
        click.echo(f"{topic}: nothing in that range")
        return
    spans = ", ".join(f"{p}:{s}-{e}" for p, (s, e) in sorted(ranges.items()))
    click.echo(f"replayed {topic} [{spans}]: {summary.line()}")


@main.command()
@click.option("--json", "as_json", is_flag=True, help="One JSON object (for scripts).")
@_fail_cleanly
@_needs(Needs(postgres=True))
def stats(as_json: bool) -> None:
    """Counts from the store: ingested, duplicates, analysed, dead letters, chunks."""
    from chirpflow.connectors.postgres.stats import store_stats
    from chirpflow.flows.services import database

    with database(Environment.from_env()) as url:
        data = store_stats(url)
    if as_json:
        click.echo(scrub(orjson.dumps(data, option=orjson.OPT_INDENT_2).decode()))
        return
    from chirpflow.flows.stats_table import render_stats

    render_stats(data)


@main.command("eval")
@click.option("-c", "--config", type=click.Path(dir_okay=False), help=CONFIG_HELP)
@click.option("--task", type=click.Choice(["sentiment", "offensive", "hate"]), required=True)
@click.option(
    "--data",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    required=True,
    help="Folder in TweetEval layout (val_text.txt, val_labels.txt), or its parent.",
)
@click.option(
    "--batch-sizes", default="100", show_default=True, help="Comma-separated, e.g. 1,10,50,100."
)
@click.option("--limit", type=click.IntRange(min=1), help="Only the first N examples.")
@click.option("--analyzer", type=click.Choice(["auto", "offline", "noop", "llm"]))
@click.option("--json", "as_json", is_flag=True, help="One JSON document.")
@stoppable
@_fail_cleanly
@_needs(lambda config, analyzer, **_: Needs(llm=_job_needs(config, analyzer=analyzer).llm))
def eval_cmd(
    config: str | None,
    task: str,
    data: Path,
    batch_sizes: str,
    limit: int | None,
    analyzer: str | None,
    as_json: bool,
) -> None:
    """Score the configured analyzer on labelled tweets before trusting it (and batch 100).

    Prints the task's official metric (macro recall for sentiment, macro F1
    for offensive and hate), the confusion matrix, tokens and dollars per
    1,000 tweets, for each batch size.
    """
    from rich.progress import Progress

    from chirpflow.flows.build import make_analyzer
    from chirpflow.flows.evaluate import evaluate, load_split

    try:
        sizes = [int(x) for x in batch_sizes.split(",") if x.strip()]
    except ValueError:
        raise ChirpflowError(
            f"--batch-sizes {batch_sizes!r}: expected numbers like 1,10,100"
        ) from None
    if not sizes or min(sizes) < 1:
        raise ChirpflowError("--batch-sizes: every size must be at least 1")
    settings = _settings(config)
    if analyzer:
        settings = settings.model_copy(
            update={"analyzer": settings.analyzer.model_copy(update={"kind": analyzer})}
        )
    texts, labels = load_split(data, task)
    if limit:
        texts, labels = texts[:limit], labels[:limit]
    engine = make_analyzer(settings.analyzer, Environment.from_env())
    runs = []
    with Progress(transient=True, disable=as_json) as progress:
        for size in sizes:
            bar = progress.add_task(f"{task} batch {size}", total=len(texts))
            runs.append(evaluate(engine, task, texts, labels, size, partial(progress.advance, bar)))
    doc = {"analyzer": engine.name, "version": engine.version, "runs": runs}
    if as_json:
        click.echo(orjson.dumps(doc, option=orjson.OPT_INDENT_2).decode())
        return
    from chirpflow.flows.stats_table import render_eval

    render_eval(doc)


@main.group()
def dlq() -> None:
    """Dead letters: inspect them and send them through again."""


@dlq.command("list")
@click.option("--reason", help="Only this reason (e.g. malformed_json, analyzer_failed).")
@click.option("--source", help="Only this source.")
@click.option("--limit", type=click.IntRange(min=1), default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True)
@_fail_cleanly
@_needs(Needs(postgres=True))
def dlq_list(reason: str | None, source: str | None, limit: int, as_json: bool) -> None:
    """The newest dead letters, with their reason."""
    from dataclasses import asdict

    from chirpflow.connectors.postgres.dead_letters import list_dead_letters
    from chirpflow.flows.services import database

    with database(Environment.from_env()) as url:
        rows = list_dead_letters(url, reason=reason, source=source, limit=limit)
    if as_json:
        click.echo(
            scrub(orjson.dumps([asdict(r) for r in rows], option=orjson.OPT_INDENT_2).decode())
        )
        return
    for r in rows:
        click.echo(scrub(f"{r.origin}  {r.reason:<16} x{r.attempts}  {r.detail[:80]}"))
    if not rows:
        click.echo("no dead letters")


@dlq.command("show")
@click.argument("origin")
@_fail_cleanly
@_needs(Needs(postgres=True))
def dlq_show(origin: str) -> None:
    """One dead letter in full (ORIGIN as printed by `dlq list`)."""
    from dataclasses import asdict

    from chirpflow.connectors.postgres.dead_letters import get_dead_letter
    from chirpflow.flows.services import database

    with database(Environment.from_env()) as url:
        row = get_dead_letter(url, origin)
    if row is None:
        raise ChirpflowError(f"no dead letter with origin {origin!r}")
    click.echo(scrub(orjson.dumps(asdict(row), option=orjson.OPT_INDENT_2).decode()))


@dlq.command("retry")
@click.option("-c", "--config", type=click.Path(dir_okay=False), help=CONFIG_HELP)
@click.option("--reason", help="Only this reason.")
@click.option("--limit", type=click.IntRange(min=1), default=10_000, show_default=True)
@_fail_cleanly
@_needs(Needs(postgres=True, redis=True))
def dlq_retry(config: str | None, reason: str | None, limit: int) -> None:
    """Validate and analyse dead letters again; the ones that pass leave the queue."""
    from chirpflow.flows.dlq import retry_dead_letters
    from chirpflow.flows.services import database

    env = Environment.from_env()
    with database(env) as url:
        report = retry_dead_letters(url, _settings(config), env, reason, limit)
    click.echo(
        f"tried {report.tried}: {report.resolved} analysed now, "
        f"{report.still_failing} still failing"
    )


@main.group()
def config() -> None:
    """Inspect the configuration."""


@config.command("check")
@click.option("-c", "--config", "path", type=click.Path(dir_okay=False), help=CONFIG_HELP)
@_fail_cleanly
def config_check(path: str | None) -> None:
    """Validate the TOML, show the effective settings (secrets masked) and the
    environment variables `run` will read for it, each set or not (never its value).

    Exits 2 on an invalid configuration, 1 when a required variable is not set.
    """
    import os

    from chirpflow.flows.env_needs import describe, env_needs, missing

    settings = _settings(path)
    env = Environment.from_env()
    needs = env_needs(settings)
    doc = {
        "config": path or "(defaults)",
        "settings": settings.masked_dump(),
        "environment": env.redacted(),
        "environment_needed": [n.as_dict(os.environ) for n in needs],
    }
    text = orjson.dumps(doc, option=orjson.OPT_INDENT_2).decode()
    click.echo(redact(text, secret_values()))
    click.echo("environment `chirpflow run` reads for this configuration:", err=True)
    click.echo("\n".join(describe(needs, os.environ)), err=True)
    absent = missing(needs, os.environ)
    if absent:
        names = ", ".join(n.name for n in absent)
        click.echo(f"error: configuration valid, but not set in the environment: {names}", err=True)
        sys.exit(1)
    click.echo("configuration OK", err=True)


@main.command()
@click.option("-c", "--config", type=click.Path(dir_okay=False), help=CONFIG_HELP)
def doctor(config: str | None) -> None:
    """Check the configuration and every service it uses, one line per check.

    Connects to PostgreSQL, Redis and Kafka when configured, asks the LLM
    API for its models, confirms tweet API keys are set and their hosts
    answer (no billed call), and asks Discord and Telegram about the
    configured webhook or bot. Exits 1 if any check fails.
    """
    from chirpflow.flows.checks import all_checks, run_checks

    secrets = secret_values()
    try:
        settings = _settings(config)
    except ChirpflowError as err:
        click.echo(f"FAIL config: {redact(str(err), secrets)}")
        sys.exit(1)
    click.echo(f"ok   config: {config or '(defaults)'}")
    results = run_checks(all_checks(settings, Environment.from_env()))
    for name, ok, detail in results:
        click.echo(f"{'ok  ' if ok else 'FAIL'} {name}: {redact(detail, secrets)}")
    failed = [name for name, ok, _ in results if not ok]
    if failed:
        click.echo(f"{len(failed)} check(s) failed", err=True)
        sys.exit(1)


@contextmanager
def _job_store() -> Iterator[JobStore]:
    """The jobs queue in the configured (or embedded) database."""
    from chirpflow.connectors.postgres.jobs import JobStore
    from chirpflow.flows.services import database

    with database(Environment.from_env()) as url:
        store = JobStore(url)
        try:
            yield store
        finally:
            store.close()


@main.command()
@click.option("-c", "--config", type=click.Path(dir_okay=False), help=CONFIG_HELP)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True)
@stoppable
@_fail_cleanly
@_needs(Needs(postgres=True))
def api(config: str | None, host: str, port: int) -> None:
    """Serve the jobs REST API (OpenAPI docs at /docs).

    Clients need a key from `chirpflow api-key create` and see only their own
    jobs (an --admin key sees all). Jobs are done by `chirpflow run` with
    `[jobs] enabled = true`; while none runs, submissions get 503. With
    REDIS_URL set, every replica shares each key's request budget.
    """
    import uvicorn

    from chirpflow.flows.api import create_app

    settings = _settings(config)
    redis_url = Environment.from_env().redis_url  # the per-key budget, shared by replicas
    with _job_store() as store:
        uvicorn.run(
            create_app(store, settings.jobs, redis_url=redis_url, settings=settings),
            host=host,
            port=port,
            log_level="info",
            timeout_graceful_shutdown=max(1, int(SHUTDOWN.timeout_s) - 1),
        )


@main.group("api-key")
def api_key() -> None:
    """API keys for the jobs API."""


@api_key.command("create")
@click.argument("name")
@click.option("--admin", is_flag=True, help="The key sees and cancels every client's jobs.")
@_fail_cleanly
@_needs(Needs(postgres=True))
def api_key_create(name: str, admin: bool) -> None:
    """Create a key for client NAME; it is printed once (only its hash is stored)."""
    with _job_store() as store:
        click.echo(store.keys.create(name, admin))


@api_key.command("list")
@click.option("--all", "show_all", is_flag=True, help="Revoked keys too.")
@_fail_cleanly
@_needs(Needs(postgres=True))
def api_key_list(show_all: bool) -> None:
    """Keys by id and name (the keys themselves are never stored)."""
    with _job_store() as store:
        keys = store.keys.list_keys(include_revoked=show_all)
    for k in keys:
        revoked = f"  revoked {k.revoked_at:%Y-%m-%d %H:%M}" if k.revoked_at else ""
        click.echo(f"{k.id:>5}  {k.name}{'  (admin)' if k.admin else ''}{revoked}")
    if not keys:
        click.echo("no API keys")


@api_key.command("revoke")
@click.argument("key")
@_fail_cleanly
@_needs(Needs(postgres=True))
def api_key_revoke(key: str) -> None:
    """Revoke KEY (its id or name from `api-key list`, or the key itself): 401 from now on."""
    with _job_store() as store:
        k = store.keys.revoke(key)
    click.echo(f"revoked key {k.id} ({k.name})")


@main.group()
def jobs() -> None:
    """On-demand account analyses from the terminal."""


@jobs.command("submit")
@click.argument("username")
@click.option("-c", "--config", type=click.Path(dir_okay=False), help=CONFIG_HELP)
@click.option(
    "--max-tweets",
    type=click.IntRange(min=1),
    default=200,
    show_default=True,
    help="At most [jobs] max_tweets_limit (3200 by default), as for the API.",
)
@click.option("--include-replies", is_flag=True)
@_fail_cleanly
@_needs(Needs(postgres=True))
def jobs_submit(config: str | None, username: str, max_tweets: int, include_replies: bool) -> None:
    """Queue an analysis of USERNAME's latest tweets; prints the job id."""
    import re

    from chirpflow.job_request import parse_job_request

    if not re.fullmatch(USERNAME_PATTERN, username):
        raise click.BadParameter(f"{username!r} is not an X username", param_hint="USERNAME")
    fields = {"username": username, "max_tweets": max_tweets, "include_replies": include_replies}
    req = parse_job_request(fields, _settings(config).jobs.max_tweets_limit)
    with _job_store() as store:
        job = store.create(req.username.lstrip("@"), req.max_tweets, req.include_replies, None)
        if not store.workers.alive():
            click.echo(
                "note: no job worker is running; the job starts when `chirpflow run`"
                " with [jobs] enabled = true does",
                err=True,
            )
    click.echo(job["id"])


@jobs.command("watch")
@click.argument("job_id")
@_fail_cleanly
@_needs(Needs(postgres=True))
def jobs_watch(job_id: str) -> None:
    """Follow a job with a progress bar until it ends; exit 1 if it failed."""
    import time

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from chirpflow.connectors.postgres.jobs import JOB_ENDED

    with (
        _job_store() as store,
        Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn()) as bar,
    ):
        task = bar.add_task(job_id[:8], total=None)
        while True:
            row = store.get(job_id)
            if row is None:
                raise ChirpflowError(f"no job {job_id}")
            total = row["total_tweets"] or row["max_tweets"]
            bar.update(
                task,
                completed=row["processed_tweets"],
                total=total,
                description=f"{job_id[:8]} {row['status']}",
            )
            if row["status"] in JOB_ENDED:
                break
            time.sleep(1)
    click.echo(
        f"{row['status']}: {row['processed_tweets']} tweets"
        + (f" ({row['error']})" if row["error"] else "")
    )
    if row["status"] == "failed":
        sys.exit(1)


@main.group()
def db() -> None:
    """The results database."""


@db.command("migrate")
@_fail_cleanly
@_needs(Needs(postgres=True))
def db_migrate() -> None:
    """Apply pending schema migrations (also done at every start)."""
    from chirpflow.connectors.postgres.migrate import migrate
    from chirpflow.flows.services import database

    with database(Environment.from_env(), apply_migrations=False) as url:
        done = migrate(url)
    for mig in done:
        click.echo(f"applied {mig.version:04d}_{mig.name}")
    if not done:
        click.echo("schema is up to date")


from chirpflow.flows.db_cli import db_shell, db_start, db_stop, db_url  # noqa: E402
from chirpflow.flows.results_cli import export, tweets  # noqa: E402
from chirpflow.flows.ui_cli import ui  # noqa: E402

for _cmd in (db_url, db_start, db_stop, db_shell):
    db.add_command(_cmd)

main.add_command(tweets)
main.add_command(export)
main.add_command(ui)


def _add_alerts_commands() -> None:
    from chirpflow.flows.alerts_cli import alerts

    main.add_command(alerts)


_add_alerts_commands()


def _add_actions() -> None:
    from chirpflow.flows.actions_cli import actions, bot, posts

    main.add_command(actions)
    main.add_command(bot)
    main.add_command(posts)


_add_actions()

if __name__ == "__main__":  # pragma: no cover
    main()
