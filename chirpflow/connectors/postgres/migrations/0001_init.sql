-- Tweets, their analyses, chunks, duplicates, dead letters and source progress.
-- Every table has a natural key so a replay upserts instead of duplicating.

CREATE TABLE tweets (
    id                  bigint PRIMARY KEY,
    text                text        NOT NULL,
    author_id           bigint      NOT NULL,
    author_username     text,
    conversation_id     bigint,
    created_at          timestamptz NOT NULL,
    fetched_at          timestamptz NOT NULL,
    lang                text,
    referenced_tweet_id bigint,
    referenced_kind     text,
    retweets            bigint      NOT NULL DEFAULT 0,
    replies             bigint      NOT NULL DEFAULT 0,
    likes               bigint      NOT NULL DEFAULT 0,
    quotes              bigint      NOT NULL DEFAULT 0,
    views               bigint,
    source              text        NOT NULL,
    watch               text,
    origin              text        NOT NULL,
    chunk_id            text,
    stored_at           timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX tweets_author_created_idx ON tweets (author_id, created_at DESC);
CREATE INDEX tweets_created_idx ON tweets (created_at DESC);
CREATE INDEX tweets_username_idx ON tweets (lower(author_username), created_at DESC);

CREATE TABLE analyses (
    tweet_id         bigint      NOT NULL,
    analyzer_version text        NOT NULL,
    analyzer         text        NOT NULL,
    sentiment        text        NOT NULL CHECK (sentiment IN ('negative', 'neutral', 'positive')),
    sentiment_score  real        NOT NULL,
    topics           text[]      NOT NULL DEFAULT '{}',
    language         text,
    risk             smallint    NOT NULL CHECK (risk BETWEEN 0 AND 100),
    flags            text[]      NOT NULL DEFAULT '{}',
    reason           text        NOT NULL DEFAULT '',
    chunk_id         text,
    analyzed_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tweet_id, analyzer_version)
);
CREATE INDEX analyses_risk_idx ON analyses (risk DESC, analyzed_at DESC);
CREATE INDEX analyses_analyzed_idx ON analyses (analyzed_at DESC);

CREATE TABLE chunks (
    chunk_id          text PRIMARY KEY,
    key               text        NOT NULL,
    seq               bigint      NOT NULL,
    size              integer     NOT NULL,
    summary           text        NOT NULL DEFAULT '',
    analyzer          text        NOT NULL,
    analyzer_version  text        NOT NULL,
    model             text,
    prompt_tokens     integer     NOT NULL DEFAULT 0,
    cached_tokens     integer     NOT NULL DEFAULT 0,
    completion_tokens integer     NOT NULL DEFAULT 0,
    cost_usd          numeric(14, 8) NOT NULL DEFAULT 0,
    opened_at         timestamptz,
    analyzed_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX chunks_key_seq_idx ON chunks (key, seq);

CREATE TABLE duplicates (
    origin   text PRIMARY KEY,
    tweet_id bigint      NOT NULL,
    source   text        NOT NULL,
    seen_at  timestamptz NOT NULL
);
CREATE INDEX duplicates_tweet_idx ON duplicates (tweet_id);

CREATE TABLE dead_letters (
    origin     text PRIMARY KEY,
    source     text        NOT NULL,
    reason     text        NOT NULL,
    detail     text        NOT NULL,
    payload    text        NOT NULL,
    tweet_id   text,
    first_seen timestamptz NOT NULL DEFAULT now(),
    last_seen  timestamptz NOT NULL DEFAULT now(),
    attempts   integer     NOT NULL DEFAULT 1
);
CREATE INDEX dead_letters_reason_idx ON dead_letters (reason, last_seen DESC);

-- How far each stream (source and partition) has been read: arrivals are
-- counted by position, independently of what became of them.
CREATE TABLE source_progress (
    stream     text PRIMARY KEY,
    first_seq  bigint      NOT NULL,
    last_seq   bigint      NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);
