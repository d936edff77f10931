"""Export scenario: a million analysed tweets to CSV, JSON lines and Parquet.

The store is filled by SQL (generate_series) so the process's peak RSS is the
export's own: the rows stream through a server-side cursor, batch by batch.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

import psycopg

from chirpflow.connectors.postgres.migrate import migrate
from chirpflow.connectors.postgres.results import TWEET_COLUMNS, TweetFilter, stream
from chirpflow.flows.file_writers import FORMATS, open_writer, write_all

_FILL = """
INSERT INTO tweets (id, text, author_id, author_username, created_at, fetched_at, source,
                    watch, origin)
SELECT 1800000000000000000 + g, 'tweet ' || g || ' about the brand, with some words to carry',
       1000 + g %% 5000, 'user' || (g %% 5000), now() - g * interval '1 second', now(),
       'synthetic', 'brand', 'bench:' || g
FROM generate_series(1, %(n)s) g;
INSERT INTO analyses (tweet_id, analyzer_version, analyzer, sentiment, sentiment_score, topics,
                      language, risk, flags, reason)
SELECT 1800000000000000000 + g, 'offline-1', 'offline',
       (ARRAY['negative', 'neutral', 'positive'])[1 + g %% 3], 0.5,
       ARRAY['brand', 'topic' || g %% 50],
       'en', g %% 101, CASE WHEN g %% 10 = 0 THEN ARRAY['keyword'] ELSE '{}' END, 'bench'
FROM generate_series(1, %(n)s) g;
"""


def export(n: int, url: str | None) -> dict[str, Any]:
    """Rows/s per format; the writer holds one batch at a time."""
    assert url, "the export scenario needs a database URL"
    migrate(url)
    with psycopg.connect(url) as conn:
        for statement in _FILL.split(";")[:2]:
            conn.execute(statement, {"n": n})
    out: dict[str, Any] = {"tweets": n}
    with tempfile.TemporaryDirectory() as tmp:
        for fmt in FORMATS:
            path = Path(tmp) / f"tweets.{fmt}"
            started = time.perf_counter()
            try:
                writer = open_writer(fmt, path, TWEET_COLUMNS)
            except Exception as err:  # pyarrow missing: measured formats only
                out[f"{fmt}_skipped"] = str(err)
                continue
            rows = write_all(writer, stream(url, "tweets", TweetFilter()))
            elapsed = time.perf_counter() - started
            out[f"{fmt}_rows_per_s"] = rows / elapsed
            out[f"{fmt}_mb"] = path.stat().st_size / 1e6
            assert rows == n, f"{fmt}: exported {rows} of {n}"
    out["tweets_per_s"] = out["csv_rows_per_s"]
    return out
