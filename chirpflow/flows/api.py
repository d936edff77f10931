"""``chirpflow api``: the REST API for on-demand account analyses (FastAPI; docs at /docs).

Clients authenticate with an API key (``Authorization: Bearer <key>`` or
``X-API-Key``), created by ``chirpflow api-key create`` and stored hashed.
A key sees only its own jobs (another client's job is a 404); an admin key
(``api-key create NAME --admin``) sees every client's. Each key has a request
budget per minute (429 with ``Retry-After`` past it), shared by every replica
through Redis when REDIS_URL is set. Jobs are done by ``chirpflow run`` with
``[jobs] enabled``; while none runs, new jobs are refused with 503.
"""

import asyncio
from collections.abc import AsyncIterator
from typing import Annotated, Any, Literal

import orjson
from fastapi import Depends, FastAPI, HTTPException, Query, Request, Security
from fastapi.responses import JSONResponse, StreamingResponse
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from fastapi_offline import FastAPIOffline
from pydantic import BaseModel

from chirpflow.connectors.postgres.api_keys import Caller
from chirpflow.connectors.postgres.job_workers import WORKER_STALE_S
from chirpflow.connectors.postgres.jobs import JOB_ENDED, JobStore
from chirpflow.connectors.redis.request_budget import RedisBudget
from chirpflow.flows.api_limits import MAX_BODY_BYTES, BodyLimit, excerpt, short_errors
from chirpflow.flows.ui import ui_router
from chirpflow.job_request import JobRequest, job_request_model
from chirpflow.logs import scrub
from chirpflow.request_budget import LocalBudget, RequestBudget
from chirpflow.settings import JobSettings, Settings

Status = Literal["queued", "fetching", "analysing", "completed", "failed", "cancelled"]


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
        413: f"request body over {MAX_BODY_BYTES} bytes",
        422: "invalid input",
        429: "request budget of this API key used up",
        503: "no job worker is running, so the job would never start",
    }
    return {c: {"model": Problem, "description": text[c]} for c in codes}


def _job(row: dict[str, Any]) -> Job:
    doc = {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in row.items()}
    doc.pop("cancel_requested", None)
    if doc.get("error"):
        doc["error"] = scrub(doc["error"])  # also errors stored before masking existed
    return Job(**doc)


_api_key = APIKeyHeader(
    name="X-API-Key", auto_error=False, description="a key from `chirpflow api-key create`"
)
_bearer = HTTPBearer(auto_error=False, description="the same key as `Authorization: Bearer <key>`")


