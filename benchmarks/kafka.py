"""Kafka scenarios: ingest (fake X API -> Kafka) and Kafka -> analysis against a bare consumer."""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path
from typing import Any

import orjson
from confluent_kafka import Consumer, TopicPartition

from benchmarks.peers import plain_loop
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


def kafka_pipeline(n: int, url: str | None) -> dict[str, Any]:
    """The same topic read by a bare consumer and by the flow (no-op analyzer, PostgreSQL)."""
    assert url
    n = min(n, 300_000)
    kafka = EmbeddedKafka()
    with tempfile.TemporaryDirectory() as home, kafka as bootstrap:
        kafka.create_topic(TOPIC, 1)
        _fill(bootstrap, TOPIC, n, seed=9)
        bare_s = _bare(bootstrap, n)
        plain = plain_loop(bootstrap, ensure_database(url, "bench_plain"), TOPIC, 1, n)
        env = Environment(url, None, bootstrap, None, None, Path(home))
        cfg = settings_from_dict({"analyzer": {"kind": "noop"}, "sinks": {"console": False}})
        # steady state, as the peers: from the first message read to the last
        # write flushed (run_job returns once the sinks are closed), no start-up
        first_read: list[float] = []

        def on_read(_stream: str, _n: int) -> None:
            if not first_read:
                first_read.append(time.perf_counter())

        started, cpu0 = time.perf_counter(), time.process_time()
        summary = run_job(
            cfg,
            env,
            source_spec=f"kafka:{TOPIC}",
            limit=n,
            recovery=False,
            live=False,
            on_read=on_read,
        )
        ended = time.perf_counter()
        flow_s = ended - (first_read[0] if first_read else started)
        startup_s = (first_read[0] if first_read else started) - started
        flow_cpu = time.process_time() - cpu0
    tps = summary.arrivals / flow_s
    return {
        "peers": {
            "chirpflow_tps": tps,
            "plain_loop_tps": plain["tweets_per_s"],
            "quix_tps": None,  # not measured yet
            "ratio_plain": tps / plain["tweets_per_s"],
            "ratio_quix": None,
            "chirpflow_cpu_us_per_tweet": flow_cpu / max(1, summary.arrivals) * 1e6,
            "plain_loop_cpu_us_per_tweet": plain["cpu_us_per_tweet"],
        },
        "tweets": summary.arrivals,
        "analyzed": summary.analyzed,
        "seconds": flow_s,
        "startup_seconds": startup_s,
        "tweets_per_s": summary.arrivals / flow_s,
        "bare_consumer_tweets_per_s": n / bare_s,
        "vs_bare_consumer": (summary.arrivals / flow_s) / (n / bare_s),
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
    """Rows and chunks from a replay's summary line (``analysed N  dup N  dead N  chunks N``)."""
    import re

    found = dict(
        re.findall(
            r"(analysed|dup|dead|chunks) ([\d,]+)",
            [x for x in out.splitlines() if "analysed" in x][-1],
        )
    )
    n = {k: int(v.replace(",", "")) for k, v in found.items()}
    return {"rows": n["analysed"] + n["dup"] + n["dead"], "chunks": n["chunks"]}


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
