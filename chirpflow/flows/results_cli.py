"""``chirpflow tweets`` and ``chirpflow export``: what the store learned, for people and scripts."""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
import orjson

from chirpflow.flows.cli_support import fail_cleanly
from chirpflow.model import RiskFlag, Sentiment
from chirpflow.platforms import PLATFORMS
from chirpflow.settings import DURATION_FORM, Environment, parse_duration


def _when(value: str | None, flag: str) -> datetime | None:
    """``1h`` (that long ago) or an ISO time (UTC unless it says otherwise)."""
    if value is None:
        return None
    try:
        return datetime.now(UTC) - parse_duration(value)
    except ValueError:
        pass
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(
            f"{value!r} is neither {DURATION_FORM} nor an ISO time", param_hint=flag
        ) from None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def filter_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """The filters ``tweets`` and ``export`` share (applied in reverse for --help order)."""
    options = [
        click.option("--since", metavar="AGE|ISO", help="Only newer: '1h', '7d' or an ISO time."),
        click.option("--until", metavar="AGE|ISO", help="Only older than this."),
        click.option("--source", help="Only this source (e.g. synthetic, x_api)."),
        click.option("--watch", help="Only this watched search/account."),
        click.option("--sentiment", type=click.Choice([s.value for s in Sentiment])),
        click.option("--min-risk", type=click.IntRange(0, 100), help="Risk at least this."),
        click.option("--flag", type=click.Choice([f.value for f in RiskFlag])),
        click.option("--flagged", is_flag=True, help="Any flag, or risk >= 50."),
        click.option("--topic", help="Has this topic (case-insensitive)."),
        click.option("--search", "text", metavar="TEXT", help="Text contains (case-insensitive)."),
        click.option("--author", metavar="USERNAME", help="Only this author."),
        click.option("--platform", type=click.Choice(PLATFORMS), help="Only this platform."),
    ]
    for opt in reversed(options):
        fn = opt(fn)
    return fn


def make_filter(**kw: Any) -> Any:
    from chirpflow.connectors.postgres.results import TweetFilter

    return TweetFilter(
        since=_when(kw["since"], "--since"),
        until=_when(kw["until"], "--until"),
        source=kw["source"],
        watch=kw["watch"],
        sentiment=Sentiment(kw["sentiment"]) if kw["sentiment"] else None,
        min_risk=kw["min_risk"],
        flag=RiskFlag(kw["flag"]) if kw["flag"] else None,
        flagged=kw["flagged"],
        topic=kw["topic"],
        text=kw["text"],
        author=kw["author"],
        platform=kw["platform"],
    )


@click.command()
@filter_options
@click.option("--limit", type=click.IntRange(1, 10_000), default=20, show_default=True)
@click.option("--page", type=click.IntRange(min=1), default=1, show_default=True)
@click.option(
    "--after",
    metavar="CURSOR",
    help="The page after this cursor (printed after each page; stable while posts arrive).",
)
@click.option("--json", "as_json", is_flag=True, help="A JSON array (for scripts).")
@click.option("--csv", "as_csv", is_flag=True, help="CSV with a header row.")
@fail_cleanly
def tweets(
    limit: int, page: int, after: str | None, as_json: bool, as_csv: bool, **filters: Any
) -> None:
    """Analysed posts from the store, newest first, with their analysis.

    After a full page, the cursor of the next one goes to stderr: `next: --after CURSOR`.
    """
    from chirpflow.connectors.postgres.cursor import Cursor
    from chirpflow.connectors.postgres.results import TWEET_COLUMNS, tweet_page
    from chirpflow.flows.services import database

    if as_json and as_csv:
        raise click.UsageError("--json and --csv exclude each other")
    if after is not None and page != 1:
        raise click.UsageError("--after and --page exclude each other")
    cursor = Cursor.decode(after) if after is not None else None
    f = make_filter(**filters)
    with database(Environment.from_env()) as url:
        result = tweet_page(url, f, limit=limit, page=page, after=cursor)
    rows = result.rows
    if as_json:
        click.echo(orjson.dumps(rows, option=orjson.OPT_INDENT_2).decode())
    elif as_csv:
        from chirpflow.flows.file_writers import CsvWriter

        CsvWriter(sys.stdout, TWEET_COLUMNS).write(rows)
    else:
        from chirpflow.flows.results_table import render_tweets

        render_tweets(rows, page if cursor is None else None)
    if result.next:
        click.echo(f"next: --after {result.next}", err=True)


@click.command()
@click.option("--what", type=click.Choice(["tweets", "dead-letters", "alerts"]), default="tweets")
@click.option("--format", "fmt", type=click.Choice(["csv", "jsonl", "parquet"]), required=True)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True)
@filter_options
@click.option("--quiet", is_flag=True, help="No progress bar.")
@fail_cleanly
def export(what: str, fmt: str, out: Path, quiet: bool, **filters: Any) -> None:
    """Write every matching row to a file, streamed (constant memory).

    \b
    tweets: one row per tweet with its analysis (all filters apply);
    dead-letters and alerts: --since/--until (and --source for dead letters).
    """
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    from chirpflow.connectors.postgres.results import COLUMNS, count, stream
    from chirpflow.flows.file_writers import open_writer, write_all
    from chirpflow.flows.services import database

    f = make_filter(**filters)
    writer = open_writer(fmt, out, COLUMNS[what])  # type: ignore[arg-type, index]
    with database(Environment.from_env()) as url:
        total = count(url, what, f)  # type: ignore[arg-type]
        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            disable=quiet,
            transient=False,
        ) as bar:
            task = bar.add_task(f"{what} -> {out.name}", total=total)

            def tracked() -> Any:
                for rows in stream(url, what, f):  # type: ignore[arg-type]
                    yield rows
                    bar.advance(task, len(rows))

            n = write_all(writer, tracked())
    click.echo(f"wrote {n:,} {what} to {out}", err=True)