def create_app(
    store: JobStore,
    cfg: JobSettings,
    poll_s: float = 1.0,
    redis_url: str | None = None,
    settings: Settings | None = None,
) -> FastAPI:
    """The API; with ``redis_url`` the per-key request budget is shared by every replica.

    ``settings`` are what the dashboard re-drives dead letters with (else loaded then).
    """
    app = FastAPIOffline(
        title="chirpflow",
        version="1",
        description=__doc__,
        swagger_ui_parameters={"persistAuthorization": True},
    )
    app.add_middleware(BodyLimit, max_bytes=MAX_BODY_BYTES)
    short_errors(app)
    JobSubmission = job_request_model(cfg.max_tweets_limit)
    per_minute = cfg.requests_per_minute_per_key
    budget: RequestBudget = (
        RedisBudget(redis_url, per_minute) if redis_url else LocalBudget(per_minute)
    )

    def client(
        request: Request,
        x_api_key: Annotated[str | None, Security(_api_key)] = None,
        bearer: Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)] = None,
    ) -> Caller:
        # both schemes are declared (the Authorize button of /docs); X-API-Key, when sent at
        # all (even empty), decides: a wrong credential is never passed over for another one
        del x_api_key  # declared for the document only: FastAPI reads an empty header as absent
        raw = request.headers.get("x-api-key")
        key = (raw if raw is not None else (bearer.credentials if bearer else "")).strip()
        caller = store.keys.authenticate(key) if key else None
        if caller is None:
            raise HTTPException(401, "missing or unknown API key", {"WWW-Authenticate": "Bearer"})
        wait = budget.check(caller.key_id)
        if wait:
            raise HTTPException(
                429, "too many requests for this API key", {"Retry-After": str(max(1, round(wait)))}
            )
        return caller

    Client = Annotated[Caller, Depends(client)]

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        """Liveness: the process serves requests (no key needed)."""
        return {"status": "ok"}

    @app.get("/readyz", include_in_schema=False)
    def readyz() -> JSONResponse:
        """Readiness: the database behind the jobs answers (no key needed)."""
        ok = store.ping()
        return JSONResponse({"ready": ok}, status_code=200 if ok else 503)

    def found(job_id: str, caller: Caller) -> dict[str, Any]:
        row = store.get(job_id, owner=caller.owner)
        if row is None:  # another client's job does not exist for this one
            raise HTTPException(404, f"no job {excerpt(job_id, 40)}")
        return row

    @app.post(
        "/v1/jobs", status_code=201, response_model=Job, responses=_errors(401, 413, 422, 429, 503)
    )
    def submit(body: JobSubmission, caller: Client) -> Job:  # type: ignore[valid-type]
        """Queue an analysis of the account's latest tweets (503 while no job worker runs)."""
        if not store.workers.alive(WORKER_STALE_S):
            raise HTTPException(
                503,
                f"no job worker seen in the last {WORKER_STALE_S:.0f} s: jobs are done by"
                " `chirpflow run` with [jobs] enabled = true; start one, then submit again",
                {"Retry-After": "30"},
            )
        req: JobRequest = body
        return _job(
            store.create(
                req.username.lstrip("@"), req.max_tweets, req.include_replies, caller.key_id
            )
        )

    @app.get("/v1/jobs", response_model=list[Job], responses=_errors(401, 422, 429))
    def jobs(
        caller: Client,
        status: Status | None = None,
        limit: Annotated[int, Query(ge=1, le=500)] = 100,
    ) -> list[Job]:
        """This client's jobs (every client's for an admin key), newest first."""
        return [_job(r) for r in store.list_jobs(status, limit, owner=caller.owner)]

    @app.get("/v1/jobs/{job_id}", response_model=Job, responses=_errors(401, 404, 422, 429))
    def job(job_id: str, caller: Client) -> Job:
        """A job's status and progress."""
        return _job(found(job_id, caller))

    @app.get("/v1/jobs/{job_id}/results", responses=_errors(401, 404, 422, 429))
    def results(
        job_id: str,
        caller: Client,
        offset: Annotated[int, Query(ge=0)] = 0,
        limit: Annotated[int, Query(ge=1, le=500)] = 100,
    ) -> dict[str, Any]:
        """Per-tweet analyses (paginated), chunk summaries and aggregates."""
        row = found(job_id, caller)
        return {"job": _job(row).model_dump(), **store.results(row["id"], offset, limit)}

    @app.delete("/v1/jobs/{job_id}", response_model=Job, responses=_errors(401, 404, 409, 422, 429))
    def cancel(job_id: str, caller: Client) -> Job:
        """Cancel: a queued job at once, a running one within one chunk."""
        row = found(job_id, caller)
        if row["status"] in JOB_ENDED:
            raise HTTPException(409, f"job {row['id']} already {row['status']}")
        cancelled = store.cancel(row["id"], owner=caller.owner)
        if cancelled is None:
            raise HTTPException(404, f"no job {row['id']}")
        return _job(cancelled)

    @app.get("/v1/jobs/{job_id}/events", responses=_errors(401, 404, 422, 429))
    async def events(job_id: str, caller: Client, request: Request) -> StreamingResponse:
        """Server-sent events: a ``progress`` event on every change, until the job ends."""
        job_id = (await asyncio.to_thread(found, job_id, caller))["id"]

        async def stream() -> AsyncIterator[bytes]:
            last = None
            while not await request.is_disconnected():
                row = await asyncio.to_thread(store.get, job_id, owner=caller.owner)
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

    app.include_router(
        ui_router(store.url, store.keys.authenticate, budget, settings)
    )  # the dashboard, under /ui
    return app
