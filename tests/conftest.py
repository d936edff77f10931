"""Session-wide real services, started on free loopback ports only when a test asks."""

from __future__ import annotations

import itertools
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from chirpflow.connectors.embedded.kafka import EmbeddedKafka
from chirpflow.connectors.embedded.postgres import EmbeddedPostgres, drop_database, ensure_database
from chirpflow.connectors.embedded.redis import EmbeddedRedis
from chirpflow.connectors.postgres.pool import open_pools
from tests.labelled_data import write_labelled_sets

_db_counter = itertools.count()
pytest_plugins = ["tests.action_fixtures"]  # db and store for the actions tests


def pytest_configure(config: pytest.Config) -> None:
    """Each session gets its own temporary root (unless --basetemp is given).

    Embedded PostgreSQL runs as another user, so the folders above its data
    must stay traversable; pytest resets its shared /tmp/pytest-of-USER root to
    0700 whenever any other session starts, which broke concurrent runs.
    """
    if config.option.basetemp is None:
        config.option.basetemp = tempfile.mkdtemp(prefix="chirpflow-tests-")


@pytest.fixture(autouse=True)
def _no_pool_left_open() -> Iterator[None]:
    """A test that opens a connection pool closes it: a pool left open keeps
    threads reconnecting to a database that the next fixture drops."""
    before = {id(p) for p in open_pools()}
    yield
    left = [p.name for p in open_pools() if id(p) not in before]
    assert not left, f"connection pool(s) left open: {left}"


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def labelled_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Our own small labelled sets in the TweetEval layout (sentiment/, offensive/, hate/)."""
    return write_labelled_sets(tmp_path_factory.mktemp("labelled"))


@pytest.fixture(scope="session")
def postgres_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    server = EmbeddedPostgres(tmp_path_factory.mktemp("pg") / "data", durable=False)
    url = server.start()
    yield url
    server.stop()


@pytest.fixture
def pg_url(postgres_server: str) -> Iterator[str]:
    """A fresh, empty database for one test (the schema is applied by whoever runs)."""
    name = f"t{next(_db_counter)}"
    url = ensure_database(postgres_server, name)
    yield url
    drop_database(postgres_server, name)


@pytest.fixture(scope="session")
def redis_server() -> Iterator[str]:
    with EmbeddedRedis() as url:
        yield url


@pytest.fixture
def redis_url(redis_server: str) -> str:
    client = redis.Redis.from_url(redis_server)
    client.flushdb()
    client.close()
    return redis_server


@pytest.fixture(scope="session")
def kafka_broker() -> Iterator[EmbeddedKafka]:
    broker = EmbeddedKafka()
    broker.start()
    yield broker
    broker.stop()


@pytest.fixture
def kafka_bootstrap(kafka_broker: EmbeddedKafka) -> str:
    return kafka_broker.bootstrap
