"""Acting on X and Telegram: posting, read-back, the post outbox, the approval bot."""

import os

# python-telegram-bot 22: opt in to its next major's timedelta durations (RetryAfter and the
# like), which chirpflow handles, instead of a deprecation warning on every flood wait
os.environ.setdefault("PTB_TIMEDELTA", "1")
