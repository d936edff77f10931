-- Acting on tweets: context layers, reply/post drafts, decisions, the post outbox, an audit log.

CREATE TABLE context_layers (
    version     integer PRIMARY KEY,
    text        text        NOT NULL,
    status      text        NOT NULL DEFAULT 'proposed'
                CHECK (status IN ('proposed', 'active', 'retired')),
    created_by  text        NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    approved_by text,
    approved_at timestamptz
);
CREATE UNIQUE INDEX context_layers_one_active ON context_layers ((true)) WHERE status = 'active';

CREATE TABLE action_drafts (
    id              text PRIMARY KEY,        -- reply:<tweet id> | post:<batch>:<n>, deterministic
    kind            text        NOT NULL CHECK (kind IN ('reply', 'post')),
    source          text,
    tweet_id        text,                    -- the tweet replied to
    conversation_id text,
    author_id       text,
    tweet_text      text,
    text            text        NOT NULL,
    context_version integer,
    prompt_version  text        NOT NULL,
    risk            integer     NOT NULL DEFAULT 0,
    status          text        NOT NULL DEFAULT 'pending'
                    CHECK (status IN ('pending', 'blocked', 'approved', 'rejected', 'posted',
                                      'failed')),
    blocked_by      text,                    -- the gate check that blocked it
    block_detail    text,
    chat_message_id text,                    -- the approval message in Telegram
    chat_shown      text,                    -- the status that message shows
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX action_drafts_one_reply ON action_drafts (tweet_id) WHERE kind = 'reply';
CREATE INDEX action_drafts_status_idx ON action_drafts (status, created_at);

CREATE TABLE action_decisions (
    id          bigserial PRIMARY KEY,
    draft_id    text        NOT NULL REFERENCES action_drafts (id),
    decision    text        NOT NULL CHECK (decision IN ('approve', 'reject', 'edit', 'auto')),
    actor       text        NOT NULL,
    text        text,
    decided_at  timestamptz NOT NULL DEFAULT now()
);

-- The post outbox: one row per approved draft; claimed (``sending``) only for the HTTP call.
CREATE TABLE action_posts (
    draft_id    text PRIMARY KEY REFERENCES action_drafts (id),
    seq         bigserial,
    text        text        NOT NULL,
    reply_to    text,
    status      text        NOT NULL DEFAULT 'pending'
                CHECK (status IN ('pending', 'sending', 'posted', 'failed')),
    attempts    integer     NOT NULL DEFAULT 0,
    not_before  timestamptz NOT NULL DEFAULT now(),
    claimed_at  timestamptz,
    last_error  text,
    x_id        text,
    resolved_by text,                        -- 'response' | 'read-back'
    created_at  timestamptz NOT NULL DEFAULT now(),
    posted_at   timestamptz
);
CREATE INDEX action_posts_pending_idx ON action_posts (seq) WHERE status = 'pending';

CREATE TABLE action_audit (
    id       bigserial PRIMARY KEY,
    at       timestamptz NOT NULL DEFAULT now(),
    actor    text        NOT NULL,
    action   text        NOT NULL,
    target   text,
    detail   text,
    allowed  boolean     NOT NULL DEFAULT true
);

CREATE TABLE action_state (
    key        text PRIMARY KEY,             -- 'paused'
    value      text NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);
