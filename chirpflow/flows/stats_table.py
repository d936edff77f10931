"""Human-readable ``chirpflow stats``."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table


def render_stats(data: dict[str, Any], console: Console | None = None) -> None:
    console = console or Console()
    table = Table(title="chirpflow store", show_header=False, box=None, pad_edge=False)
    table.add_column("what", style="bold")
    table.add_column("value", justify="right")
    ingested = data["tweets_ingested"] or 0
    for label, key in (
        ("tweets ingested", "tweets_ingested"),
        ("analysed", "analyzed"),
        ("stored (not analysed)", "stored_not_analysed"),
        ("duplicates", "duplicates"),
        ("dead letters", "dead_letters"),
        ("chunks", "chunks"),
        ("flagged", "flagged"),
    ):
        value = data.get(key, 0)
        share = (
            f"  ({100 * value / ingested:.1f}%)" if ingested and key != "tweets_ingested" else ""
        )
        table.add_row(label, f"{value:,}{share}")
    mix = data.get("sentiment") or {}
    total = sum(mix.values()) or 1
    table.add_row(
        "sentiment",
        "  ".join(f"{k} {100 * v / total:.0f}%" for k, v in sorted(mix.items())) or "-",
    )
    for reason, n in (data.get("dead_letters_by_reason") or {}).items():
        table.add_row(f"  dead: {reason}", f"{n:,}")
    for key, n in sorted((data.get("actions") or {}).items()):
        table.add_row(f"  drafts: {key}", f"{n:,}")
    table.add_row("LLM cost (lifetime)", f"${data['llm_cost_usd']:.4f}")
    for run in (data.get("runs") or [])[:5]:  # newest first, each run's own spend
        table.add_row(
            f"  run {run['run_id']}",
            f"{run['llm_requests']:,} LLM requests  {run['cache_hits']:,} cached"
            f"  ${run['llm_cost_usd'] + run['source_cost_usd']:.4f}",
        )
    table.add_row("LLM $ per 1,000 tweets", f"${data['cost_per_1k_tweets_usd']:.4f}")
    for provider, u in (data.get("providers") or {}).items():
        table.add_row(
            f"API {provider}",
            f"{u['requests']:,} requests  {u['tweets']:,} tweets  ${u['cost_usd']:.4f}",
        )
    for channel, counts in (data.get("alerts") or {}).items():
        shown = "  ".join(f"{k} {v:,}" for k, v in counts.items() if v)
        table.add_row(f"alerts {channel}", shown or "-")
    table.add_row("total $ per 1,000 tweets", f"${data.get('total_cost_per_1k_tweets_usd', 0):.4f}")
    console.print(table)


def render_eval(doc: dict[str, Any], console: Console | None = None) -> None:
    console = console or Console()
    runs = doc["runs"]
    table = Table(title=f"{doc['analyzer']} ({doc['version']}) on {runs[0]['task']}")
    for col in ("batch", runs[0]["metric"], "failed", "requests", "prompt tok/1k", "$ / 1k"):
        table.add_column(col, justify="right")
    for r in runs:
        table.add_row(
            str(r["batch_size"]),
            f"{r['score']:.3f}",
            str(r["failed"]),
            str(r["requests"]),
            f"{r['prompt_tokens_per_1k']:,.0f}",
            f"${r['usd_per_1k']:.4f}",
        )
    console.print(table)
    console.print(confusion_table(runs[-1]))


def confusion_table(run: dict[str, Any]) -> Table:
    """Rows are the gold labels, columns the predicted ones, both named."""
    labels = run["labels"]
    table = Table(title=f"confusion, batch {run['batch_size']}")
    table.add_column("gold \\ predicted", style="bold")
    for name in labels:
        table.add_column(name, justify="right")
    for name, row in zip(labels, run["confusion"], strict=True):
        table.add_row(name, *(f"{n:,}" for n in row))
    return table
