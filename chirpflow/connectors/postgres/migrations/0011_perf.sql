-- Analysis results by text key (a digest of the analyzer version and the
-- normalized text): a replay or a new process without Redis looks them up here
-- before calling the LLM. Written when a chunk is analysed, never updated.
CREATE TABLE IF NOT EXISTS text_results (
    text_key  text PRIMARY KEY,
    analysis  jsonb NOT NULL,
    stored_at timestamptz NOT NULL DEFAULT now()
);
