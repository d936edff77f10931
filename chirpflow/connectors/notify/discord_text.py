"""Untrusted text as literal text in a Discord embed.

Discord renders markdown in embed titles, descriptions and field values:
``[x.com/brand](https://evil.example)`` would show a trusted-looking label
that leads to a foreign host, ``**`` and ``#`` would restyle the alert. Every
markdown and link character of tweet text, usernames and model output is
backslash-escaped (Discord shows an escaped ASCII punctuation character as
itself), so the text reads exactly as written and forms no link. Raw URLs in
the text stay visible as what they are. Mentions are disabled separately,
by ``allowed_mentions``.
"""

from __future__ import annotations

import dataclasses
import re

from chirpflow.model import Notification

_MARKDOWN = re.compile(r"([\\*_~`|>#<\[\]])")


def escape_markdown(text: str) -> str:
    r"""``[a](b)`` -> ``\[a\](b)``: shown as written, never a link or formatting.

    Escaped: ``\ * _ ~ ` | > # < [ ]``. Without unescaped brackets no masked
    link can form; parentheses, dashes and dots stay as they are.
    """
    return _MARKDOWN.sub(r"\\\1", text)


def escaped(n: Notification) -> Notification:
    """The notification with every text part escaped; URLs are left as they are."""
    return dataclasses.replace(
        n,
        title=escape_markdown(n.title),
        body=escape_markdown(n.body),
        fields=[(escape_markdown(k), escape_markdown(v)) for k, v in n.fields],
        links=[(escape_markdown(label), url) for label, url in n.links],
    )
