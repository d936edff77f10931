from __future__ import annotations

import pytest

from chirpflow.operators.offline.pii import find_pii, iban_ok, luhn_ok


@pytest.mark.parametrize(
    ("text", "kinds"),
    [
        ("write to jane.doe+x@example.co.uk today", ["email"]),
        ("call +44 20 7946 0958 now", ["phone"]),
        ("call (415) 555-0123", ["phone"]),
        ("card 4111 1111 1111 1111 charged", ["card"]),
        ("card 5555-5555-5555-4444", ["card"]),
        ("IBAN DE89 3704 0044 0532 0130 00 please", ["iban"]),
        ("GB82WEST12345698765432", ["iban"]),
        ("mail a@b.io and card 4111111111111111", ["email", "card"]),
    ],
)
def test_pii_found(text: str, kinds: list[str]) -> None:
    assert find_pii(text) == kinds


@pytest.mark.parametrize(
    "text",
    [
        "in 2024 we shipped 1,000,000 units for $19.99",
        "order 4111 1111 1111 1112 shipped",  # fails Luhn
        "DE89 3704 0044 0532 0130 01",  # fails mod-97
        "tweet id 1850000000000000042",
        "ping @user about the launch",
        "version 3.12.1 released",
    ],
)
def test_non_pii_numbers_are_not_flagged(text: str) -> None:
    assert find_pii(text) == []


def test_checksums() -> None:
    assert luhn_ok("79927398713") and not luhn_ok("79927398710")
    assert iban_ok("FR14 2004 1010 0505 0001 3M02 606")
    assert not iban_ok("FR14 2004 1010 0505 0001 3M02 607")
