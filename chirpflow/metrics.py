"""The chirpflow metrics, in prometheus_client's default registry.

Names follow Prometheus conventions: the ``chirpflow_`` prefix, base units,
``_total`` for counters; labels never carry tweet, user or chat ids.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

LATENCY_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120)
E2E_BUCKETS = (0.1, 0.5, 1, 5, 15, 30, 60, 120, 300, 900, 3600)

TWEETS_IN = Counter("chirpflow_tweets_in_total", "Items read from sources", ["source"])
DUPLICATES = Counter("chirpflow_duplicates_total", "Arrivals dropped as duplicates", ["source"])
DEAD_LETTERS = Counter("chirpflow_dead_letters_total", "Items dead-lettered", ["reason"])
ANALYZED = Counter("chirpflow_tweets_analyzed_total", "Tweets with an analysis", ["analyzer"])
CHUNKS = Counter("chirpflow_chunks_total", "Chunks analysed", ["analyzer"])
CHUNK_SIZE = Histogram(
    "chirpflow_chunk_size_tweets", "Tweets per chunk", buckets=(1, 5, 10, 25, 50, 75, 100, 250)
)
CHUNK_WAIT = Histogram(
    "chirpflow_chunk_wait_seconds",
    "Time from a chunk's first tweet to its analysis",
    buckets=LATENCY_BUCKETS,
)
ANALYZER_LATENCY = Histogram(
    "chirpflow_analyzer_latency_seconds",
    "Time to analyse one chunk",
    ["analyzer"],
    buckets=LATENCY_BUCKETS,
)
CACHE_HITS = Counter("chirpflow_cache_hits_total", "Analyses reused from the result cache")
CACHE_LOOKUPS = Counter("chirpflow_cache_lookups_total", "Result cache lookups")
SINK_ROWS = Counter("chirpflow_sink_rows_total", "Rows written by a sink", ["sink"])
SINK_ERRORS = Counter("chirpflow_sink_errors_total", "Failed sink writes (retried)", ["sink"])
SINK_LATENCY = Histogram(
    "chirpflow_sink_write_seconds", "Time per sink batch write", ["sink"], buckets=LATENCY_BUCKETS
)
END_TO_END = Histogram(
    "chirpflow_end_to_end_seconds",
    "From a chunk's first tweet being fetched to its outcome being counted (one per chunk)",
    buckets=E2E_BUCKETS,
)
FLAGGED = Counter("chirpflow_tweets_flagged_total", "Tweets with risk flags or high risk")
UP = Gauge("chirpflow_up", "1 while the dataflow runs")

LLM_REQUESTS = Counter(
    "chirpflow_llm_requests_total", "LLM API requests by outcome", ["model", "outcome"]
)
LLM_RETRIES = Counter("chirpflow_llm_retries_total", "LLM requests retried", ["reason"])
LLM_RATE_LIMITED = Counter("chirpflow_llm_429_total", "LLM answers with status 429", ["code"])
LLM_IN_FLIGHT = Gauge("chirpflow_llm_in_flight", "LLM requests under way")
LLM_TOKENS = Counter(
    "chirpflow_llm_tokens_total",
    "LLM tokens by kind (prompt, cached, completion)",
    ["model", "kind"],
)
LLM_COST = Counter("chirpflow_llm_cost_usd_total", "LLM spend in US dollars", ["model"])
LLM_CIRCUIT_OPEN = Gauge(
    "chirpflow_llm_circuit_open", "1 while LLM calls wait on quota or authentication errors"
)
LLM_RATE_WAIT = Counter(
    "chirpflow_llm_rate_limit_wait_seconds_total", "Time spent waiting for rate-limit buckets"
)
NOTIFICATIONS = Counter(
    "chirpflow_notifications_total", "Notifications by channel and outcome", ["channel", "outcome"]
)
ACTIONS = Counter(
    "chirpflow_actions_total",
    "Reply/post drafts by outcome (drafted, blocked, approved, rejected, posted, failed)",
    ["outcome", "check"],  # check: the gate check that blocked, else ""
)

SOURCE_REQUESTS = Counter(
    "chirpflow_source_requests_total", "Tweet API requests by provider", ["provider"]
)
SOURCE_TWEETS = Counter(
    "chirpflow_source_tweets_total", "New tweets fetched from tweet APIs", ["provider"]
)
SOURCE_COST = Counter(
    "chirpflow_source_cost_usd_total", "Tweet API spend in US dollars", ["provider"]
)
SOURCES_STOPPED = Gauge(
    "chirpflow_sources_stopped", "Watched items stopped by a fatal API error (bad key, credits)"
)
PENDING_TWEETS = Gauge(
    "chirpflow_pending_tweets", "Tweets waiting in open chunks (not yet sent for analysis)"
)
PENDING_CHUNKS = Gauge("chirpflow_pending_chunks", "Chunks submitted for analysis, not finished")
KAFKA_LAG = Gauge(
    "chirpflow_kafka_lag_messages",
    "Messages behind the end of a Kafka partition",
    ["topic", "partition"],
)
SOURCE_REMAINING = Gauge(
    "chirpflow_source_rate_limit_remaining",
    "Requests left in the tweet API's current rate-limit window (from its headers)",
    ["provider"],
)
