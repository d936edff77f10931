"""The per-key request budget of ``chirpflow ui`` on its own: the jobs API's budget.

``[jobs] requests_per_minute_per_key`` from $CHIRPFLOW_CONFIG (else the default),
shared with every API replica through Redis when REDIS_URL is set.
"""

from __future__ import annotations

from chirpflow.request_budget import LocalBudget, RequestBudget
from chirpflow.settings import load_settings


def dashboard_budget(redis_url: str | None) -> RequestBudget:
    from chirpflow.connectors.redis.request_budget import RedisBudget

    per_minute = load_settings().jobs.requests_per_minute_per_key
    return RedisBudget(redis_url, per_minute) if redis_url else LocalBudget(per_minute)
