"""Routes of the web dashboard: the page and its assets, and read-only JSON under /ui/api.

Assets (plain HTML, JS, CSS; no CDN, no build step) ship in the package. The
data routes need an API key (``X-API-Key``, as the jobs API) unless the
dashboard was started with ``--no-auth`` (on 127.0.0.1 only); with a ``budget``
each data request counts against that key's requests per minute (429 past it),
the same budget as the jobs API's.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from importlib import resources
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, HTTPException, Query, Request
from fastapi.responses import RedirectResponse, Response

from chirpflow.connectors.postgres.api_keys import Caller
from chirpflow.connectors.postgres.cursor import Cursor
from chirpflow.errors import ChirpflowError
from chirpflow.flows.ui.redrive import Redriver, RedriveRequest
from chirpflow.model import RiskFlag, Sentiment
from chirpflow.request_budget import RequestBudget
from chirpflow.settings import Settings

Platform = Literal["x", "reddit", "bluesky", "mastodon"]  # chirpflow.platforms.PLATFORMS
KeyCheck = Callable[[str], Caller | None]  # None for an unknown key
_ASSETS = {
    "index.html": "text/html; charset=utf-8",
    "app.js": "text/javascript; charset=utf-8",
    "charts.js": "text/javascript; charset=utf-8",
    "app.css": "text/css; charset=utf-8",
}
_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; object-src 'none'",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}


def _asset(name: str) -> bytes:
    return resources.files("chirpflow.flows.ui").joinpath("static", name).read_bytes()


def ui_router(
    url: str,
    key_check: KeyCheck | None,
    budget: RequestBudget | None = None,
    settings: Settings | None = None,
) -> APIRouter:
    """The dashboard for the store at ``url``; ``key_check=None`` means no keys (--no-auth).

    Admin keys may re-drive dead letters with ``settings`` (``chirpflow dlq retry``).
    """
    from chirpflow.connectors.postgres import dashboard, results
    from chirpflow.connectors.postgres.dead_letters import list_dead_letters

    router = APIRouter(include_in_schema=False)

    def client(
        request: Request,
        authorization: Annotated[str | None, Header()] = None,
        x_api_key: Annotated[str | None, Header()] = None,
    ) -> None:
        request.state.caller = None
        if key_check is None:
            return
        key = x_api_key or (authorization or "").removeprefix("Bearer ").strip()
        caller = key_check(key) if key else None
        if caller is None:
            raise HTTPException(401, "missing or unknown API key", {"WWW-Authenticate": "Bearer"})
        wait = budget.check(caller.key_id) if budget else 0.0
        if wait:
            raise HTTPException(
                429, "too many requests for this API key", {"Retry-After": str(max(1, round(wait)))}
            )
        request.state.caller = caller

    data = APIRouter(dependencies=[Depends(client)])
    redrive = Redriver(url, settings)

    @router.get("/ui")
    def root() -> RedirectResponse:
        return RedirectResponse("/ui/")

    @router.get("/ui/")
    def page() -> Response:
        return Response(_asset("index.html"), media_type=_ASSETS["index.html"], headers=_HEADERS)

    @router.get("/ui/static/{name}")
    def asset(name: str) -> Response:
        if name not in _ASSETS:
            raise HTTPException(404, "no such file")
        return Response(_asset(name), media_type=_ASSETS[name], headers=_HEADERS)

    @router.get("/ui/api/config")
    def config() -> dict[str, Any]:
        return {"auth": key_check is not None}

    @data.get("/ui/api/overview")
    async def overview(minutes: Annotated[int, Query(ge=1, le=1440)] = 60) -> Any:
        return await asyncio.to_thread(dashboard.overview, url, minutes)

    @data.get("/ui/api/tweets")
    async def tweets(
        flagged: bool = True,
        sentiment: Sentiment | None = None,
        flag: RiskFlag | None = None,
        min_risk: Annotated[int | None, Query(ge=0, le=100)] = None,
        topic: str | None = None,
        q: str | None = None,
        author: str | None = None,
        source: str | None = None,
        platform: Platform | None = None,
        since_minutes: Annotated[int | None, Query(ge=1)] = None,
        limit: Annotated[int, Query(ge=1, le=500)] = 50,
        page: Annotated[int, Query(ge=1)] = 1,
        after: Annotated[str | None, Query(max_length=200)] = None,
    ) -> Any:
        since = datetime.now(UTC) - timedelta(minutes=since_minutes) if since_minutes else None
        f = results.TweetFilter(
            since=since,
            source=source or None,
            sentiment=sentiment,
            min_risk=min_risk,
            flag=flag,
            flagged=flagged,
            topic=topic or None,
            text=q or None,
            author=author or None,
            platform=platform,
        )
        try:
            cursor = Cursor.decode(after) if after else None
        except ChirpflowError as exc:
            raise HTTPException(400, str(exc)) from None
        got = await asyncio.to_thread(
            results.tweet_page, url, f, limit=limit, page=page, after=cursor
        )
        return {"rows": got.rows, "page": page, "next": got.next}

    @data.get("/ui/api/dead-letters")
    async def dead_letters(
        reason: str | None = None, limit: Annotated[int, Query(ge=1, le=500)] = 100
    ) -> Any:
        rows = await asyncio.to_thread(list_dead_letters, url, reason or None, None, limit)
        return {"rows": rows}

    @data.get("/ui/api/me")
    def me(request: Request) -> dict[str, Any]:
        return {"admin": redrive.allowed(request.state.caller)}

    @data.post("/ui/api/dead-letters/retry")
    async def retry(request: Request, req: RedriveRequest) -> Any:
        return await asyncio.to_thread(redrive, request.state.caller, req)

    @data.get("/ui/api/jobs")
    async def jobs() -> Any:
        return {"rows": await asyncio.to_thread(dashboard.recent_jobs, url)}

    @data.get("/ui/api/jobs/{job_id}/report")
    async def job_report(job_id: str) -> Any:
        return await asyncio.to_thread(dashboard.job_report, url, job_id)

    router.include_router(data)
    return router
