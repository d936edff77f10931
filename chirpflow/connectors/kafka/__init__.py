"""Kafka: producing outcomes (and, later, reading topics)."""
