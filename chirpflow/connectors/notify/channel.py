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


class ChannelGone(SendError):
    """The channel is unusable (webhook deleted, bot blocked): disable it, keep the rows."""


class Rejected(SendError):
    """This message can never be sent as it is (a 400 we cannot repair)."""


class Channel(Protocol):
    name: str

    def send(self, n: Notification) -> str:
        """Deliver ``n`` (possibly as several messages); returns the remote message id."""
        ...

    def close(self) -> None: ...
