"""Notification channels (Discord, Telegram) and the exactly-once outbox dispatcher."""
