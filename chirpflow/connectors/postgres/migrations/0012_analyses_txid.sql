-- The reply planner's cursor follows the writing transaction, not the clock:
-- a row is read once every transaction that could still commit before it has
-- finished (txid below the snapshot's xmin), so a slow writer's row with an
-- earlier analyzed_at is never skipped. Rows written before this migration
-- share txid 1 and keep their (analyzed_at, tweet_id) order.
ALTER TABLE analyses ADD COLUMN txid xid8 NOT NULL DEFAULT '1';
ALTER TABLE analyses ALTER COLUMN txid SET DEFAULT pg_current_xact_id();
CREATE INDEX analyses_txid_idx ON analyses (txid, analyzed_at, tweet_id);
