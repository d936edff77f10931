"""OpenAI's moderation endpoint as a gate check (``POST /v1/moderations``).

Fails closed: when the service cannot answer, the text is blocked with
"moderation unavailable" (a configured check that did not run never passes).
"""

from __future__ import annotations

import os

import httpx

from chirpflow.errors import ConfigError
from chirpflow.logs import scrub

MODEL = "omni-moderation-latest"


class OpenAIModeration:
    def __init__(self, base_url: str, env: dict[str, str] | None = None, timeout_s: float = 15):
        env = dict(os.environ) if env is None else env
        key = env.get("OPENAI_API_KEY", "")
        if not key:
            raise ConfigError("actions.gate.moderation = true needs OPENAI_API_KEY")
        self._url = base_url.rstrip("/") + "/moderations"
        self._http = httpx.Client(timeout=timeout_s, headers={"authorization": f"Bearer {key}"})

    def __call__(self, text: str) -> str | None:
        """None when the text is fine, else the flagged categories (or why it could not tell)."""
        try:
            resp = self._http.post(self._url, json={"model": MODEL, "input": text})
        except httpx.HTTPError as err:
            return f"moderation unavailable ({type(err).__name__})"
        if resp.status_code != 200:
            return scrub(f"moderation unavailable (HTTP {resp.status_code})")
        try:
            result = resp.json()["results"][0]
        except (ValueError, KeyError, IndexError):
            return "moderation unavailable (unexpected answer)"
        if not result.get("flagged"):
            return None
        cats = sorted(k for k, v in (result.get("categories") or {}).items() if v)
        return "flagged: " + (", ".join(cats) or "unspecified")

    def close(self) -> None:
        self._http.close()
