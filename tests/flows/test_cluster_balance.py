"""A 2-process cluster shares the sink writes and the LLM calls: each process
does 40-60% of each (no single-worker step)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import orjson
from confluent_kafka import Producer

from chirpflow.connectors.embedded.kafka import EmbeddedKafka
from chirpflow.connectors.embedded.ports import free_ports
from tests.factories import payload
from tests.fakes.llm_server import FakeLLM, running
from tests.flows.helpers import scalar

CLI = [sys.executable, "-m", "chirpflow.flows.cli"]
_FOREIGN = ("REDIS_URL", "CHIRPFLOW_CONFIG", "OPENAI_API_KEY", "OPENAI_BASE_URL", "DATABASE_URL")
AUTHORS = 32


def _share(part: int, total: int) -> float:
    return part / total if total else 0.0


def test_two_processes_each_write_and_analyse_about_half(
    tmp_path: Path, pg_url: str, kafka_broker: EmbeddedKafka
) -> None:
    kafka_broker.create_topic("balance.raw", 4)
    producer = Producer({"bootstrap.servers": kafka_broker.bootstrap})
    n = 3200
    for i in range(n):
        doc = payload(i, text=f"launch {i} #ai", author_id=str(1000 + i % AUTHORS))
        producer.produce("balance.raw", key=f"k{i % 8}".encode(), value=orjson.dumps(doc))
    producer.flush(30)
    addresses = ";".join(f"127.0.0.1:{p}" for p in free_ports(2))
    cfg = tmp_path / "c.toml"
    cfg.write_text(
        "[analyzer]\nkind = 'auto'\nmodel = 'gpt-test'\n"
        "[pipeline]\nchunk_key = 'author'\nchunk_size = 25\nmax_wait = '1s'\n"
        "snapshot_interval = '1s'\n"
    )
    with running(FakeLLM()) as (_fake, url):
        procs = []
        for pid in (0, 1):
            env = {k: v for k, v in os.environ.items() if k not in _FOREIGN}
            env.update(
                DATABASE_URL=pg_url,
                KAFKA_BOOTSTRAP_SERVERS=kafka_broker.bootstrap,
                CHIRPFLOW_HOME=str(tmp_path / f"home{pid}"),
                CHIRPFLOW_CONFIG=str(cfg),
                CHIRPFLOW_ADDRESSES=addresses,
                CHIRPFLOW_PROCESS_ID=str(pid),
                OPENAI_API_KEY="sk-test",
                OPENAI_BASE_URL=url,
            )
            procs.append(
                subprocess.Popen(
                    [*CLI, "replay", "--topic", "balance.raw", "--from-beginning"],
                    env=env,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    text=True,
                )
            )
        outs = []
        for proc in procs:
            out, err = proc.communicate(timeout=180)
            assert proc.returncode == 0, err
            outs.append(out)
    assert scalar(pg_url, "SELECT count(*) FROM analyses") == n, outs
    # rows each process's sink partitions wrote: its final summary line
    written = [int(re.findall(r"analysed ([\d,]+)", o)[-1].replace(",", "")) for o in outs]
    assert sum(written) == n, outs
    # LLM calls each process made: the spend ledger stamps each call with its run id
    with_calls = scalar(pg_url, "SELECT count(DISTINCT run_id) FROM llm_spend")
    calls = scalar(pg_url, "SELECT count(*) FROM llm_spend")
    most = scalar(
        pg_url,
        "SELECT max(c) FROM (SELECT count(*) AS c FROM llm_spend GROUP BY run_id) AS per_run",
    )
    print("rows per process", written, "calls", calls, "most calls by one", most)
    assert with_calls == 2
    assert all(0.4 <= _share(w, n) <= 0.6 for w in written), written
    assert 0.4 <= _share(most, calls) <= 0.6, (most, calls)
