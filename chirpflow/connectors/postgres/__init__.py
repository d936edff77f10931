"""PostgreSQL: schema migrations, the idempotent batch writer and store queries."""
