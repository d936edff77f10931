"""Kafka scenarios: ingest (fake X API -> Kafka) and Kafka -> analysis against a bare consumer."""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import psycopg
from confluent_kafka import Consumer, TopicPartition

from benchmarks.peers import plain_loop
from benchmarks.pg_cpu import cpu_seconds, postmaster
from benchmarks.quix_peer import quix_peer
from chirpflow.connectors.embedded.kafka import EmbeddedKafka
from chirpflow.connectors.embedded.ports import free_ports
from chirpflow.connectors.embedded.postgres import ensure_database
from chirpflow.connectors.kafka.producer import SafeProducer
from chirpflow.connectors.sources.synthetic import SyntheticTweets
from chirpflow.flows.ingest import run_ingest
from chirpflow.flows.job import run_job
from chirpflow.settings import Environment, settings_from_dict
from tests.fakes import x_server

TOPIC = "bench.raw"


def ingest(n: int, url: str | None) -> dict[str, Any]:
    """A fake X API v2 search (100 tweets per page over HTTP) -> normalize -> Kafka."""
    n = min(n, 50_000)
    fake = x_server.FakeX(limit=10**9)
    fake.store.post("bench", "benchmark tweet", n)
    with (
        tempfile.TemporaryDirectory() as home,
        EmbeddedKafka() as bootstrap,
        x_server.running(fake) as (fake, api),
    ):
        os.environ["X_BEARER_TOKEN"] = fake.token
        cfg = settings_from_dict(
            {
                "sources": [
                    {
                        "name": "x",
                        "type": "x",
                        "base_url": api,
                        "searches": ["benchmark"],
                        "backfill_pages": n // 100 + 1,
                    }
                ],
                "ingest": {"topic": "bench.ingest", "partitions": 1},
            }
        )
        env = Environment(None, None, bootstrap, None, None, Path(home))
        started = time.perf_counter()
        run_ingest(cfg, env, limit=n, recovery=False)
        elapsed = time.perf_counter() - started
    return {
        "tweets": n,
        "seconds": elapsed,
        "tweets_per_s": n / elapsed,
        "api_requests": len(fake.requests),
    }


def _fill(bootstrap: str, topic: str, n: int, seed: int, keys: int = 1) -> None:
    """``n`` synthetic tweets into ``topic``, spread over ``keys`` message keys."""
    gen = SyntheticTweets(seed=seed, duplicate_ratio=0.0)
    producer = SafeProducer(bootstrap)
    for start in range(0, n, 10_000):
        for i, p in enumerate(gen.batch(start, min(10_000, n - start))):
            producer.produce(topic, str(i % keys), orjson.dumps(p))
        producer.flush()


def _bare(bootstrap: str, n: int) -> float:
    """Seconds for a plain consumer to read and decode the n messages."""
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": "bare", "enable.auto.commit": False})
    c.assign([TopicPartition(TOPIC, 0, 0)])
    got = 0
    started = time.perf_counter()
    while got < n:
        for m in c.consume(1000, timeout=1.0):
            if m.error() is None:
                orjson.loads(m.value() or b"{}")
                got += 1
    elapsed = time.perf_counter() - started
    c.close()
    return elapsed


