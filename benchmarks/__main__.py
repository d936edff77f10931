"""Run the benchmark scenarios and print one JSON document.

Usage: ``python -m benchmarks [--n 1000000] [--only a,b] [--out FILE]``.
Each pipeline runs against a fresh database of a throwaway embedded
PostgreSQL; figures are ratios against baselines measured in the same run.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import orjson

from benchmarks.scenarios import SCENARIOS
from chirpflow.connectors.embedded.postgres import EmbeddedPostgres, ensure_database


def _run(name: str, n: int, url: str | None) -> dict[str, Any]:
    print(f"[bench] {name} n={n:,} ...", file=sys.stderr, flush=True)
    args = [sys.executable, "-m", "benchmarks.scenarios", name, str(n)]
    if url:
        args.append(url)
    proc = subprocess.run(args, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"scenario {name} failed:\n{proc.stderr[-4000:]}")
    result: dict[str, Any] = orjson.loads(proc.stdout.strip().splitlines()[-1])
    print(
        f"[bench] {name}: {result['tweets_per_s']:,.0f} tweets/s, "
        f"peak RSS {result['peak_rss_mb']:,.0f} MB",
        file=sys.stderr,
        flush=True,
    )
    return result


def _targets(results: dict[str, Any], ratios: dict[str, float]) -> dict[str, bool]:
    """Each target whose scenarios ran in this invocation: met or not."""
    t: dict[str, bool] = {
        "peak_rss_mb<1024": all(
            r["peak_rss_mb"] < 1024 for k, r in results.items() if k != "dedup_state"
        )
    }
    if "dedup_state" in results:  # the compact id set against the old Python set
        d = results["dedup_state"]
        t["dedup_bytes_per_id<=16"] = d["bytes_per_id"] <= 16
        t["dedup_add_not_slower_than_old_set"] = d["add_speed_vs_old_set"] >= 1.0
    if "pipeline_noop" in results:
        t["noop_pipeline_tweets_per_s>=50000"] = results["pipeline_noop"]["tweets_per_s"] >= 50_000
    if "offline_pipeline_vs_analyzer" in ratios:
        t["offline_pipeline_vs_analyzer>=0.6"] = ratios["offline_pipeline_vs_analyzer"] >= 0.6
    for name in ("llm_2s", "llm_15s"):
        if name in results:
            r = results[name]
            t[f"{name}_steady>=0.9_of_ceiling"] = r["steady_vs_ceiling"] >= 0.9
            t[f"{name}_429_share<0.01"] = r["http_429_share"] < 0.01
            t[f"{name}_batched_prompt_tokens_5x_fewer"] = r["single_vs_batched_tokens"] >= 5
            t[f"{name}_second_pass_calls==0"] = r["second_pass_llm_calls"] == 0
    if "kafka_pipeline" in results:
        t["kafka_pipeline_vs_bare_consumer>=0.5"] = (
            results["kafka_pipeline"]["vs_bare_consumer"] >= 0.5
        )
        peers = results["kafka_pipeline"]["peers"]
        t["kafka_pipeline_vs_plain_loop>=1.0"] = peers["ratio_plain"] >= 1.0
        t["kafka_pipeline_vs_quix>=1.5"] = peers["ratio_quix"] >= 1.5
    if "pg_sink" in results:
        t["pg_sink_rows_per_s>=50000"] = results["pg_sink"]["rows_per_s"] >= 50_000
    return t


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--n", type=int, default=1_000_000, help="synthetic tweets per scenario")
    parser.add_argument("--only", help=f"comma-separated subset of {','.join(SCENARIOS)}")
    parser.add_argument("--out", type=Path, help="also write the JSON here")
    args = parser.parse_args()
    chosen = args.only.split(",") if args.only else list(SCENARIOS)
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="chirpflow-bench-") as tmp:
        pg = EmbeddedPostgres(Path(tmp) / "pg", durable=True)
        server = pg.start()
        try:
            for name in chosen:
                url = (
                    ensure_database(server, f"bench_{name}")
                    if name.startswith(
                        ("pipeline", "llm", "pg_", "notify", "kafka", "cluster", "jobs", "export")
                    )
                    else None
                )
                results[name] = _run(name, args.n, url)
        finally:
            pg.stop()
    ratios: dict[str, float] = {}
    if "pipeline_noop" in results and "source_alone" in results:
        ratios["noop_pipeline_vs_source"] = (
            results["pipeline_noop"]["tweets_per_s"] / results["source_alone"]["tweets_per_s"]
        )
    if "pipeline_offline" in results and "analyzer_alone" in results:
        ratios["offline_pipeline_vs_analyzer"] = (
            results["pipeline_offline"]["tweets_per_s"] / results["analyzer_alone"]["tweets_per_s"]
        )
    for name in ("llm_2s", "llm_15s"):
        if name in results:
            r = results[name]
            ratios[f"{name}_steady_vs_ceiling"] = r["steady_vs_ceiling"]
            ratios[f"{name}_single_vs_batched_prompt_tokens"] = r["single_vs_batched_tokens"]
    if "jobs" in results:
        ratios["jobs_vs_ideal"] = results["jobs"]["vs_ideal"]
        ratios["jobs_speedup_vs_one_chunk_at_a_time"] = results["jobs"][
            "speedup_vs_one_chunk_at_a_time"
        ]
    if "cluster" in results:
        ratios["cluster_two_vs_one_process"] = results["cluster"]["two_vs_one"]
    if "kafka_pipeline" in results:
        ratios["kafka_pipeline_vs_bare_consumer"] = results["kafka_pipeline"]["vs_bare_consumer"]
    targets = _targets(results, ratios)
    doc = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "n": args.n,
        "scenarios": results,
        "ratios": ratios,
        "targets_met": targets,
    }
    if "kafka_pipeline" in results:  # chirpflow and its peers on the same topic and store
        doc["peers"] = results["kafka_pipeline"]["peers"]
    text = orjson.dumps(doc, option=orjson.OPT_INDENT_2).decode()
    print(text)
    if args.out:
        args.out.write_text(text)


if __name__ == "__main__":
    main()
