"""``chirpflow ui``: the read-only web dashboard on its own."""

from __future__ import annotations

import click

from chirpflow.errors import ChirpflowError
from chirpflow.flows.cli_support import fail_cleanly
from chirpflow.settings import Environment

LOOPBACK = "127.0.0.1"


@click.command("ui")
@click.option("--host", default=LOOPBACK, show_default=True)
@click.option("--port", type=click.IntRange(1, 65535), default=8001, show_default=True)
@click.option("--no-auth", is_flag=True, help="No API key needed (only on 127.0.0.1).")
@fail_cleanly
def ui(host: str, port: int, no_auth: bool) -> None:
    """Serve the web dashboard at http://HOST:PORT/ui/ (also under `chirpflow api`).

    Pages ask for an API key from `chirpflow api-key create` unless --no-auth; an
    --admin key may re-drive dead letters (with $CHIRPFLOW_CONFIG's settings). Each
    key's requests count against [jobs] requests_per_minute_per_key.
    """
    import uvicorn
    from fastapi import FastAPI
    from fastapi.responses import RedirectResponse

    from chirpflow.connectors.postgres.jobs import JobStore
    from chirpflow.flows.services import database
    from chirpflow.flows.ui import ui_router
    from chirpflow.flows.ui.budget import dashboard_budget

    if no_auth and host != LOOPBACK:
        raise ChirpflowError(f"--no-auth serves only {LOOPBACK}, not {host}")
    env = Environment.from_env()
    with database(env) as url:
        store = None if no_auth else JobStore(url, pool_size=2)
        try:
            app = FastAPI(title="chirpflow dashboard", docs_url=None, redoc_url=None)
            budget = None if no_auth else dashboard_budget(env.redis_url)
            app.include_router(ui_router(url, store.keys.authenticate if store else None, budget))
            app.add_api_route("/", lambda: RedirectResponse("/ui/"), include_in_schema=False)
            click.echo(f"dashboard: http://{host}:{port}/ui/", err=True)
            uvicorn.run(app, host=host, port=port, log_level="warning")
        finally:
            if store:
                store.close()
