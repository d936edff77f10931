"""A fake OpenAI moderation endpoint: flags texts containing chosen words, per category."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from tests.fakes.http_fake import serve
from tests.fakes.openai_errors import bad_key

CATEGORIES = (
    "harassment",
    "harassment/threatening",
    "hate",
    "hate/threatening",
    "illicit",
    "illicit/violent",
    "self-harm",
    "self-harm/intent",
    "self-harm/instructions",
    "sexual",
    "sexual/minors",
    "violence",
    "violence/graphic",
)


@dataclass
class FakeModeration:
    key: str = "sk-mod"
    base_url: str = ""
    words: dict[str, str] = field(
        default_factory=lambda: {"crush them": "violence", "worthless": "harassment"}
    )
    fail: bool = False
    inputs: list[str] = field(default_factory=list)

    def handle(
        self, method: str, path: str, headers: dict[str, str], body: Any
    ) -> tuple[int, Any, dict[str, str]]:
        if denied := bad_key(headers.get("authorization"), self.key):
            return denied
        if self.fail:
            return (
                500,
                {
                    "error": {
                        "message": "The server had an error",
                        "type": "server_error",
                        "param": None,
                        "code": None,
                    }
                },
                {},
            )
        text = str(body["input"])
        self.inputs.append(text)
        hit = {cat for word, cat in self.words.items() if word in text.lower()}
        return (
            200,
            {
                "id": "modr-1",
                "model": body.get("model"),
                "results": [
                    {
                        "flagged": bool(hit),
                        "categories": {c: c in hit for c in CATEGORIES},
                        "category_scores": {c: 0.9 if c in hit else 0.01 for c in CATEGORIES},
                        "category_applied_input_types": {c: ["text"] for c in CATEGORIES},
                    }
                ],
            },
            {},
        )


@contextmanager
def fake_moderation() -> Iterator[FakeModeration]:
    fake = FakeModeration()
    with serve(fake.handle) as url:
        fake.base_url = url + "/v1"
        yield fake
