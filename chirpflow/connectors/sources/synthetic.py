"""Deterministic synthetic tweets: realistic enough to exercise the whole pipeline.

Random access: the payload at position ``seq`` depends only on the seed and
``seq``, so a source can resume anywhere. A share ``duplicate_ratio`` of
positions repeats, byte for byte, the tweet of a recent earlier position;
some tweets are plain retweets of earlier text, some carry PII or risky
phrases, several languages appear.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

_MASK = (1 << 64) - 1
ID_BASE = 1_850_000_000_000_000_000
EPOCH = datetime(2026, 1, 1, tzinfo=UTC)
DUP_LOOKBACK = 1000
POOL = 4096

_TOPICS = ["launch", "update", "support", "pricing", "outage", "roadmap", "app", "api", "event"]
_TAGS = ["#AI", "#crypto", "#gaming", "#music", "#NBA", "#startup", "#devops", "#python", "#web3"]
_EMOJI = ["🔥", "🚀", "😍", "😡", "😂", "🙏", "👀", "💯", "😢", "🤔"]
_URLS = ["https://t.co/a1B2c3", "https://t.co/Zx9yW8", "https://example.com/blog/post"]
_EN = {
    "pos": [
        "I love the new {topic} from {brand}, great work {emoji}",
        "Huge thanks to {brand} support, fixed in minutes! {tag}",
        "The {topic} is amazing, best thing this year {emoji} {url}",
        "So happy with {brand} today, the {topic} just works",
    ],
    "neu": [
        "{brand} announced the {topic} for next week {url}",
        "Anyone tried the {topic} yet? {tag}",
        "Reading about the {topic} from {brand} {url}",
        "{mention} what time does the {topic} start?",
    ],
    "neg": [
        "The {topic} is broken again, {brand} this is terrible {emoji}",
        "Worst {topic} ever. {brand} please fix this, I hate it",
        "Still waiting for {brand} support, awful experience {tag}",
        "{brand} the {topic} keeps crashing, so disappointed",
    ],
}
_OTHER = {
    "es": ["Me encanta el nuevo {topic} de {brand} {emoji}", "El {topic} de {brand} no funciona"],
    "fr": ["J'adore la nouvelle {topic} de {brand} {emoji}", "Le {topic} de {brand} est en panne"],
    "de": ["Das neue {topic} von {brand} ist super {emoji}", "{brand} das {topic} geht nicht"],
    "pt": ["Adorei o novo {topic} da {brand} {emoji}", "O {topic} da {brand} caiu de novo"],
    "ja": ["{brand}の新しい{topic}最高です {emoji}", "{brand}の{topic}が使えない…"],
}
_LANGS = ["en"] * 15 + ["es", "fr", "de", "pt", "ja"]
_RISKY = [
    "this looks like a scam, do not send money to {brand}",
    "{brand} got hacked? my account was drained",
    "phishing link going around pretending to be {brand}: {url}",
    "total rug pull, {brand} devs vanished",
    "we are filing a lawsuit against {brand}",
    "{brand} outage for 3 hours now, data breach rumours",
]
_PII = [
    "email me at {user}@example.com about the {topic}",
    "call me on +1 415 555 0{n3} about my order",
    "my card 4111 1111 1111 1111 was charged twice by {brand}",
    "refund to IBAN DE89 3704 0044 0532 0130 00 please {brand}",
    "pay with 5555-5555-5555-4444 they said, then nothing",
    "send it to GB82 WEST 1234 5698 7654 32 {emoji}",
]


def _mix(x: int) -> int:
    """splitmix64: a fast, well-spread 64-bit hash of an integer."""
    x = (x + 0x9E3779B97F4A7C15) & _MASK
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _MASK
    return x ^ (x >> 31)


class SyntheticTweets:
    """Tweet payloads in the form ``chirpflow.operators.normalize`` accepts."""

    def __init__(
        self,
        seed: int = 42,
        accounts: int = 50,
        duplicate_ratio: float = 0.1,
        start: datetime | None = None,
        brand: str = "@chirpbrand",
    ) -> None:
        if not 0 <= duplicate_ratio < 1:
            raise ValueError("duplicate_ratio must be in [0, 1)")
        self.seed = seed
        self._salt = _mix(seed)
        self.accounts = accounts
        self.duplicate_ratio = duplicate_ratio
        self._dup_threshold = int(duplicate_ratio * 10_000)
        self.start = start or EPOCH
        self.brand = brand
        self.users = [f"user{(_mix(seed * 1000 + i) % 90_000) + 10_000}" for i in range(accounts)]
        self.user_ids = [str(1_000_000 + (_mix(seed * 7 + i) % 10**9)) for i in range(accounts)]
        # Texts are pre-rendered per language once; a tweet picks one by its hash.
        self._pool = {
            lang: [self._text(_mix(self._salt + i * 31 + ord(lang[0])), lang) for i in range(POOL)]
            for lang in set(_LANGS)
        }

    def _h(self, seq: int, lane: int = 0) -> int:
        return _mix(self._salt ^ (seq * 0x100000001B3 + lane))

    def is_duplicate(self, seq: int) -> bool:
        """Whether position ``seq`` repeats an earlier tweet exactly."""
        return seq > 0 and self._h(seq) % 10_000 < self._dup_threshold

    def original_of(self, seq: int) -> int:
        """The position whose tweet ``seq`` carries (itself unless a duplicate)."""
        while self.is_duplicate(seq):
            back = 1 + (self._h(seq, 1) % min(seq, DUP_LOOKBACK))
            seq -= back
        return seq

    def tweet_id(self, seq: int) -> str:
        return str(ID_BASE + self.original_of(seq) * 1000 + self.seed % 1000)

    def payload(self, seq: int) -> dict[str, Any]:
        return self._build(self.original_of(seq))

    def batch(self, start_seq: int, n: int) -> list[dict[str, Any]]:
        return [self.payload(s) for s in range(start_seq, start_seq + n)]

    def _text(self, h: int, lang: str) -> str:
        kind = (h >> 8) % 100
        fill = {
            "brand": self.brand,
            "topic": _TOPICS[(h >> 16) % len(_TOPICS)],
            "emoji": _EMOJI[(h >> 20) % len(_EMOJI)],
            "tag": _TAGS[(h >> 24) % len(_TAGS)],
            "url": _URLS[(h >> 28) % len(_URLS)],
            "mention": "@" + self.users[(h >> 32) % self.accounts],
            "user": self.users[(h >> 36) % self.accounts],
            "n3": f"{(h >> 40) % 1000:03d}",
        }
        if kind < 2:
            template = _PII[(h >> 44) % len(_PII)]
        elif kind < 5:
            template = _RISKY[(h >> 44) % len(_RISKY)]
        elif lang != "en":
            options = _OTHER[lang]
            template = options[(h >> 44) % len(options)]
        else:
            tone = ("pos", "pos", "neu", "neu", "neu", "neg")[(h >> 44) % 6]
            options = _EN[tone]
            template = options[(h >> 48) % len(options)]
        text = template.format(**fill)
        if (h >> 52) % 4 == 0:
            text += " " + _TAGS[(h >> 54) % len(_TAGS)]
        return text

    def _original_text(self, h: int, lang: str) -> str:
        """A pooled sentence plus a varying tail, so most texts are unique."""
        base = self._pool[lang][(h >> 7) % POOL]
        n = (h >> 19) % 100_000
        form = (h >> 40) % 8
        if form == 0:
            return f"{base} (ticket #{n})"
        if form == 1:
            return f"{base} day {n % 365}"
        if form == 2:
            return f"{base} v{n % 10}.{n % 97}"
        if form == 3:
            return f"{n} people saw this: {base}"
        if form == 4:
            return f"{base} /{n:x}"
        return f"{base} {_EMOJI[n % len(_EMOJI)]}{n % 1000}"

    def _build(self, seq: int) -> dict[str, Any]:
        h = self._h(seq, 2)
        author = (h >> 3) % self.accounts
        lang = _LANGS[(h >> 58) % len(_LANGS)]
        tid = str(ID_BASE + seq * 1000 + self.seed % 1000)
        created = self.start + timedelta(milliseconds=200 * seq)
        ref_id: str | None = None
        ref_kind: str | None = None
        conversation = tid
        roll = (h >> 60) % 16
        if seq > 0 and roll < 2:  # plain retweet of an earlier original's text
            earlier = self.original_of(seq - 1 - (h >> 12) % min(seq, DUP_LOOKBACK))
            eh = self._h(earlier, 2)
            original = self._original_text(eh, _LANGS[(eh >> 58) % len(_LANGS)])
            text = f"RT @{self.users[(eh >> 3) % self.accounts]}: {original}"
            ref_id = str(ID_BASE + earlier * 1000 + self.seed % 1000)
            ref_kind = "retweet"
        else:
            text = self._original_text(h, lang)
            if seq > 0 and roll < 5:
                earlier = self.original_of(seq - 1 - (h >> 12) % min(seq, DUP_LOOKBACK))
                ref_id = str(ID_BASE + earlier * 1000 + self.seed % 1000)
                ref_kind = "reply" if roll < 4 else "quote"
                if ref_kind == "reply":
                    conversation = ref_id
        return {
            "id": tid,
            "text": text,
            "author_id": self.user_ids[author],
            "author_username": self.users[author],
            "conversation_id": conversation,
            "created_at": created.isoformat(),
            "lang": lang,
            "referenced_tweet_id": ref_id,
            "referenced_kind": ref_kind,
            "public_metrics": {
                "retweet_count": (h >> 5) % 50,
                "reply_count": (h >> 11) % 20,
                "like_count": (h >> 17) % 500,
                "quote_count": (h >> 23) % 5,
                "impression_count": (h >> 29) % 20_000,
            },
        }
