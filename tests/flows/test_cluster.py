"""The analysis flow as a 2-process Bytewax cluster over a 4-partition topic of the real broker."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import orjson
from confluent_kafka import Producer

from connectors.embedded.kafka import EmbeddedKafka
from flows.cluster import cluster_place
from tests.factories import payload
from tests.flows.helpers import scalar

CLI = [sys.executable, "-m", "flows.cli"]
_FOREIGN = ("REDIS_URL", "CHIRPFLOW_CONFIG", "OPENAI_API_KEY", "OPENAI_BASE_URL", "DATABASE_URL")


def _ports(n: int) -> list[int]:
    socks = [socket.socket() for _ in range(n)]
    for s in socks:
        s.bind(("127.0.0.1", 0))
    ports = [int(s.getsockname()[1]) for s in socks]
    for s in socks:
        s.close()
    return ports


def test_cluster_place_from_kubernetes_and_plain_variables() -> None:
    k8s = cluster_place({"BYTEWAX_POD_NAME": "chirpflow-2", "BYTEWAX_REPLICAS": "3",
                         "BYTEWAX_PEERS_SERVICE": "peers", "BYTEWAX_PORT": "9999"})  # fmt: skip
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
    addresses = ";".join(f"127.0.0.1:{p}" for p in _ports(2))
    cfg = tmp_path / "c.toml"
    cfg.write_text("[analyzer]\nkind = 'offline'\n[pipeline]\nmax_wait = '1s'\n"
                   "snapshot_interval = '1s'\n")  # fmt: skip
    procs = []
    for pid in (0, 1):
        env = {k: v for k, v in os.environ.items() if k not in _FOREIGN}
        env.update(DATABASE_URL=pg_url, KAFKA_BOOTSTRAP_SERVERS=kafka_broker.bootstrap,
                   CHIRPFLOW_HOME=str(tmp_path / f"home{pid}"), CHIRPFLOW_CONFIG=str(cfg),
                   CHIRPFLOW_ADDRESSES=addresses, CHIRPFLOW_PROCESS_ID=str(pid))  # fmt: skip
        procs.append(subprocess.Popen(
            [*CLI, "replay", "--topic", "cluster.raw", "--from-beginning", "--quiet"],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        ))  # fmt: skip
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
