"""The read-only web dashboard (``chirpflow ui``, and under /ui of ``chirpflow api``)."""

from chirpflow.flows.ui.router import ui_router

__all__ = ["ui_router"]
