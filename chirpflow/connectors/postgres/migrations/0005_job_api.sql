-- On-demand account analysis jobs: parameters, ownership, progress; API keys.
CREATE TABLE api_keys (
    id         bigserial PRIMARY KEY,
    name       text        NOT NULL,
    key_hash   text        NOT NULL UNIQUE,      -- sha256 of the key; the key itself is never stored
    created_at timestamptz NOT NULL DEFAULT now(),
    revoked_at timestamptz
);

ALTER TABLE analysis_jobs
    ADD COLUMN seq             bigserial,        -- first in, first out
    ADD COLUMN username        text,
    ADD COLUMN max_tweets      integer,
    ADD COLUMN include_replies boolean NOT NULL DEFAULT false,
    ADD COLUMN api_key_id      bigint REFERENCES api_keys (id),
    ADD COLUMN started_at      timestamptz,
    ADD COLUMN fetched_tweets  integer NOT NULL DEFAULT 0,
    ADD COLUMN cancel_requested boolean NOT NULL DEFAULT false;
CREATE INDEX analysis_jobs_queue_idx ON analysis_jobs (seq) WHERE status = 'queued';

ALTER TABLE analysis_results ADD COLUMN size integer NOT NULL DEFAULT 0;
