"""What one on-demand job may ask for: the same rules for the API and the CLI.

The most tweets one job may ask for is ``[jobs] max_tweets_limit`` (3,200 by
default, what X returns of a timeline); both ``POST /v1/jobs`` and
``chirpflow jobs submit`` check it here.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from chirpflow.errors import ChirpflowError
from chirpflow.model import USERNAME_PATTERN

DEFAULT_MAX_TWEETS = 200


class JobRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: str = Field(pattern=f"^{USERNAME_PATTERN}$", description="the account, e.g. @jack")
    max_tweets: int = Field(DEFAULT_MAX_TWEETS, ge=1, description="how many of its latest tweets")
    include_replies: bool = False


def job_request_model(max_tweets_limit: int) -> type[JobRequest]:
    """The request model with the configured cap on ``max_tweets``."""

    class JobSubmission(JobRequest):
        max_tweets: int = Field(
            DEFAULT_MAX_TWEETS,
            ge=1,
            le=max_tweets_limit,
            description=f"how many of its latest tweets (at most {max_tweets_limit})",
        )

    return JobSubmission


def parse_job_request(data: dict[str, Any], max_tweets_limit: int) -> JobRequest:
    """A valid request, or one clear line naming what is wrong."""
    try:
        return job_request_model(max_tweets_limit).model_validate(data)
    except ValidationError as err:
        first = err.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "request"
        hint = " ([jobs] max_tweets_limit)" if where == "max_tweets" else ""
        raise ChirpflowError(f"{where}: {first['msg']}{hint}") from None
