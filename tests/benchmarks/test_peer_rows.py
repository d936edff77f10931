"""The plain-loop peer does chirpflow's work under the no-op analyzer: tweets and chunk
rows, and no analyses rows (the no-op analyzer produces none)."""

from __future__ import annotations

from pathlib import Path

import psycopg

from benchmarks.kafka import _fill
from benchmarks.peers import plain_loop
from chirpflow.connectors.embedded.kafka import EmbeddedKafka
from chirpflow.connectors.embedded.postgres import ensure_database
from chirpflow.flows.job import run_job
from chirpflow.settings import Environment, settings_from_dict
from tests.flows.helpers import scalar


def test_the_plain_loop_writes_tweets_and_chunks_and_no_analyses(
    pg_url: str, kafka_broker: EmbeddedKafka
) -> None:
    kafka_broker.create_topic("peer.rows", 1)
    _fill(kafka_broker.bootstrap, "peer.rows", 450, seed=5)
    out = plain_loop(kafka_broker.bootstrap, pg_url, "peer.rows", 1, 450)
    assert out["tweets_per_s"] > 0
    assert scalar(pg_url, "SELECT count(*) FROM tweets") == 450
    assert scalar(pg_url, "SELECT count(*) FROM chunks") == 5  # 4 of 100, one of 50
    assert scalar(pg_url, "SELECT sum(size) FROM chunks") == 450
    assert scalar(pg_url, "SELECT count(*) FROM analyses") == 0


def test_a_peer_replaying_a_topic_stores_every_row_once(
    pg_url: str, kafka_broker: EmbeddedKafka
) -> None:
    """As chirpflow's writer: COPY straight in, and a conflicting batch takes the staged merge."""
    kafka_broker.create_topic("peer.replay", 1)
    _fill(kafka_broker.bootstrap, "peer.replay", 250, seed=6)
    plain_loop(kafka_broker.bootstrap, pg_url, "peer.replay", 1, 250)
    plain_loop(kafka_broker.bootstrap, pg_url, "peer.replay", 1, 250)  # the same tweets again
    assert scalar(pg_url, "SELECT count(*) FROM tweets") == 250
    assert scalar(pg_url, "SELECT count(*) FROM chunks") == 3
    assert scalar(pg_url, "SELECT sum(size) FROM chunks") == 250


def test_the_plain_loop_stores_the_same_tweet_rows_as_chirpflow(
    pg_url: str, kafka_broker: EmbeddedKafka, tmp_path: Path
) -> None:
    """Same rows: every column but when it was read and stored, and the chunk's name."""
    kafka_broker.create_topic("peer.same", 1)
    _fill(kafka_broker.bootstrap, "peer.same", 120, seed=7)
    plain_url = ensure_database(pg_url, f"{pg_url.rsplit('/', 1)[1]}_plain")
    plain_loop(kafka_broker.bootstrap, plain_url, "peer.same", 1, 120)
    cfg = settings_from_dict({"analyzer": {"kind": "noop"}, "sinks": {"console": False}})
    env = Environment(pg_url, None, kafka_broker.bootstrap, None, None, tmp_path)
    run_job(cfg, env, source_spec="kafka:peer.same", limit=120, recovery=False, live=False)
    query = "SELECT * FROM tweets ORDER BY id"  # every column the schema has
    with psycopg.connect(pg_url) as ours, psycopg.connect(plain_url) as theirs:
        cur_ours, cur_theirs = ours.execute(query), theirs.execute(query)
        names = [d.name for d in cur_ours.description or []]
        skip = {names.index(n) for n in ("fetched_at", "stored_at", "chunk_id")}
        rows_ours, rows_theirs = cur_ours.fetchall(), cur_theirs.fetchall()
    assert len(rows_ours) == len(rows_theirs) == 120
    for a, b in zip(rows_ours, rows_theirs, strict=True):
        differ = [names[i] for i in range(len(names)) if i not in skip and a[i] != b[i]]
        assert differ == [], (a, b)
