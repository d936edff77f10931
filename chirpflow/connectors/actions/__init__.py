"""Acting on X and Telegram: posting, read-back, the post outbox, the approval bot."""
