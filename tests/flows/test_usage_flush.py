"""Tweet API usage: a flush retried after a failure is counted once."""

from __future__ import annotations

import psycopg

from chirpflow.connectors.postgres.migrate import migrate
from chirpflow.connectors.postgres.usage import usage_by_provider
from chirpflow.connectors.sources.polling_reader import Usage
from chirpflow.flows.usage import UsageMeter

# the alert outbox refuses inserts until the trigger is dropped
_BREAK_OUTBOX = """
CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS
$$ BEGIN RAISE EXCEPTION 'outbox is down'; END $$;
CREATE TRIGGER refuse BEFORE INSERT ON notifications FOR EACH ROW EXECUTE FUNCTION refuse();
"""


def _usage(url: str) -> dict[str, dict[str, object]]:
    with psycopg.connect(url) as conn:
        return usage_by_provider(conn)


def test_usage_flush_retried_after_the_outbox_failed_is_counted_once(pg_url: str) -> None:
    migrate(pg_url)
    with psycopg.connect(pg_url) as conn:
        conn.execute(_BREAK_OUTBOX)
    meter = UsageMeter(pg_url, alert_channels=["ops"])
    meter.on_usage(Usage("x", "x:brand", requests=3, tweets=250, cost_usd=1.25))
    meter.on_fatal("x:brand", "401 unauthorized")
    meter.flush()  # usage stored, then the alert insert fails
    with psycopg.connect(pg_url) as conn:
        conn.execute("DROP TRIGGER refuse ON notifications")
    meter.flush()  # the retry
    meter.flush()  # nothing left
    assert _usage(pg_url) == {"x": {"requests": 3, "tweets": 250, "cost_usd": 1.25}}
    with psycopg.connect(pg_url) as conn:
        alerts = conn.execute("SELECT id FROM notifications").fetchall()
    assert len(alerts) == 1  # the stop alert went out on the retry, once


def test_usage_of_later_polls_adds_to_earlier_flushes(pg_url: str) -> None:
    migrate(pg_url)
    meter = UsageMeter(pg_url)
    meter.on_usage(Usage("x", "x:brand", requests=1, tweets=100, cost_usd=0.5))
    meter.flush()
    meter.on_usage(Usage("x", "x:other", requests=2, tweets=10, cost_usd=0.25))
    meter.flush()
    assert _usage(pg_url) == {"x": {"requests": 3, "tweets": 110, "cost_usd": 0.75}}
