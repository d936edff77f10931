-- Alerts outbox: how often a row was interrupted inside its HTTP call (kill -9, crash),
-- and when it was claimed. What happens to such a row is the channel's on_interrupted policy.

ALTER TABLE notifications ADD COLUMN interrupted integer NOT NULL DEFAULT 0;
ALTER TABLE notifications ADD COLUMN claimed_at timestamptz;
CREATE INDEX notifications_channel_status_idx ON notifications (channel, status);
