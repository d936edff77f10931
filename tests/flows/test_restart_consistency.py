"""kill -9 and resume, several times: every table still agrees about every chunk."""

from __future__ import annotations

import subprocess
import time

import psycopg

from tests.flows.test_interrupts import CLI, _stats, _wait_for_rows, cli_env

__all__ = ["cli_env"]  # the fixture, used by name

# chunks whose recorded size differs from the tweets or the analyses that name them
_DISAGREEING_CHUNKS = """
SELECT c.chunk_id, c.size,
       (SELECT count(*) FROM tweets t WHERE t.chunk_id = c.chunk_id) AS tweets,
       (SELECT count(*) FROM analyses a WHERE a.chunk_id = c.chunk_id) AS analyses
FROM chunks c
WHERE c.size <> (SELECT count(*) FROM tweets t WHERE t.chunk_id = c.chunk_id)
   OR c.size <> (SELECT count(*) FROM analyses a WHERE a.chunk_id = c.chunk_id)
"""
# analyses stored under another chunk than their tweet, or under no recorded chunk
_STRAY_ANALYSES = """
SELECT count(*) FROM analyses a JOIN tweets t ON t.id = a.tweet_id
WHERE a.chunk_id IS DISTINCT FROM t.chunk_id
   OR NOT EXISTS (SELECT 1 FROM chunks c WHERE c.chunk_id = a.chunk_id)
"""


def test_kill_9_resume_loop_leaves_every_chunk_consistent(
    cli_env: dict[str, str], pg_url: str
) -> None:
    target = 0
    for _ in range(4):
        proc = subprocess.Popen(
            [*CLI, "run", "--quiet"], env=cli_env, stderr=subprocess.PIPE, text=True
        )
        target += 1500
        _wait_for_rows(cli_env, proc, target)
        proc.kill()
        proc.communicate(timeout=30)
    # let a COMMIT sent just before the last kill land, then finish cleanly
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with psycopg.connect(pg_url) as conn:
            busy = conn.execute(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            ).fetchone()
        if busy is not None and busy[0] == 0:
            break
        time.sleep(0.1)
    out = subprocess.run(
        [*CLI, "run", "--quiet", "--limit", "1000"],
        env=cli_env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    with psycopg.connect(pg_url) as conn:
        disagreeing = conn.execute(_DISAGREEING_CHUNKS).fetchall()
        stray = conn.execute(_STRAY_ANALYSES).fetchone()
    assert disagreeing == []
    assert stray == (0,)
    stats = _stats(cli_env)
    assert stats["tweets_ingested"] == stats["analyzed"] + stats["duplicates"]
