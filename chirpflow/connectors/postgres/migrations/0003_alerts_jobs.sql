-- Alerts outbox and channel state; on-demand analysis jobs as teams already use them.

ALTER TABLE tweets ADD COLUMN author_followers bigint;

CREATE TABLE notifications (
    id          text PRIMARY KEY,           -- rule:tweet-or-chunk:channel, deterministic
    seq         bigserial,                  -- insertion order (send order)
    rule        text        NOT NULL,
    channel     text        NOT NULL,
    kind        text        NOT NULL,       -- tweet | digest | fold
    payload     jsonb       NOT NULL,       -- title, body, url, fields, links, severity
    status      text        NOT NULL DEFAULT 'pending'
                CHECK (status IN ('pending', 'sending', 'sent', 'folded', 'uncertain',
                                  'failed', 'disabled')),
    attempts    integer     NOT NULL DEFAULT 0,
    last_error  text,
    folded_into text,
    remote_id   text,
    created_at  timestamptz NOT NULL DEFAULT now(),
    sent_at     timestamptz
);
CREATE INDEX notifications_pending_idx ON notifications (channel, seq)
    WHERE status = 'pending';
CREATE INDEX notifications_sent_idx ON notifications (channel, sent_at DESC)
    WHERE status = 'sent';

CREATE TABLE channel_state (
    channel    text PRIMARY KEY,
    disabled   boolean     NOT NULL DEFAULT false,
    reason     text,
    chat_id    text,                        -- Telegram: where a migrated group went
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE analysis_jobs (
    id               text PRIMARY KEY,
    key              text        NOT NULL,
    status           text        NOT NULL DEFAULT 'queued'
                     CHECK (status IN ('queued', 'fetching', 'analysing', 'completed',
                                       'failed', 'cancelled')),
    total_tweets     integer     NOT NULL DEFAULT 0,
    processed_tweets integer     NOT NULL DEFAULT 0,
    params           jsonb       NOT NULL DEFAULT '{}',
    error            text,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    completed_at     timestamptz
);
CREATE INDEX analysis_jobs_status_idx ON analysis_jobs (status, created_at);

CREATE TABLE analysis_results (
    job_id     text        NOT NULL REFERENCES analysis_jobs (id) ON DELETE CASCADE,
    chunk_id   text        NOT NULL,
    results    jsonb       NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (job_id, chunk_id)
);
