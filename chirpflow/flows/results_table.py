"""Stored tweets and their analyses as a readable terminal table (``chirpflow tweets``).

A tweet stored without an analysis (noop) shows with empty analysis columns."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

_SENTIMENT_STYLE = {"negative": "red", "neutral": "dim", "positive": "green"}


def _short(text: str, width: int = 70) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def render_tweets(
    rows: list[dict[str, Any]], page: int | None, console: Console | None = None
) -> None:
    """``page`` None: a page after a cursor."""
    console = console or Console()
    where = f"page {page}" if page else "after the cursor"
    if not rows:
        console.print("no analysed posts match" + (f" ({where})" if page != 1 else ""))
        return
    table = Table(title=f"analysed posts, newest first ({where})", show_lines=True)
    for col, opts in (
        ("when (UTC)", {"min_width": 10}),
        ("author", {"no_wrap": True}),
        ("text / link", {"overflow": "fold", "ratio": 1, "min_width": 30}),
        ("sentiment", {}),
        ("risk", {"justify": "right"}),
        ("flags", {}),
        ("topics", {}),
    ):
        table.add_column(col, **opts)
    for r in rows:
        sentiment = r["sentiment"] or ""  # none: stored, not analysed
        table.add_row(
            r["created_at"].strftime("%Y-%m-%d %H:%M"),
            escape("@" + r["author_username"] if r["author_username"] else r["author_id"])
            + f"\n[dim]{escape(r['platform'])}[/]",
            escape(_short(r["text"])) + f"\n[dim]{escape(r['url'] or '')}[/]",
            f"[{_SENTIMENT_STYLE.get(sentiment, '')}]{sentiment}[/]",
            "" if r["risk"] is None else str(r["risk"]),
            escape(", ".join(r["flags"])),
            escape(", ".join(r["topics"][:3])),
        )
    console.print(table)
