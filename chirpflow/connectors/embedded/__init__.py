"""Real services started from pip packages on loopback: PostgreSQL, Redis, a Kafka broker."""
