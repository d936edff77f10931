"""Analysis without any API: VADER sentiment, topics, PII and risk keywords."""

from operators.offline.analyzer import OfflineAnalyzer
from operators.offline.noop import NoopAnalyzer

__all__ = ["NoopAnalyzer", "OfflineAnalyzer"]
