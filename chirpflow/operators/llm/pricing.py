"""Dollars for a call: from configured prices per 1M tokens, or the provider's own figure."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Prices:
    """USD per 1,000,000 tokens."""

    input: float = 0.0
    cached_input: float = 0.0
    output: float = 0.0

    def cost(self, prompt: int, cached: int, completion: int) -> float:
        fresh = max(0, prompt - cached)
        return (fresh * self.input + cached * self.cached_input + completion * self.output) / 1e6
