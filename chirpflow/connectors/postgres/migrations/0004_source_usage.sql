-- What each tweet API cost, per UTC day, provider and source.
CREATE TABLE source_usage (
    day date NOT NULL,
    provider text NOT NULL,
    source text NOT NULL,
    requests bigint NOT NULL DEFAULT 0,
    tweets bigint NOT NULL DEFAULT 0,
    cost_usd numeric(14, 6) NOT NULL DEFAULT 0,
    PRIMARY KEY (day, provider, source)
);
