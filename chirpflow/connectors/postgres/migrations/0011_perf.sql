-- Analysis results by text key (a digest of the analyzer version and the
-- normalized text): a replay or a new process without Redis looks them up here
-- before calling the LLM. Written when a chunk is analysed, never updated.
CREATE TABLE IF NOT EXISTS text_results (
    text_key  text PRIMARY KEY,
    analysis  jsonb NOT NULL,
    stored_at timestamptz NOT NULL DEFAULT now()
);

-- Secondary indexes that no query of the product reads (results, dashboard,
-- Grafana, stats, jobs) cost every insert: dropped. Kept: tweets_created_idx
-- (results, newest first, since/until), tweets_username_idx (results --author),
-- analyses_analyzed_idx (dashboard and Grafana time ranges), dead_letters and
-- notifications indexes (small tables, dlq and outbox queries).
DROP INDEX IF EXISTS tweets_author_created_idx;  -- nothing filters by author_id
DROP INDEX IF EXISTS analyses_risk_idx;          -- "flagged" is risk OR flags, time-driven
DROP INDEX IF EXISTS chunks_key_seq_idx;         -- nothing looks chunks up by key/seq
DROP INDEX IF EXISTS duplicates_tweet_idx;       -- duplicates are only counted
