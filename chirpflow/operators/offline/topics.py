"""Up to three topics per tweet: its hashtags first, then keyword matches."""

from __future__ import annotations

import re

MAX_TOPICS = 3

KEYWORD_TOPICS: dict[str, tuple[str, ...]] = {
    "crypto": ("crypto", "bitcoin", "btc", "ethereum", "eth", "web3", "nft", "token", "defi"),
    "ai": ("ai", "gpt", "llm", "chatgpt", "machine learning", "openai", "model"),
    "sports": ("nba", "nfl", "football", "soccer", "match", "goal", "playoffs", "game day"),
    "politics": ("election", "vote", "president", "senate", "congress", "policy", "trump"),
    "gaming": ("gaming", "xbox", "playstation", "nintendo", "steam", "esports", "gamer"),
    "music": ("album", "song", "concert", "tour", "spotify", "music"),
    "finance": ("price", "pricing", "stock", "market", "refund", "invoice", "charged"),
    "support": ("support", "help", "ticket", "broken", "bug", "crash", "crashing", "fix"),
    "outage": ("outage", "down", "offline", "not working", "no funciona", "en panne"),
    "product": ("launch", "release", "update", "feature", "roadmap", "app", "api"),
}

_HASHTAG = re.compile(r"#(\w{2,50})")
_KEYWORDS = {
    topic: re.compile(r"\b(?:" + "|".join(re.escape(w) for w in words) + r")\b", re.IGNORECASE)
    for topic, words in KEYWORD_TOPICS.items()
}


def topics(text: str) -> list[str]:
    """Hashtags (lower case, no ``#``) then keyword topics, deduplicated, at most three."""
    found: list[str] = []
    for tag in _HASHTAG.findall(text):
        t = tag.lower()
        if t not in found:
            found.append(t)
            if len(found) == MAX_TOPICS:
                return found
    for topic, pattern in _KEYWORDS.items():
        if topic not in found and pattern.search(text):
            found.append(topic)
            if len(found) == MAX_TOPICS:
                break
    return found
