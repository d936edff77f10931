"""The safety gate: every check a draft must pass before approval and again before posting.

Checks run in a fixed order and the first that fails names the block:
``empty``, ``length`` (X's weighted length), ``pii`` (the offline detectors),
``risk_keyword``, ``toxicity``, ``mass_mention`` (more mentions than allowed,
or @everyone/@here/@all), ``link`` (a URL outside the allowed domains) and
``moderation`` (a moderation service, when one is given).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import urlsplit

from chirpflow.action_model import GateResult
from chirpflow.action_settings import GateSettings
from chirpflow.operators.actions.weighted_length import find_urls, weighted_length
from chirpflow.operators.offline.pii import find_pii
from chirpflow.operators.offline.risk import DEFAULT_TOXICITY, _phrases

CHECKS = (
    "empty",
    "length",
    "pii",
    "risk_keyword",
    "toxicity",
    "mass_mention",
    "link",
    "moderation",
)
_MENTION = re.compile(r"(?<![\w@])@(\w{1,30})")
_BROADCAST = {"everyone", "here", "all", "channel"}

# A moderation service: text -> None when fine, else a short reason ("harassment").
Moderator = Callable[[str], str | None]


def _host_allowed(host: str, allowed: list[str]) -> bool:
    host = host.lower().rstrip(".")
    return any(host == d or host.endswith("." + d) for d in (a.lower() for a in allowed))


class SafetyGate:
    def __init__(self, settings: GateSettings, moderator: Moderator | None = None) -> None:
        self._s = settings
        self._risk = _phrases(settings.risk_keywords)
        toxic = DEFAULT_TOXICITY if settings.toxicity is None else settings.toxicity
        self._toxic = _phrases(toxic)
        self._moderator = moderator

    def __call__(self, text: str) -> GateResult:
        return self.check(text)

    def check(self, text: str) -> GateResult:
        if not text.strip():
            return GateResult("empty", "the text is empty")
        length = weighted_length(text)
        if length > self._s.max_weighted_length:
            return GateResult("length", f"weighted length {length} > {self._s.max_weighted_length}")
        pii = find_pii(text)
        if pii:
            return GateResult("pii", "personal data: " + ", ".join(pii))
        for name, pattern in (("risk_keyword", self._risk), ("toxicity", self._toxic)):
            hits = sorted({m.group().lower() for m in pattern.finditer(text)}) if pattern else []
            if hits:
                return GateResult(name, ", ".join(hits))
        mentions = [m.lower() for m in _MENTION.findall(text)]
        broadcast = sorted(set(mentions) & _BROADCAST)
        if broadcast:
            return GateResult("mass_mention", "broadcast mention @" + ", @".join(broadcast))
        if len(set(mentions)) > self._s.max_mentions:
            return GateResult(
                "mass_mention", f"{len(set(mentions))} mentions > {self._s.max_mentions}"
            )
        for url in find_urls(text):
            host = urlsplit(url if "://" in url else "https://" + url).hostname or url
            if not _host_allowed(host, self._s.allowed_domains):
                return GateResult("link", f"link to {host} (not an allowed domain)")
        if self._moderator is not None:
            reason = self._moderator(text)
            if reason:
                return GateResult("moderation", reason)
        return GateResult()
