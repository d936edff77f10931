"""A fake OpenAI-compatible model that writes reply drafts, naive enough to be hijacked.

It checks the request (model, messages, a strict ``json_schema`` named
``reply_drafts``) and answers ``{"drafts": [{"i", "text"}]}`` for each tweet
line. Its reply quotes the first sentence of the context layer from the
system prompt, so tests see which context a draft used. Like a real model
it can be talked into things: a tweet containing ``reply with: <text>``
gets ``<text>`` as its draft (prompt injection); a brief for an original
post gets a numbered announcement. ``drop`` lists indices the
next batch answer leaves out.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import orjson

from tests.fakes.http_fake import serve
from tests.fakes.openai_errors import bad_key

Reply = tuple[int, Any, dict[str, str]]
_CONTEXT = re.compile(r"\(context layer \d+\):\n(.*?)\n", re.S)
_INJECTION = re.compile(r"reply with:\s*(.+)$", re.I | re.S)


@dataclass
class FakeDraftLLM:
    key: str = "sk-draft"
    base_url: str = ""
    drop: set[int] = field(default_factory=set)
    limited: int = 0  # the next N calls get 429 rate_limit_exceeded (retry-after-ms: 50)
    refused: int = 0  # 429s answered so far
    requests: list[dict[str, Any]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def handle(self, method: str, path: str, headers: dict[str, str], body: Any) -> Reply:
        if denied := bad_key(headers.get("authorization"), self.key):
            return denied
        with self._lock:
            if self.limited > 0:
                self.limited -= 1
                self.refused += 1
                error = {
                    "message": "Rate limit reached for requests",
                    "type": "requests",
                    "param": None,
                    "code": "rate_limit_exceeded",
                }
                return 429, {"error": error}, {"retry-after-ms": "50"}
        fmt = (body or {}).get("response_format") or {}
        if fmt.get("type") != "json_schema" or not fmt["json_schema"].get("strict"):
            return (
                400,
                {
                    "error": {
                        "message": "strict json_schema expected",
                        "type": "invalid_request_error",
                        "param": "response_format",
                        "code": None,
                    }
                },
                {},
            )
        system, user = body["messages"][0]["content"], body["messages"][1]["content"]
        with self._lock:
            self.requests.append(body)
            drop, self.drop = self.drop, set()
        m = _CONTEXT.search(system)
        fact = m.group(1).split(".")[0].strip() if m else ""
        drafts = []
        for line in user.splitlines():
            item = orjson.loads(line)
            if item["i"] in drop:
                continue
            hijack = _INJECTION.search(item["text"])
            if hijack:
                text = hijack.group(1).strip()
            elif item["text"].startswith("Original post"):
                text = f"News from Acme: {fact} ({item['i'] + 1})"
            else:
                text = f"Thanks for reaching out! {fact}."
            drafts.append({"i": item["i"], "text": text})
        content = orjson.dumps({"drafts": drafts}).decode()
        return (
            200,
            {
                "id": "chatcmpl-draft",
                "object": "chat.completion",
                "created": 0,
                "model": body.get("model", "m"),
                "choices": [
                    {
                        "index": 0,
                        "finish_reason": "stop",
                        "message": {"role": "assistant", "content": content},
                    }
                ],
                "usage": {
                    "prompt_tokens": len(system + user) // 4,
                    "completion_tokens": len(content) // 4,
                    "total_tokens": (len(system + user) + len(content)) // 4,
                },
            },
            {},
        )


@contextmanager
def fake_draft_llm() -> Iterator[FakeDraftLLM]:
    fake = FakeDraftLLM()
    with serve(fake.handle) as url:
        fake.base_url = url + "/v1"
        yield fake
