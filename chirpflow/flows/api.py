"""``chirpflow api``: the REST API for on-demand account analyses (FastAPI; docs at /docs).

Clients authenticate with an API key (``Authorization: Bearer <key>`` or
``X-API-Key``), created by ``chirpflow api-key create`` and stored hashed.
Each key has a request budget per minute (429 with ``Retry-After`` past it).
The jobs themselves are done by ``chirpflow run`` with ``[jobs] enabled``.
"""

import asyncio
import threading
import time
from collections import defaultdict, deque
from collections.abc import AsyncIterator
from typing import Annotated, Any, Literal

import orjson
from fastapi import Depends, FastAPI, Header, HTTPException, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from chirpflow.connectors.postgres.jobs import JOB_ENDED, JobStore
from chirpflow.flows.ui import ui_router
from chirpflow.model import USERNAME_PATTERN
from chirpflow.settings import JobSettings

Status = Literal["queued", "fetching", "analysing", "completed", "failed", "cancelled"]


class JobRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: str = Field(pattern=f"^{USERNAME_PATTERN}$", description="the account, e.g. @jack")
    max_tweets: int = Field(200, ge=1, description="how many of its latest tweets")
    include_replies: bool = False


class Job(BaseModel):
    id: str
    status: Status
    username: str | None
    max_tweets: int | None
    include_replies: bool
    total_tweets: int
    processed_tweets: int
    fetched_tweets: int
    error: str | None
    created_at: str
    updated_at: str
    started_at: str | None
    completed_at: str | None


class Problem(BaseModel):
    detail: Any


def _errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    text = {
        401: "missing or unknown API key",
        404: "no such job",
        409: "job already ended",
        422: "invalid input",
        429: "request budget of this API key used up",
    }
    return {c: {"model": Problem, "description": text[c]} for c in codes}


def _job(row: dict[str, Any]) -> Job:
    doc = {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in row.items()}
    doc.pop("cancel_requested", None)
    return Job(**doc)


class _RateLimit:
    """Requests per key in the last minute (in-process)."""

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self._hits: defaultdict[int, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def check(self, key_id: int) -> float:
        """0 when allowed (and counted), else seconds until allowed."""
        now = time.monotonic()
        with self._lock:
            hits = self._hits[key_id]
            while hits and now - hits[0] >= 60:
                hits.popleft()
            if len(hits) >= self.per_minute:
                return 60 - (now - hits[0])
            hits.append(now)
            return 0.0


def create_app(store: JobStore, cfg: JobSettings, poll_s: float = 1.0) -> FastAPI:
    app = FastAPI(title="chirpflow", version="1", description=__doc__)

    class JobSubmission(JobRequest):
        max_tweets: int = Field(
            200, ge=1, le=cfg.max_tweets_limit, description="how many of its latest tweets"
        )

    limiter = _RateLimit(cfg.requests_per_minute_per_key)

    def client(
        authorization: Annotated[str | None, Header()] = None,
        x_api_key: Annotated[str | None, Header()] = None,
    ) -> int:
        key = x_api_key or (authorization or "").removeprefix("Bearer ").strip()
        key_id = store.key_id(key) if key else None
        if key_id is None:
            raise HTTPException(401, "missing or unknown API key", {"WWW-Authenticate": "Bearer"})
        wait = limiter.check(key_id)
        if wait:
            raise HTTPException(
                429, "too many requests for this API key", {"Retry-After": str(max(1, round(wait)))}
            )
        return key_id

    Client = Annotated[int, Depends(client)]

    def found(job_id: str) -> dict[str, Any]:
        row = store.get(job_id)
        if row is None:
            raise HTTPException(404, f"no job {job_id}")
        return row

    @app.post("/v1/jobs", status_code=201, response_model=Job, responses=_errors(401, 422, 429))
    def submit(body: JobSubmission, key_id: Client) -> Job:
        """Queue an analysis of the account's latest tweets."""
        return _job(
            store.create(body.username.lstrip("@"), body.max_tweets, body.include_replies, key_id)
        )

    @app.get("/v1/jobs", response_model=list[Job], responses=_errors(401, 422, 429))
    def jobs(
        key_id: Client,
        status: Status | None = None,
        limit: Annotated[int, Query(ge=1, le=500)] = 100,
    ) -> list[Job]:
        """Jobs, newest first, optionally of one status."""
        return [_job(r) for r in store.list_jobs(status, limit)]

    @app.get("/v1/jobs/{job_id}", response_model=Job, responses=_errors(401, 404, 422, 429))
    def job(job_id: str, key_id: Client) -> Job:
        """A job's status and progress."""
        return _job(found(job_id))

    @app.get("/v1/jobs/{job_id}/results", responses=_errors(401, 404, 422, 429))
    def results(
        job_id: str,
        key_id: Client,
        offset: Annotated[int, Query(ge=0)] = 0,
        limit: Annotated[int, Query(ge=1, le=500)] = 100,
    ) -> dict[str, Any]:
        """Per-tweet analyses (paginated), chunk summaries and aggregates."""
        row = found(job_id)
        return {"job": _job(row).model_dump(), **store.results(job_id, offset, limit)}

    @app.delete("/v1/jobs/{job_id}", response_model=Job, responses=_errors(401, 404, 409, 422, 429))
    def cancel(job_id: str, key_id: Client) -> Job:
        """Cancel: a queued job at once, a running one within one chunk."""
        row = found(job_id)
        if row["status"] in JOB_ENDED:
            raise HTTPException(409, f"job {job_id} already {row['status']}")
        cancelled = store.cancel(job_id)
        assert cancelled is not None
        return _job(cancelled)

    @app.get("/v1/jobs/{job_id}/events", responses=_errors(401, 404, 422, 429))
    async def events(job_id: str, key_id: Client, request: Request) -> StreamingResponse:
        """Server-sent events: a ``progress`` event on every change, until the job ends."""
        found(job_id)

        async def stream() -> AsyncIterator[bytes]:
            last = None
            while not await request.is_disconnected():
                row = await asyncio.to_thread(store.get, job_id)
                if row is None:
                    return
                doc = _job(row).model_dump()
                key = (doc["status"], doc["processed_tweets"], doc["fetched_tweets"])
                if key != last:
                    last = key
                    yield b"event: progress\ndata: " + orjson.dumps(doc) + b"\n\n"
                if doc["status"] in JOB_ENDED:
                    yield b"event: end\ndata: " + orjson.dumps({"status": doc["status"]}) + b"\n\n"
                    return
                await asyncio.sleep(poll_s)

        return StreamingResponse(stream(), media_type="text/event-stream")

    app.include_router(ui_router(store.url, store.key_id))  # the dashboard, under /ui
    return app
