"""What a notification channel does, and how it says a send went wrong."""

from __future__ import annotations

from typing import Protocol

from chirpflow.model import Notification


class SendError(Exception):
    """A send failed; subclasses say what to do about it."""


class Transient(SendError):
    """Try again later (5xx, network); ``retry_after`` seconds when known."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class RateLimited(Transient):
    """The channel said "not now" (429): nothing was delivered; ``retry_after`` is known."""

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message, retry_after)


class ChannelGone(SendError):
    """The channel is unusable (webhook deleted, bot blocked): disable it, keep the rows."""


class Rejected(SendError):
    """This message can never be sent as it is (a 400 we cannot repair)."""


class Channel(Protocol):
    """A sender never sleeps before its first request: the dispatcher waits for
    ``ready_in()`` BEFORE it claims a row, so a claimed row means an HTTP call
    is under way. A 429, 5xx or refused connection on the first request raises
    (nothing was delivered) and the dispatcher schedules the next attempt."""

    name: str

    def ready_in(self) -> float:
        """Seconds until the channel's rate limits allow the next request (0: now)."""
        ...

    def send(self, n: Notification) -> str:
        """Deliver ``n`` (possibly as several messages); returns the remote message id."""
        ...

    def close(self) -> None: ...
