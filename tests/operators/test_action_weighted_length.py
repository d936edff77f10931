from chirpflow.operators.actions.weighted_length import find_urls, weighted_length


def test_latin_counts_one_per_character() -> None:
    assert weighted_length("hello world") == 11
    assert weighted_length("é" * 280) == 280


def test_cjk_counts_two() -> None:
    assert weighted_length("日本語") == 6
    assert weighted_length("a日") == 3


def test_a_url_counts_23_whatever_its_length() -> None:
    long = "https://example.com/" + "x" * 100
    assert weighted_length(long) == 23
    assert weighted_length(f"see {long}.") == 4 + 23 + 1
    assert weighted_length("https://a.io") == 23


def test_emoji_sequences_count_two_once() -> None:
    assert weighted_length("👍") == 2
    assert weighted_length("👍🏽") == 2  # skin tone
    assert weighted_length("👨‍👩‍👧") == 2  # ZWJ family
    assert weighted_length("ok 👍") == 5


def test_find_urls_strips_trailing_punctuation() -> None:
    assert find_urls("go to https://shop.example.com/x, now") == ["https://shop.example.com/x"]
    assert find_urls("visit evil.io today") == ["evil.io"]
    assert find_urls("mail me at a@b.com") == []
    assert find_urls("write to jane.doe@corp.org") == []
    assert find_urls("free coins at evil.xyz/claim now") == ["evil.xyz/claim"]
    assert find_urls("Yes, it works offline. Thanks!") == []
