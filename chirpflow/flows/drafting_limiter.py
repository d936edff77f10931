"""The drafter's rate limiter: the analysis path's, so both stay under one provider budget.

The limits are ``[analyzer] requests_per_minute`` / ``tokens_per_minute`` (your
provider tier's). With ``REDIS_URL`` the windows live in Redis under the
model's name, shared with the analysis job when it calls the same model;
without Redis they are in-process.
"""

from __future__ import annotations

from chirpflow.connectors.redis.rate_limit import RedisLimiter
from chirpflow.operators.llm.rate_limit import LocalLimiter
from chirpflow.rate_limits import RateLimiter
from chirpflow.settings import Environment, Settings


def drafting_limiter(settings: Settings, env: Environment) -> RateLimiter:
    cfg = settings.analyzer
    rpm, tpm = cfg.requests_per_minute, cfg.tokens_per_minute
    model = settings.actions.drafting.model
    if env.redis_url:
        return RedisLimiter(env.redis_url, rpm, tpm, name=model)
    return LocalLimiter(rpm, tpm)
