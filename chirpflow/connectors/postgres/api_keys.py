"""API keys of the jobs API: created, looked up, listed and revoked (only hashes are stored)."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

from chirpflow.errors import ChirpflowError

KEY_PREFIX = "cf_"
_COLS = "id, name, admin, created_at, revoked_at"


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Caller:
    """Who a request comes from: a key's id, and whether it may see every client's jobs."""

    key_id: int
    admin: bool = False

    @property
    def owner(self) -> int | None:
        """Whose jobs this caller sees: its own; an admin every client's (None)."""
        return None if self.admin else self.key_id


@dataclass(frozen=True, slots=True)
class ApiKey:
    id: int
    name: str
    admin: bool
    created_at: datetime
    revoked_at: datetime | None


class ApiKeys:
    def __init__(self, pool: ConnectionPool) -> None:
        self._pool = pool

    def _all(self, query: str, params: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
        with self._pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
            cur.execute(query.encode(), params)
            return cur.fetchall() if cur.description else []

    def create(self, name: str, admin: bool = False) -> str:
        """A new key, shown once; only its hash is stored."""
        name = name.strip()
        if not name or "\x00" in name or len(name) > 100:
            raise ChirpflowError("a key name must be 1 to 100 characters")
        key = KEY_PREFIX + secrets.token_urlsafe(32)
        self._all(
            "INSERT INTO api_keys (name, key_hash, admin) VALUES (%s, %s, %s)",
            (name, hash_key(key), admin),
        )
        return key

    def authenticate(self, key: str) -> Caller | None:
        """The caller a key stands for; None for unknown or revoked keys."""
        rows = self._all(
            "SELECT id, admin FROM api_keys WHERE key_hash = %s AND revoked_at IS NULL",
            (hash_key(key),),
        )
        return Caller(int(rows[0]["id"]), bool(rows[0]["admin"])) if rows else None

    def list_keys(self, include_revoked: bool = False) -> list[ApiKey]:
        where = "" if include_revoked else " WHERE revoked_at IS NULL"
        return [ApiKey(**r) for r in self._all(f"SELECT {_COLS} FROM api_keys{where} ORDER BY id")]

    def revoke(self, ref: str) -> ApiKey:
        """Revoke one active key, named by its id, its name or the key itself."""
        if ref.startswith(KEY_PREFIX):
            where, param = "key_hash = %s", hash_key(ref)
        elif ref.isdigit():
            where, param = "id = %s::bigint", ref
        else:
            where, param = "name = %s", ref.replace("\x00", "")
        found = self._all(
            f"SELECT {_COLS} FROM api_keys WHERE {where} AND revoked_at IS NULL", (param,)
        )
        if not found:
            raise ChirpflowError(f"no active API key {ref[:40]!r} (see `chirpflow api-key list`)")
        if len(found) > 1:
            raise ChirpflowError(
                f"{len(found)} active keys are named {ref[:40]!r}: revoke one by its id"
                " (see `chirpflow api-key list`)"
            )
        rows = self._all(
            f"UPDATE api_keys SET revoked_at = now() WHERE id = %s RETURNING {_COLS}",
            (found[0]["id"],),
        )
        return ApiKey(**rows[0])
