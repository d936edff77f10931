"""The store keeps only the secondary indexes its queries read (each costs every insert)."""

from __future__ import annotations

import psycopg

from chirpflow.connectors.postgres.migrate import migrate


def test_hot_tables_keep_only_the_indexes_queries_use(pg_url: str) -> None:
    migrate(pg_url)
    with psycopg.connect(pg_url) as conn:
        names = {
            r[0]
            for r in conn.execute(
                "SELECT indexname FROM pg_indexes WHERE tablename = ANY(%s)",
                (["tweets", "analyses", "chunks", "duplicates"],),
            )
        }
    assert names == {
        "tweets_pkey",
        "tweets_created_idx",  # results: newest first, since/until
        "tweets_username_idx",  # results --author
        "tweets_platform_post_idx",  # a platform post's id is unique
        "analyses_pkey",
        "analyses_analyzed_idx",  # dashboard and Grafana time ranges
        "analyses_txid_idx",  # the reply planner reads analyses in commit order
        "chunks_pkey",
        "duplicates_pkey",
    }
