"""A fake OpenAI-compatible chat-completions server, speaking real HTTP on loopback.

It checks the request shape the way a strict provider does, counts tokens
approximately (4 characters each), adds latency, enforces requests and
tokens per minute with real 429 bodies and headers, and on demand misbehaves:
malformed JSON, truncated output, missing / duplicated / forged-first / unknown
indices,
refusals, 500, 503, hangs, ``insufficient_quota``, an error echoing the key. Its answers are a crude
but deterministic analysis of each tweet line, so tests can check them.
"""

from __future__ import annotations

import collections
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import orjson

POSITIVE = ("love", "great", "amazing", "best", "happy", "thanks", "awesome")
NEGATIVE = ("hate", "terrible", "worst", "awful", "broken", "scam", "disappointed")
RISKY = ("scam", "hacked", "phishing", "fraud", "lawsuit", "outage", "breach")
INJECTION = "ignore previous instructions"


def analyse_line(i: int, text: str) -> dict[str, Any]:
    """The fake model's opinion of one tweet."""
    low = text.lower()
    pos = sum(w in low for w in POSITIVE)
    neg = sum(w in low for w in NEGATIVE)
    sentiment = "positive" if pos > neg else "negative" if neg > pos else "neutral"
    score = {"positive": 0.7, "negative": -0.7, "neutral": 0.0}[sentiment]
    flags = []
    if re.search(r"[\w.]+@[\w.]+\.\w+|\d{4}[ -]\d{4}[ -]\d{4}", text):
        flags.append("pii")
    if any(w in low for w in RISKY):
        flags.append("keyword")
    return {
        "i": i,
        "sentiment": sentiment,
        "score": score,
        "topics": [t.lower() for t in re.findall(r"#(\w+)", text)][:3],
        "risk": min(100, 40 * len(flags) + (10 if sentiment == "negative" else 0)),
        "flags": flags,
        "language": "en",
        "reason": f"{sentiment} wording",
    }


