"""Acting on tweets: reply rules and caps, the safety gate, drafts and approvals."""
