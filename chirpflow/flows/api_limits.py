"""Bounds on what a client can make the jobs API read and echo.

``BodyLimit`` refuses a request body over ``max_bytes`` with 413 before the
app reads it (by Content-Length, or while it streams in); ``short_errors``
makes 422 answers quote at most a short excerpt of the input.
"""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

MAX_BODY_BYTES = 64 * 1024
EXCERPT_CHARS = 60
MAX_ERRORS = 10


def excerpt(value: Any, limit: int = EXCERPT_CHARS) -> str:
    """``value`` as text, cut to ``limit`` characters (saying how long it was)."""
    if isinstance(value, str):
        text = value
    else:
        try:
            text = orjson.dumps(value, default=str).decode()
        except TypeError:
            text = repr(value)
    text = text.replace("\x00", "\\0")
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text)} chars)"


class BodyLimit:
    """ASGI middleware: 413 for bodies over ``max_bytes`` (read first, then replayed)."""

    def __init__(self, app: ASGIApp, max_bytes: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = dict(scope["headers"]).get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > self.max_bytes):
            await self._refuse(scope, receive, send)
            return
        body = bytearray()
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client left
                return
            body += message.get("body", b"")
            if len(body) > self.max_bytes:
                await self._refuse(scope, receive, send)
                return
            if not message.get("more_body", False):
                break
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": bytes(body), "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = JSONResponse(
            {"detail": f"request body over {self.max_bytes} bytes"},
            status_code=413,
            headers={"Connection": "close"},
        )
        await response(scope, receive, send)


def _short(error: Any) -> dict[str, Any]:
    out = {"type": error["type"], "loc": list(error["loc"]), "msg": excerpt(error["msg"], 200)}
    if "input" in error:
        out["input"] = excerpt(error["input"])
    return out


async def _invalid(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = list(exc.errors())
    return JSONResponse({"detail": [_short(e) for e in errors[:MAX_ERRORS]]}, status_code=422)


def short_errors(app: FastAPI) -> None:
    """422 answers name what is wrong and quote at most a short excerpt of the input."""
    app.add_exception_handler(RequestValidationError, _invalid)
