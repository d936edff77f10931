"""Schemathesis against our own OpenAPI document: no input makes the API fail or lie."""

from __future__ import annotations

from typing import Any

import schemathesis
from hypothesis import HealthCheck, given, settings

from chirpflow.connectors.postgres.jobs import JobStore
from chirpflow.connectors.postgres.migrate import migrate
from chirpflow.flows.api import create_app
from chirpflow.settings import JobSettings


def test_every_operation_conforms_to_the_schema_for_generated_input(pg_url: str) -> None:
    migrate(pg_url)
    store = JobStore(pg_url)
    key = store.create_key("schemathesis")
    store.workers.beat("schemathesis-worker")
    app = create_app(store, JobSettings(requests_per_minute_per_key=100_000), poll_s=0.01)
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    checked = []
    for result in schema.get_all_operations():
        op = result.ok()  # type: ignore[union-attr]
        if op.path.endswith("/events"):
            continue  # a stream that ends only with its job: covered in test_jobs_api

        @given(case=op.as_strategy())
        @settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck))
        def run(case: Any) -> None:
            # a valid key, given as the user's own: schemathesis then also checks that the
            # same request without it, or with a wrong one, is refused (ignored_auth)
            case.call_and_validate(headers={"Authorization": f"Bearer {key}"})

        run()
        checked.append(f"{op.method.upper()} {op.path}")
    store.close()
    assert len(checked) == 5, checked
