"""What the approval bot shows: a draft with its tweet and scores, and each outcome (plain text)."""

from __future__ import annotations

from chirpflow.action_model import Draft

X_STATUS_URL = "https://x.com/i/web/status/{}"


def draft_message(d: Draft) -> str:
    head = f"{'Reply' if d.kind == 'reply' else 'Post'} draft {d.id} · risk {d.risk}"
    lines = [head]
    if d.tweet_text:
        who = f"author {d.author_id}" if d.author_id else "tweet"
        lines.append(f"In reply to {who}: {d.tweet_text[:500]}")
    lines += ["—", d.text, "—"]
    ctx = f"context v{d.context_version}" if d.context_version else "no context layer"
    lines.append(f"{ctx} · prompt {d.prompt_version}")
    if d.status == "blocked":
        lines.append(f"BLOCKED by {d.blocked_by}: {d.block_detail or ''}".rstrip(": "))
    return "\n".join(lines)


def outcome_line(d: Draft, x_id: str | None, actor: str | None) -> str:
    by = f" by {actor}" if actor else ""
    if d.status == "approved":
        return f"Approved{by}: posting…"
    if d.status == "posted":
        return f"Posted{by}: {X_STATUS_URL.format(x_id)}" if x_id else f"Posted{by}"
    if d.status == "rejected":
        return f"Rejected{by}"
    if d.status == "blocked":
        return f"Blocked by {d.blocked_by}: {d.block_detail or ''}".rstrip(": ")
    if d.status == "failed":
        return "Posting failed (see chirpflow actions list)"
    return "Waiting for a decision"


def with_outcome(d: Draft, x_id: str | None, actor: str | None) -> str:
    return draft_message(d) + "\n\n" + outcome_line(d, x_id, actor)
