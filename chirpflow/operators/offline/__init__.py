"""Analysis without any API: VADER sentiment, topics, PII and risk keywords."""

from chirpflow.operators.offline.analyzer import OfflineAnalyzer
from chirpflow.operators.offline.noop import NoopAnalyzer

__all__ = ["NoopAnalyzer", "OfflineAnalyzer"]
