"""The analysis flow as a 2-process Bytewax cluster over a 4-partition topic of the real broker."""

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
from chirpflow.flows.cluster import cluster_place
from tests.factories import payload
from tests.flows.helpers import scalar

CLI = [sys.executable, "-m", "chirpflow.flows.cli"]
_FOREIGN = ("REDIS_URL", "CHIRPFLOW_CONFIG", "OPENAI_API_KEY", "OPENAI_BASE_URL", "DATABASE_URL")


def test_cluster_place_from_kubernetes_and_plain_variables() -> None:
    k8s = cluster_place(
        {
            "BYTEWAX_POD_NAME": "chirpflow-2",
            "BYTEWAX_REPLICAS": "3",
            "BYTEWAX_PEERS_SERVICE": "peers",
            "BYTEWAX_PORT": "9999",
        }
    )
    assert k8s.process_id == 2
    assert k8s.addresses == [f"chirpflow-{i}.peers:9999" for i in range(3)]
    plain = cluster_place({"CHIRPFLOW_ADDRESSES": "a:1;b:2", "CHIRPFLOW_PROCESS_ID": "1"})
    assert (plain.process_id, plain.addresses) == (1, ["a:1", "b:2"])
    assert cluster_place({}).addresses is None


def test_two_processes_store_every_tweet_exactly_once(
    tmp_path: Path, pg_url: str, kafka_broker: EmbeddedKafka
) -> None:
    kafka_broker.create_topic("cluster.raw", 4)
    producer = Producer({"bootstrap.servers": kafka_broker.bootstrap})
    for i in range(2000):
        producer.produce("cluster.raw", key=f"k{i % 8}".encode(), value=orjson.dumps(payload(i)))
    producer.flush(30)
    addresses = ";".join(f"127.0.0.1:{p}" for p in free_ports(2))
    cfg = tmp_path / "c.toml"
    cfg.write_text(
        "[analyzer]\nkind = 'offline'\n[pipeline]\nmax_wait = '1s'\nsnapshot_interval = '1s'\n"
    )
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
        )
        procs.append(
            subprocess.Popen(
                [*CLI, "replay", "--topic", "cluster.raw", "--from-beginning", "--quiet"],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
        )
    for proc in procs:
        _, err = proc.communicate(timeout=180)
        assert proc.returncode == 0, err
    assert scalar(pg_url, "SELECT count(*) FROM tweets") == 2000
    assert scalar(pg_url, "SELECT count(*) FROM analyses") == 2000
    assert scalar(pg_url, "SELECT count(DISTINCT chunk_id) FROM tweets") == scalar(
        pg_url, "SELECT count(*) FROM chunks"
    )
    streams = scalar(pg_url, "SELECT count(*) FROM source_progress")
    assert streams == 4  # every partition read, by one process or the other


def test_a_cluster_process_killed_mid_run_loses_nothing_after_restart(
    tmp_path: Path, pg_url: str, kafka_broker: EmbeddedKafka
) -> None:
    import time

    kafka_broker.create_topic("cluster.kill", 4)
    producer = Producer({"bootstrap.servers": kafka_broker.bootstrap})
    n = 30_000
    for i in range(n):
        producer.produce("cluster.kill", key=f"k{i % 8}".encode(), value=orjson.dumps(payload(i)))
        if i % 5000 == 0:
            producer.flush(30)
    producer.flush(30)
    addresses = ";".join(f"127.0.0.1:{p}" for p in free_ports(2))
    cfg = tmp_path / "c.toml"
    cfg.write_text(
        "[analyzer]\nkind = 'offline'\n[pipeline]\nmax_wait = '1s'\nsnapshot_interval = '300ms'\n"
        "source_batch_size = 200\n"
        "[[sources]]\nname = 'kafka'\ntype = 'kafka'\ntopic = 'cluster.kill'\nstop_at_end = true\n"
    )

    def start(pid: int, quiet: bool = True) -> subprocess.Popen[str]:
        env = {k: v for k, v in os.environ.items() if k not in _FOREIGN}
        env.update(
            DATABASE_URL=pg_url,
            KAFKA_BOOTSTRAP_SERVERS=kafka_broker.bootstrap,
            CHIRPFLOW_HOME=str(tmp_path / f"pod{pid}"),
            CHIRPFLOW_CONFIG=str(cfg),
            CHIRPFLOW_ADDRESSES=addresses,
            CHIRPFLOW_PROCESS_ID=str(pid),
        )
        # each process has its own recovery directory, as each pod has its own volume
        args = [*CLI, "run", *(["--quiet"] if quiet else [])]
        return subprocess.Popen(
            args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
        )

    from chirpflow.connectors.postgres.migrate import migrate

    migrate(pg_url)
    procs = [start(0), start(1)]
    deadline = time.monotonic() + 120
    while scalar(pg_url, "SELECT count(*) FROM tweets") < 12_000:
        assert time.monotonic() < deadline and all(p.poll() is None for p in procs)
        time.sleep(0.1)
    procs[1].kill()  # one pod dies; its peer cannot go on without it
    procs[1].communicate()
    try:
        procs[0].communicate(timeout=60)
    except subprocess.TimeoutExpired:
        procs[0].kill()
        procs[0].communicate()
    stored_at_kill = scalar(pg_url, "SELECT count(*) FROM tweets")
    assert stored_at_kill < n  # it really was mid-run
    procs = [start(0, quiet=False), start(1, quiet=False)]  # the StatefulSet brings both back
    reread = 0
    for proc in procs:
        _, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err[-3000:]
        counts = re.findall(r"^\s*([\d,]+) tweets", err, re.M)
        reread += int(counts[-1].replace(",", "")) if counts else 0
    # resumed from the last complete snapshot, not from the start: what the
    # survivor stored after its peer died and the last epochs are read again
    assert 0 < reread < n - 2000
    assert scalar(pg_url, "SELECT count(*) FROM tweets") == n
    assert scalar(pg_url, "SELECT count(DISTINCT tweet_id) FROM analyses") == n
    assert scalar(pg_url, "SELECT sum(last_seq - first_seq + 1) FROM source_progress") == n
    parts = sorted(p.name for p in tmp_path.glob("pod*/recovery/part-*.sqlite3"))
    assert parts == ["part-0.sqlite3", "part-1.sqlite3"]  # one per pod
