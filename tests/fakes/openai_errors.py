"""Error answers in the OpenAI API's shape, shared by the OpenAI-like fakes."""

from __future__ import annotations

from typing import Any


def bad_key(authorization: str | None, key: str) -> tuple[int, Any, dict[str, str]] | None:
    """The 401 OpenAI answers when ``authorization`` is not ``Bearer <key>``, else None."""
    if authorization == f"Bearer {key}":
        return None
    error = {
        "message": "Incorrect API key provided",
        "type": "invalid_request_error",
        "param": None,
        "code": "invalid_api_key",
    }
    return 401, {"error": error}, {}
