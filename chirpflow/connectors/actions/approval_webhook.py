"""The approval bot in webhook mode: Telegram POSTs each update to us.

``setWebhook`` is called with a secret token; every POST must carry it in
``X-Telegram-Bot-Api-Secret-Token`` (else 403, nothing handled). Drafts are
pushed and outcomes refreshed every ``refresh_s`` seconds, as polling
rounds do. Answers 200 once an update is handled, so Telegram retries one
we could not handle (its non-2xx retry).
"""

from __future__ import annotations

import asyncio
import hmac
import logging

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from telegram import Update

from chirpflow.connectors.actions.approval_bot import ApprovalBot

log = logging.getLogger(__name__)
HEADER = "x-telegram-bot-api-secret-token"


def webhook_app(approval: ApprovalBot, secret: str, path: str = "/telegram") -> Starlette:
    async def receive(request: Request) -> Response:
        given = request.headers.get(HEADER, "")
        if not hmac.compare_digest(given.encode(), secret.encode()):
            return JSONResponse({"ok": False, "error": "bad secret token"}, status_code=403)
        try:
            data = await request.json()
        except ValueError:
            return JSONResponse({"ok": False, "error": "body is not JSON"}, status_code=400)
        update = Update.de_json(data, approval.bot)
        if update is not None:
            await approval.handle(update)
            await approval.refresh_outcomes()
        return JSONResponse({"ok": True})

    return Starlette(routes=[Route(path, receive, methods=["POST"])])


async def serve_webhook(
    approval: ApprovalBot,
    url: str,
    secret: str,
    host: str,
    port: int,
    refresh_s: float = 5.0,
    started: asyncio.Event | None = None,
    stop: asyncio.Event | None = None,
) -> None:
    await approval.set_webhook(url, secret)
    server = uvicorn.Server(
        uvicorn.Config(webhook_app(approval, secret), host=host, port=port, log_level="warning")
    )

    async def refresh() -> None:
        while not server.should_exit:
            try:
                await approval.push_drafts()
                await approval.refresh_outcomes()
            except Exception as err:  # a failed refresh is retried next time
                log.warning("telegram: refresh failed: %s", err)
            if started is not None and server.started:
                started.set()
            if stop is not None and stop.is_set():
                server.should_exit = True
            await asyncio.sleep(min(refresh_s, 0.2) if stop is not None else refresh_s)

    await asyncio.gather(server.serve(), refresh())
