"""Fixtures shared by the actions tests: a migrated database and its action store."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from chirpflow.connectors.actions.store import ActionStore
from chirpflow.connectors.postgres.migrate import migrate


@pytest.fixture
def db(pg_url: str) -> str:
    migrate(pg_url)
    return pg_url


@pytest.fixture
def store(db: str) -> Iterator[ActionStore]:
    s = ActionStore(db)
    yield s
    s.close()