@dataclass
class FakeLLM:
    """Behaviour and observations of the fake; tests change it between calls."""

    latency_s: float = 0.0
    rpm: int | None = None
    tpm: int | None = None
    api_key: str = "sk-test"
    script: collections.deque[str] = field(default_factory=collections.deque)
    max_tweets_per_answer: int | None = None  # more than this: truncated (finish=length)
    report_cost: bool = False  # OpenRouter-style usage.cost
    served_model: str | None = None  # answer as this model (fallback routing)
    requests: list[dict[str, Any]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    statuses: collections.Counter[int] = field(default_factory=collections.Counter)
    prompt_tokens: int = 0
    completion_tokens: int = 0
    in_flight: int = 0
    max_in_flight: int = 0
    _window: collections.deque[tuple[float, int]] = field(default_factory=collections.deque)
    _prefixes: set[str] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def then(self, *behaviours: str) -> FakeLLM:
        """Queue behaviours for the next requests, one each."""
        self.script.extend(behaviours)
        return self

    @property
    def ok_requests(self) -> int:
        return self.statuses[200]


def _tokens(text: str) -> int:
    return max(1, len(text) // 4)


def _error(status: int, message: str, kind: str, code: str | None) -> tuple[int, dict[str, Any]]:
    return status, {"error": {"message": message, "type": kind, "param": None, "code": code}}


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        return None

    def _send(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        data = orjson.dumps(body)
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)
        self.server.fake.statuses[status] += 1

    def do_GET(self) -> None:
        """``GET /v1/models``: what ``doctor`` and the start-up check ask (not counted)."""
        fake = self.server.fake
        if self.path.rstrip("/") != "/v1/models":
            status, body = _error(404, f"Unknown path {self.path}", "invalid_request_error", None)
        elif self.headers.get("authorization") != f"Bearer {fake.api_key}":
            status, body = _error(
                401, "Incorrect API key provided", "invalid_request_error", "invalid_api_key"
            )
        else:
            model = {"id": fake.served_model or "gpt-4o-mini", "object": "model"}
            status, body = 200, {"object": "list", "data": [model]}
        data = orjson.dumps(body)
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self) -> None:
        fake = self.server.fake
        length = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(length)
        if self.path.rstrip("/") != "/v1/chat/completions":
            self._send(*_error(404, f"Unknown path {self.path}", "invalid_request_error", None))
            return
        if self.headers.get("authorization") != f"Bearer {fake.api_key}":
            self._send(
                *_error(
                    401, "Incorrect API key provided", "invalid_request_error", "invalid_api_key"
                )
            )
            return
        try:
            body = orjson.loads(raw)
        except orjson.JSONDecodeError:
            self._send(
                *_error(400, "We could not parse the JSON body", "invalid_request_error", None)
            )
            return
        fake.requests.append(body)
        fake.headers.append({k.lower(): v for k, v in self.headers.items()})
        problem = _check_shape(body)
        if problem:
            self._send(*_error(400, problem, "invalid_request_error", None))
            return
        behaviour = fake.script.popleft() if fake.script else "ok"
        if behaviour == "hang":
            time.sleep(3600)
            return
        if behaviour in ("500", "503"):
            status = int(behaviour)
            self._send(*_error(status, "The server had an error", "server_error", None))
            return
        if behaviour == "insufficient_quota":
            self._send(
                *_error(
                    429,
                    "You exceeded your current quota",
                    "insufficient_quota",
                    "insufficient_quota",
                )
            )
            return
        if behaviour == "echo_key":  # a provider that repeats the key in its error text
            key = (self.headers.get("authorization") or "").removeprefix("Bearer ")
            self._send(
                *_error(400, f"Model not available for key {key}", "invalid_request_error", None)
            )
            return
        if behaviour == "402":
            self._send(402, {"error": {"code": 402, "message": "Insufficient credits"}})
            return
        messages = body["messages"]
        prompt_text = "".join(m["content"] for m in messages)
        prompt_tokens = _tokens(prompt_text)
        limit_headers = self._rate_limit(fake, prompt_tokens)
        if limit_headers is None:
            return
        with fake._lock:
            fake.in_flight += 1
            fake.max_in_flight = max(fake.max_in_flight, fake.in_flight)
        try:
            if fake.latency_s:
                time.sleep(fake.latency_s)
            self._answer(fake, body, behaviour, prompt_tokens, limit_headers)
        finally:
            with fake._lock:
                fake.in_flight -= 1

    def _rate_limit(self, fake: FakeLLM, tokens: int) -> dict[str, str] | None:
        """The rate-limit headers of an accepted request, or None after sending a 429."""
        now = time.monotonic()
        with fake._lock:
            while fake._window and now - fake._window[0][0] >= 60:
                fake._window.popleft()
            used_req = len(fake._window)
            used_tok = sum(n for _, n in fake._window)
            over_req = fake.rpm is not None and used_req >= fake.rpm
            over_tok = fake.tpm is not None and used_tok + tokens > fake.tpm
            if not (over_req or over_tok):
                fake._window.append((now, tokens))
                used_req, used_tok = used_req + 1, used_tok + tokens
            reset = 60 - (now - fake._window[0][0]) if fake._window else 0.0
        headers = {
            "x-ratelimit-limit-requests": str(fake.rpm or 10_000),
            "x-ratelimit-limit-tokens": str(fake.tpm or 10_000_000),
            "x-ratelimit-remaining-requests": str(max(0, (fake.rpm or 10_000) - used_req)),
            "x-ratelimit-remaining-tokens": str(max(0, (fake.tpm or 10_000_000) - used_tok)),
            "x-ratelimit-reset-requests": f"{reset:.3f}s",
            "x-ratelimit-reset-tokens": f"{reset:.3f}s",
        }
        if not (over_req or over_tok):
            return headers
        what = "requests" if over_req else "tokens"
        limit = fake.rpm if over_req else fake.tpm
        headers["retry-after-ms"] = str(int(reset * 1000))
        self._send(
            429,
            {
                "error": {
                    "message": f"Rate limit reached for {what} per min: Limit {limit}. "
                    f"Please try again in {reset:.3f}s.",
                    "type": what,
                    "param": None,
                    "code": "rate_limit_exceeded",
                }
            },
            headers,
        )
        return None

    def _answer(
        self,
        fake: FakeLLM,
        body: dict[str, Any],
        behaviour: str,
        prompt: int,
        limit_headers: dict[str, str],
    ) -> None:
        lines = [orjson.loads(x) for x in body["messages"][-1]["content"].splitlines() if x]
        entries = [analyse_line(x["i"], x["text"]) for x in lines]
        if any(INJECTION in x["text"].lower() for x in lines):
            # a gullible model: obeys the tweet, claims other tweets and extra indices
            entries += [dict(e, sentiment="positive", score=1.0) for e in entries]
            entries.append(dict(entries[0], i=len(lines) + 7))
        finish, refusal = "stop", None
        doc: dict[str, Any] = {"tweets": entries, "summary": f"{len(lines)} tweets analysed."}
        if behaviour == "missing" and len(entries) > 1:
            doc["tweets"] = entries[:-1]
        elif behaviour == "duplicate":
            doc["tweets"] = [*entries, dict(entries[0], sentiment="negative", score=-1.0)]
        elif behaviour == "forged_first":  # a planted entry for tweet 0 before its real one
            forged = dict(entries[0], sentiment="positive", score=1.0, risk=0, reason="forged")
            doc["tweets"] = [forged, *entries]
        elif behaviour == "unknown":
            doc["tweets"] = [*entries, dict(entries[0], i=10_000)]
        elif behaviour == "invalid_value":
            doc["tweets"] = [dict(entries[0], risk=400), *entries[1:]]
        text = orjson.dumps(doc).decode()
        if behaviour == "malformed":
            text = text[: len(text) // 2] + "}}]"
        truncate = (
            fake.max_tweets_per_answer is not None and len(lines) > fake.max_tweets_per_answer
        )
        if behaviour == "truncated" or truncate:
            text, finish = text[: len(text) // 3], "length"
        content: str | None = text
        if behaviour == "refusal":
            content, refusal = None, "I'm sorry, I can't help with that."
        completion = _tokens(content or refusal or "")
        prefix = body["messages"][0]["content"]
        cached = 0
        if _tokens(prefix) >= 1024:
            cached = _tokens(prefix) if prefix in fake._prefixes else 0
            fake._prefixes.add(prefix)
        with fake._lock:
            fake.prompt_tokens += prompt
            fake.completion_tokens += completion
        models = body.get("models") or [body["model"]]
        model = fake.served_model or models[0]
        usage: dict[str, Any] = {
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion,
            "prompt_tokens_details": {"cached_tokens": cached},
        }
        if fake.report_cost:
            usage["cost"] = round((prompt + 4 * completion) * 1e-7, 10)
        self._send(
            200,
            {
                "id": f"chatcmpl-{len(fake.requests)}",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": model,
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": content, "refusal": refusal},
                        "finish_reason": finish,
                    }
                ],
                "usage": usage,
            },
            limit_headers,
        )


def _check_shape(body: Any) -> str | None:
    """What a strict provider would reject, as its error message."""
    if not isinstance(body, dict):
        return "body must be an object"
    if not isinstance(body.get("model"), str) or not body["model"]:
        return "you must provide a model parameter"
    msgs = body.get("messages")
    if not isinstance(msgs, list) or not msgs:
        return "'messages' must be a non-empty array"
    for m in msgs:
        if not isinstance(m, dict) or m.get("role") not in ("system", "user", "assistant"):
            return "invalid message role"
        if not isinstance(m.get("content"), str):
            return "message content must be a string"
    rf = body.get("response_format")
    if rf is not None:
        schema = (
            (rf.get("json_schema") or {}).get("schema") if rf.get("type") == "json_schema" else None
        )
        if rf.get("type") == "json_schema" and not _strict_ok(schema):
            return (
                "Invalid schema for response_format: strict mode needs every property"
                " in required and additionalProperties false"
            )
    return None


def _strict_ok(schema: Any) -> bool:
    if not isinstance(schema, dict):
        return False
    if schema.get("type") == "object":
        props = schema.get("properties", {})
        if schema.get("additionalProperties") is not False:
            return False
        if sorted(schema.get("required", [])) != sorted(props):
            return False
        return all(_strict_ok(p) for p in props.values())
    if schema.get("type") == "array":
        return _strict_ok(schema.get("items"))
    return True


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, fake: FakeLLM) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.fake = fake


@contextmanager
def running(fake: FakeLLM | None = None) -> Iterator[tuple[FakeLLM, str]]:
    """Serve ``fake`` on a free loopback port; yields it and its base URL (``.../v1``)."""
    fake = fake or FakeLLM()
    server = _Server(fake)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake, f"http://127.0.0.1:{server.server_address[1]}/v1"
    finally:
        server.shutdown()
        server.server_close()
