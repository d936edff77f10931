"""Redis-backed shared state: dedup across processes and restarts."""
