-- Spend and usage as append-only facts, each idempotent by its own key: one row
-- per chunk analysis (LLM call or cache answer) and one per provider, source and
-- usage flush. A replay or rerun adds its own rows and never rewrites earlier ones.

CREATE TABLE llm_spend (
    id                text PRIMARY KEY,          -- the analysis's own id: a retried write adds nothing
    run_id            text        NOT NULL,      -- the process that made the call
    chunk_id          text        NOT NULL,
    model             text,
    requests          integer     NOT NULL DEFAULT 0,
    prompt_tokens     integer     NOT NULL DEFAULT 0,
    cached_tokens     integer     NOT NULL DEFAULT 0,
    completion_tokens integer     NOT NULL DEFAULT 0,
    cost_usd          numeric(14, 8) NOT NULL DEFAULT 0,
    cache_hits        integer     NOT NULL DEFAULT 0,
    tweets            integer     NOT NULL DEFAULT 0,
    at                timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX llm_spend_run_idx ON llm_spend (run_id, at);

-- what chunk rows recorded before this ledger existed
INSERT INTO llm_spend (id, run_id, chunk_id, model, requests, prompt_tokens, cached_tokens,
                       completion_tokens, cost_usd, cache_hits, tweets, at)
SELECT 'before-ledger:' || chunk_id, 'before-ledger', chunk_id, model, requests, prompt_tokens,
       cached_tokens, completion_tokens, cost_usd, cache_hits, size, analyzed_at
FROM chunks;

CREATE TABLE source_spend (
    flush_id text        NOT NULL,               -- one usage flush: retried, it adds nothing
    provider text        NOT NULL,
    source   text        NOT NULL,
    run_id   text        NOT NULL,
    day      date        NOT NULL,
    requests bigint      NOT NULL DEFAULT 0,
    tweets   bigint      NOT NULL DEFAULT 0,
    cost_usd numeric(14, 6) NOT NULL DEFAULT 0,
    at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (flush_id, provider, source)
);
CREATE INDEX source_spend_run_idx ON source_spend (run_id, at);

INSERT INTO source_spend (flush_id, provider, source, run_id, day, requests, tweets, cost_usd, at)
SELECT 'before-ledger:' || day, provider, source, 'before-ledger', day, requests, tweets, cost_usd,
       day::timestamptz
FROM source_usage;

-- the per-day totals readers know, now summed from the ledger
DROP TABLE source_usage;
CREATE VIEW source_usage AS
SELECT day, provider, source, sum(requests)::bigint AS requests, sum(tweets)::bigint AS tweets,
       sum(cost_usd)::numeric(14, 6) AS cost_usd
FROM source_spend GROUP BY day, provider, source;
