from __future__ import annotations

from chirpflow.connectors.sources.synthetic import DUP_LOOKBACK, SyntheticTweets
from chirpflow.model import Tweet, make_origin
from chirpflow.operators.normalize import normalize
from chirpflow.operators.offline.pii import find_pii
from tests.factories import T0


def _norm(seq: int, p: dict[str, object]) -> Tweet:
    from chirpflow.model import RawRecord

    out = normalize(RawRecord(make_origin("synthetic:0", seq), "synthetic", p, T0))
    assert isinstance(out, Tweet), out
    return out


def test_deterministic_and_random_access() -> None:
    a, b = SyntheticTweets(seed=1), SyntheticTweets(seed=1)
    assert a.batch(500, 50) == [b.payload(s) for s in range(500, 550)]
    assert SyntheticTweets(seed=2).payload(10) != a.payload(10)


def test_duplicates_repeat_a_recent_earlier_tweet_exactly() -> None:
    gen = SyntheticTweets(seed=3, duplicate_ratio=0.1)
    n = 100_000
    dups = [s for s in range(n) if gen.is_duplicate(s)]
    assert 0.09 * n < len(dups) < 0.11 * n
    seen: dict[str, int] = {}
    for s in range(2000):
        p = gen.payload(s)
        if gen.is_duplicate(s):
            first = seen[p["id"]]  # an id already emitted
            assert s - first <= DUP_LOOKBACK * 10
            assert gen.payload(first) == p
        else:
            assert p["id"] not in seen
            seen[p["id"]] = s


def test_every_payload_is_a_valid_tweet_with_realistic_content() -> None:
    gen = SyntheticTweets(seed=42)
    tweets = [_norm(s, p) for s, p in enumerate(gen.batch(0, 20_000))]
    texts = [t.text for t in tweets]
    assert {t.lang for t in tweets} >= {"en", "es", "fr", "de", "pt", "ja"}
    assert any(t.referenced_kind and t.referenced_kind.value == "reply" for t in tweets)
    retweets = [t for t in tweets if t.text.startswith("RT @")]
    assert retweets
    earlier = set(texts)
    assert any(t.text.split(": ", 1)[1] in earlier for t in retweets)
    assert sum(1 for x in texts if find_pii(x)) > 100
    assert any("scam" in x or "hacked" in x for x in texts)
    assert any("#" in x for x in texts) and any("https://" in x for x in texts)
    assert len(set(texts)) > 0.8 * len(texts)  # mostly unique text