def _metered(url: str, run: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """``run()``'s figures plus the CPU seconds PostgreSQL spent meanwhile."""
    server = postmaster(url)
    before = cpu_seconds(server)
    result = run()
    pg_cpu = cpu_seconds(server) - before
    with psycopg.connect(url) as conn:  # every peer must have stored every tweet
        row = conn.execute("SELECT count(*) FROM tweets").fetchone()
    return {**result, "pg_cpu_s": pg_cpu, "stored": row[0] if row else 0}


def _flow(url: str, env: Environment, n: int) -> dict[str, Any]:
    """chirpflow on the topic: steady state from the first message read to the job's end."""
    cfg = settings_from_dict({"analyzer": {"kind": "noop"}, "sinks": {"console": False}})
    since = datetime.now(UTC)
    started, cpu0 = time.perf_counter(), time.process_time()
    summary = run_job(cfg, env, source_spec=f"kafka:{TOPIC}", limit=n, recovery=False, live=False)
    ended = datetime.now(UTC)
    flow_s = time.perf_counter() - started
    cpu = time.process_time() - cpu0
    with psycopg.connect(url) as conn:  # a tweet's fetched_at is when it was read from Kafka
        row = conn.execute(
            "SELECT min(fetched_at) FROM tweets WHERE fetched_at >= %s", (since,)
        ).fetchone()
    first = row[0] if row and row[0] else since
    steady_s = (ended - first).total_seconds()
    return {
        "tweets": summary.arrivals,
        "analyzed": summary.analyzed,
        "seconds": flow_s,
        "steady_seconds": steady_s,
        "tweets_per_s": summary.arrivals / steady_s,
        "cpu_us_per_tweet": cpu / max(1, summary.arrivals) * 1e6,
    }


def kafka_pipeline(n: int, url: str | None) -> dict[str, Any]:
    """The same topic read by a bare consumer, the peers and the flow (no-op, PostgreSQL).

    Every peer writes to a database of its own on the same server; speeds run
    from the first message to the last commit; CPU is per tweet, in the
    measuring process and in PostgreSQL.
    """
    assert url
    n = min(n, 300_000)
    kafka = EmbeddedKafka()
    with tempfile.TemporaryDirectory() as home, kafka as bootstrap:
        kafka.create_topic(TOPIC, 1)
        _fill(bootstrap, TOPIC, n, seed=9)
        bare_s = _bare(bootstrap, n)
        plain_url = ensure_database(url, "bench_plain")
        plain = _metered(plain_url, lambda: plain_loop(bootstrap, plain_url, TOPIC, 1, n))
        quix_url = ensure_database(url, "bench_quix")
        quix = _metered(quix_url, lambda: quix_peer(bootstrap, quix_url, TOPIC, n))
        env = Environment(url, None, bootstrap, None, None, Path(home))
        flow = _metered(url, lambda: _flow(url, env, n))
    tps = flow["tweets_per_s"]
    return {
        "peers": {
            "chirpflow_tps": tps,
            "plain_loop_tps": plain["tweets_per_s"],
            "quix_tps": quix["tweets_per_s"],
            "ratio_plain": tps / plain["tweets_per_s"],
            "ratio_quix": tps / quix["tweets_per_s"],
            "chirpflow_cpu_us_per_tweet": flow["cpu_us_per_tweet"],
            "plain_loop_cpu_us_per_tweet": plain["cpu_us_per_tweet"],
            "quix_cpu_us_per_tweet": quix["cpu_us_per_tweet"],
            "chirpflow_pg_cpu_us_per_tweet": flow["pg_cpu_s"] / n * 1e6,
            "plain_loop_pg_cpu_us_per_tweet": plain["pg_cpu_s"] / n * 1e6,
            "quix_pg_cpu_us_per_tweet": quix["pg_cpu_s"] / n * 1e6,
            "tweets_stored": {
                "chirpflow": flow["stored"],
                "plain_loop": plain["stored"],
                "quix": quix["stored"],
            },
        },
        "tweets": flow["tweets"],
        "analyzed": flow["analyzed"],
        "seconds": flow["seconds"],
        "steady_seconds": flow["steady_seconds"],
        "tweets_per_s": tps,
        "bare_consumer_tweets_per_s": n / bare_s,
        "vs_bare_consumer": tps / (n / bare_s),
    }


def _replay_processes(
    bootstrap: str, url: str, topic: str, processes: int, home: Path
) -> tuple[float, list[dict[str, int]]]:
    """Seconds for ``processes`` chirpflow processes (one Bytewax cluster) to replay the
    topic, and what each process's sinks wrote (its final summary line)."""
    import subprocess
    import sys

    addresses = ";".join(f"127.0.0.1:{p}" for p in free_ports(processes))
    cfg = home / "bench.toml"
    # chunked by author: the chunk key is what spreads analysis over the workers
    cfg.write_text(
        "[analyzer]\nkind = 'noop'\n[pipeline]\nchunk_key = 'author'\n[sinks]\nconsole = false\n"
    )
    base = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "CHIRPFLOW_CONFIG")}
    base.update(DATABASE_URL=url, KAFKA_BOOTSTRAP_SERVERS=bootstrap, CHIRPFLOW_CONFIG=str(cfg))
    procs = []
    started = time.perf_counter()
    for pid in range(processes):
        env = {**base, "CHIRPFLOW_HOME": str(home / f"p{processes}-{pid}")}
        if processes > 1:
            env.update(CHIRPFLOW_ADDRESSES=addresses, CHIRPFLOW_PROCESS_ID=str(pid))
        procs.append(
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "chirpflow.flows.cli",
                    "replay",
                    "--topic",
                    topic,
                    "--from-beginning",
                    "--quiet",
                ],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
        )
    written = []
    for p in procs:
        out, err = p.communicate(timeout=1800)
        if p.returncode != 0:
            raise RuntimeError(f"replay process failed: {err[-2000:]}")
        written.append(_written(out))
    return time.perf_counter() - started, written


def _written(out: str) -> dict[str, int]:
    """Rows and chunks from a replay's summary line (``analysed N  stored (not analysed) N
    dup N  dead N  chunks N``; the stored part only when there are such tweets: noop)."""
    import re

    found = dict(
        re.findall(
            r"(analysed|stored \(not analysed\)|dup|dead|chunks) ([\d,]+)",
            [x for x in out.splitlines() if "analysed" in x][-1],
        )
    )
    n = {k: int(v.replace(",", "")) for k, v in found.items()}
    stored = n.get("stored (not analysed)", 0)
    return {"rows": n["analysed"] + stored + n["dup"] + n["dead"], "chunks": n["chunks"]}


def cluster(n: int, url: str | None) -> dict[str, Any]:
    """Kafka (4 partitions) -> analysis (no-op) -> PostgreSQL with 1 and with 2 processes."""
    assert url
    import psycopg

    n = min(n, 400_000)
    kafka = EmbeddedKafka()
    with tempfile.TemporaryDirectory() as home, kafka as bootstrap:
        kafka.create_topic("bench.cluster", 4)
        _fill(bootstrap, "bench.cluster", n, seed=11, keys=64)
        from chirpflow.connectors.postgres.migrate import migrate

        migrate(url)
        times: dict[int, float] = {}
        per_process: list[dict[str, int]] = []
        for processes in (1, 2):
            with psycopg.connect(url, autocommit=True) as conn:  # a fresh store per run
                conn.execute(
                    "TRUNCATE tweets, analyses, chunks, duplicates, dead_letters, source_progress"
                )
            times[processes], per_process = _replay_processes(
                bootstrap, url, "bench.cluster", processes, Path(home)
            )
    one, two = n / times[1], n / times[2]
    return {
        "tweets": n,
        "tweets_per_s": two,
        "one_process_tweets_per_s": one,
        "two_processes_tweets_per_s": two,
        "two_vs_one": two / one,
        # each of the 2 processes: rows its sinks wrote and chunks analysed (target 40-60%)
        "rows_per_process": [p["rows"] for p in per_process],
        "chunks_per_process": [p["chunks"] for p in per_process],
        "rows_share_max": max(p["rows"] for p in per_process) / max(n, 1),
    }
