-- The jobs API keeps clients apart: admin keys, a per-key index, job-worker heartbeats.
ALTER TABLE api_keys ADD COLUMN IF NOT EXISTS admin boolean NOT NULL DEFAULT false;

CREATE INDEX IF NOT EXISTS analysis_jobs_api_key_idx ON analysis_jobs (api_key_id, seq);

-- One row per live job worker (`chirpflow run` with [jobs] enabled), refreshed every few
-- seconds and removed when it stops; the API refuses jobs when none was seen recently.
CREATE TABLE IF NOT EXISTS job_workers (
    id         text PRIMARY KEY,              -- host:pid:random
    started_at timestamptz NOT NULL DEFAULT now(),
    seen_at    timestamptz NOT NULL DEFAULT now()
);
