"""LLM scenarios: the whole flow against the fake provider with real latency and limits.

The provider allows ``RPM`` requests and ``TPM`` tokens per minute and takes
``latency`` seconds per answer. chirpflow is configured with the same limits.
Throughput is measured over the steady state (after the first minute, whose
full bucket allows a burst) from the chunks' analysis times in PostgreSQL and
compared with the ceiling ``min(RPM x 100 / 60, TPM / tokens per tweet)``.
"""

from __future__ import annotations

import dataclasses
import tempfile
import time
from pathlib import Path
from typing import Any

import psycopg

from benchmarks.remote_fake import remote_fake
from chirpflow.connectors.embedded.redis import EmbeddedRedis
from chirpflow.connectors.sources.synthetic import SyntheticTweets
from chirpflow.flows.job import run_job
from chirpflow.operators.llm.analyzer import LLMAnalyzer, LLMSettings
from chirpflow.operators.normalize import normalize
from chirpflow.settings import Environment, settings_from_dict
from tests.fakes.llm_server import FakeLLM, running

RPM = 120
TPM = 2_000_000
STEADY_AFTER_S = 60.0


def _config(latency: float) -> Any:
    return settings_from_dict(
        {
            "pipeline": {"chunk_size": 100, "max_wait": "30s"},
            "sources": [{"name": "synthetic", "type": "synthetic", "rate": 0}],
            "analyzer": {
                "kind": "llm",
                "model": "bench-model",
                "requests_per_minute": RPM,
                "tokens_per_minute": TPM,
                "max_in_flight": max(16, int(RPM * latency / 60 * 1.5) + 2),
            },
            "sinks": {"console": False},
        }
    )


def _steady_rate(url: str) -> tuple[float, float]:
    """Tweets/s over whole minutes after the opening burst, and the span measured.

    Sends are at most RPM per sliding minute, so they come in a burst about
    once a minute; whole-minute windows starting half a minute after the first
    completion each hold exactly one burst, whatever the latency.
    """
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT extract(epoch FROM analyzed_at), size FROM chunks ORDER BY analyzed_at"
        ).fetchall()
    t0 = float(rows[0][0])
    start = t0 + STEADY_AFTER_S / 2
    minutes = int((float(rows[-1][0]) - start) // 60)
    if minutes < 1:
        return 0.0, 0.0
    end = start + 60 * minutes
    tweets = sum(n for t, n in rows if start <= float(t) < end)
    return tweets / (end - start), end - start


def _tokens_per_tweet(url: str, batch: int, n: int = 200) -> float:
    """Prompt tokens per tweet when calling with ``batch`` tweets per request."""
    gen = SyntheticTweets(seed=1, duplicate_ratio=0.0)
    from chirpflow.model import RawRecord, Tweet, make_origin

    tweets = [
        t
        for i, p in enumerate(gen.batch(0, n))
        if isinstance(t := normalize(RawRecord(make_origin("b:0", i), "b", p, gen.start)), Tweet)
    ]
    analyzer = LLMAnalyzer(LLMSettings(model="bench-model"), "sk-test", url)
    prompt = 0
    for i in range(0, len(tweets), batch):
        prompt += analyzer.analyze(tweets[i : i + batch]).prompt_tokens
    analyzer.close()
    return prompt / len(tweets)


def llm_scenario(latency: float, n: int, db_url: str) -> dict[str, Any]:
    ceiling_rpm = RPM * 100 / 60
    with tempfile.TemporaryDirectory() as home, EmbeddedRedis() as redis_url:
        with remote_fake(latency_s=latency, rpm=RPM, tpm=TPM) as (fake, url):
            env = Environment(db_url, redis_url, None, "sk-test", url, Path(home))
            started = time.perf_counter()
            summary = run_job(_config(latency), env, limit=n, recovery=False, live=False)
            elapsed = time.perf_counter() - started
            first_pass_requests = fake.ok_requests
            total = sum(fake.statuses.values())
            limited = fake.statuses[429]
            steady, span = _steady_rate(db_url)
            tokens_per_tweet = fake.prompt_tokens / max(1, summary.analyzed)
            ceiling = min(ceiling_rpm, TPM / 60 / max(tokens_per_tweet, 1e-9))
            # second pass over the same tweets: every result from the Redis cache
            env2 = dataclasses.replace(env, home=Path(home) / "second")
            run_job(_config(latency), env2, limit=n, recovery=False, live=False)
            second_pass_calls = sum(fake.statuses.values()) - total
        # prompt tokens per tweet, batched against one call per tweet (no latency needed)
        with running(FakeLLM()) as (_, quick_url):
            batched = _tokens_per_tweet(quick_url, 100)
            single = _tokens_per_tweet(quick_url, 1)
    return {
        "latency_s": latency,
        "rpm": RPM,
        "tpm": TPM,
        "tweets": summary.arrivals,
        "analyzed": summary.analyzed,
        "dead_letters": summary.dead_letters,
        "seconds": elapsed,
        "tweets_per_s": summary.arrivals / elapsed,
        "steady_tweets_per_s": steady,
        "steady_span_s": span,
        "ceiling_tweets_per_s": ceiling,
        "steady_vs_ceiling": steady / ceiling if ceiling else 0.0,
        "requests": first_pass_requests,
        "http_429": limited,
        "http_429_share": limited / max(1, total),
        "prompt_tokens_per_tweet_batched": batched,
        "prompt_tokens_per_tweet_single": single,
        "single_vs_batched_tokens": single / batched if batched else 0.0,
        "second_pass_llm_calls": second_pass_calls,
    }


def llm_2s(n: int, url: str | None) -> dict[str, Any]:
    assert url
    return llm_scenario(2.0, min(n, 52_000), url)


def llm_15s(n: int, url: str | None) -> dict[str, Any]:
    assert url
    return llm_scenario(15.0, min(n, 90_000), url)
