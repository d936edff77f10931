-- Per chunk: LLM requests made and analyses reused from the result cache.
ALTER TABLE chunks ADD COLUMN requests integer NOT NULL DEFAULT 0;
ALTER TABLE chunks ADD COLUMN cache_hits integer NOT NULL DEFAULT 0;
