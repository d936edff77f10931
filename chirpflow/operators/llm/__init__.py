"""Batched analysis with any OpenAI-compatible chat-completions API."""
