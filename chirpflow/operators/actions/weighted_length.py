"""X's weighted tweet length (twitter-text v3 configuration).

Rules (twitter-text ``config/v3.json``): text is NFC-normalised; a URL counts
23 whatever its length; code points in the light ranges (Latin, Greek,
Cyrillic, ... up to U+10FF and a few punctuation blocks) weigh 1, every other
code point (CJK, most symbols) weighs 2; an emoji sequence (joined with
ZWJ, with variation selectors, skin tones or tag characters) weighs 2 once.
A bare domain counts as a URL for any alphabetic top-level domain (X uses
its list of TLDs): this may overcount a word like ``node.js``, never
undercount, and the link check of the gate sees every such link.
The limit is 280.

twitter-text-parser (the maintained Python port) imports ``pkg_resources``,
which current setuptools no longer ships, so it fails to import; this module
implements the same configuration instead.
"""

from __future__ import annotations

import re
import unicodedata

MAX_WEIGHTED_LENGTH = 280
URL_LENGTH = 23
_LIGHT = ((0, 4351), (8192, 8205), (8208, 8223), (8242, 8247))
_URL = re.compile(
    r"(?i)\b(?:https?://[^\s<>\"]+|www\.[^\s<>\"]+"
    r"|(?<![@\w.])[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,24}\b(?![@.\w])"
    r"(?:/[^\s<>\"]*)?)"
)
_TRAILING = ".,:;!?)'"
# joiners and modifiers that belong to the emoji before them
_ZWJ = 0x200D
_MODIFIERS = (range(0xFE00, 0xFE10), range(0x1F3FB, 0x1F400), range(0xE0020, 0xE0080))


def find_urls(text: str) -> list[str]:
    """URLs as X would link them (trailing punctuation is not part of a URL)."""
    return [m.group().rstrip(_TRAILING) for m in _URL.finditer(text)]


def _weight(cp: int) -> int:
    return 1 if any(lo <= cp <= hi for lo, hi in _LIGHT) else 2


def _is_modifier(cp: int) -> bool:
    return any(cp in r for r in _MODIFIERS)


def _plain_length(text: str) -> int:
    total = 0
    joined = False  # the previous code point was a ZWJ inside an emoji sequence
    prev_heavy = False
    for ch in text:
        cp = ord(ch)
        if cp == _ZWJ and prev_heavy:
            joined = True
            continue
        if _is_modifier(cp) and prev_heavy:
            continue
        if joined:
            joined = False
            continue
        w = _weight(cp)
        prev_heavy = (w == 2 and cp > 0xFFFF) or unicodedata.category(ch) == "So"
        total += w
    return total


def weighted_length(text: str) -> int:
    """The length X counts for ``text`` (compare with ``MAX_WEIGHTED_LENGTH``)."""
    text = unicodedata.normalize("NFC", text)
    total = 0
    pos = 0
    for m in _URL.finditer(text):
        url = m.group().rstrip(_TRAILING)
        total += _plain_length(text[pos : m.start()]) + URL_LENGTH
        pos = m.start() + len(url)
    return total + _plain_length(text[pos:])
