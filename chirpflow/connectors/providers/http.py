"""Shared HTTP plumbing of the providers: one httpx client, errors classified."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import orjson

from chirpflow.connectors.providers.base import ErrorKind, ProviderError
from chirpflow.rate_limits import parse_duration

TIMEOUT = httpx.Timeout(30.0, connect=10.0)


def client(base_url: str, headers: dict[str, str]) -> httpx.Client:
    return httpx.Client(base_url=base_url.rstrip("/"), headers=headers, timeout=TIMEOUT)


def get(http: httpx.Client, path: str, params: dict[str, Any]) -> httpx.Response:
    """GET; network failures become TRANSIENT provider errors."""
    try:
        return http.get(path, params={k: v for k, v in params.items() if v is not None})
    except httpx.HTTPError as err:
        raise ProviderError(ErrorKind.TRANSIENT, f"{type(err).__name__}: {err}") from None


def body(resp: httpx.Response) -> Any:
    """The JSON body; a non-JSON answer is TRANSIENT (proxies, gateways, truncation)."""
    try:
        return orjson.loads(resp.content)
    except orjson.JSONDecodeError:
        snippet = resp.text[:120].replace("\n", " ")
        raise ProviderError(
            ErrorKind.TRANSIENT, f"HTTP {resp.status_code}: not JSON: {snippet!r}"
        ) from None


def retry_at(resp: httpx.Response, default_s: float = 60.0) -> datetime:
    """When a 429 may be retried: ``retry-after`` (seconds) or ``default_s``."""
    wait = parse_duration(resp.headers.get("retry-after", "")) or default_s
    return datetime.now(UTC) + timedelta(seconds=wait)


def message(data: Any) -> str:
    if isinstance(data, dict):
        for key in ("detail", "msg", "message", "title", "error"):
            if isinstance(data.get(key), str):
                return str(data[key])
    return str(data)[:200]


def json_object(label: str, status: int, data: Any) -> dict[str, Any]:
    """The answer's JSON object, once a provider has handled its own statuses.

    5xx is TRANSIENT, any other 4xx FATAL (both with the server's message), a
    body that is not a JSON object TRANSIENT.
    """
    if status >= 500:
        raise ProviderError(ErrorKind.TRANSIENT, f"{label} {status}: {message(data)}")
    if status >= 400:
        raise ProviderError(ErrorKind.FATAL, f"{label} {status}: {message(data)}")
    if not isinstance(data, dict):
        raise ProviderError(ErrorKind.TRANSIENT, f"{label}: answer is not a JSON object")
    return data


def header_int(resp: httpx.Response, name: str) -> int | None:
    """A header holding a whole number (``x-rate-limit-remaining``), when it does."""
    value = resp.headers.get(name, "")
    return int(value) if value.isdigit() else None
