"""HTML post content (Mastodon) as plain, readable text.

Paragraphs and line breaks become new lines, entities are decoded, a link
becomes its full address (a mention or hashtag link keeps its text,
``@alice`` / ``#tag``), and nothing executable is kept: the content of
``script``, ``style`` and similar elements is dropped, tags never survive.
"""

from __future__ import annotations

from html.parser import HTMLParser

_DROPPED = {"script", "style", "template", "iframe", "object", "noscript", "svg", "math"}
_BLOCK = {"p", "div", "blockquote", "li", "pre", "h1", "h2", "h3", "h4", "h5", "h6"}


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self._dropped = 0
        self._link: str | None = None  # the href of a plain link being read
        self._link_text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _DROPPED:
            self._dropped += 1
            return
        if self._dropped:
            return
        if tag == "br":
            self.out.append("\n")
        elif tag in _BLOCK:
            self._block()
        elif tag == "a":
            a = dict(attrs)
            classes = (a.get("class") or "").split()
            href = a.get("href") or ""
            plain = "mention" not in classes and "hashtag" not in classes
            if plain and href.startswith(("http://", "https://")):
                self._link = href
                self._link_text = []

    def handle_endtag(self, tag: str) -> None:
        if tag in _DROPPED:
            self._dropped = max(0, self._dropped - 1)
            return
        if self._dropped:
            return
        if tag in _BLOCK:
            self._block()
        elif tag == "a" and self._link is not None:
            self.out.append(self._link)
            self._link = None

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br" and not self._dropped:
            self.out.append("\n")

    def handle_data(self, data: str) -> None:
        if self._dropped:
            return
        if self._link is not None:
            self._link_text.append(data)  # replaced by the address
            return
        self.out.append(data)

    def _block(self) -> None:
        if self.out and not "".join(self.out[-2:]).endswith("\n\n"):
            self.out.append("\n\n")


def html_to_text(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    parser.close()
    lines = [" ".join(line.split()) for line in "".join(parser.out).split("\n")]
    text = "\n".join(lines)
    while "\n\n\n" in text:
        text = text.replace("\n\n\n", "\n\n")
    return text.strip()
