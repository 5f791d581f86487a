"""Finds words of the product's English vocabulary in a page meant for a Dutch or Danish reader.

The vocabulary is the English side of the one catalogue (`klantreis.present.web.terms`):
event names, touchpoints, topics, phases and expectation titles, as keys and as English labels.
Words the language itself uses (`service`, `chat`, `e-mail`, `app`) and brand names are
allowed; customer text (`.quote`) is the customer's own and ids a user types into a
configuration (`<code>`) are names, not words: both are left out of the check.
"""

from __future__ import annotations

import functools
import re
from html.parser import HTMLParser

from klantreis.present.web.i18n import catalogue as messages
from klantreis.present.web.terms import catalogue

CHECKED_KINDS = ("event", "touchpoint", "topic", "phase", "expectation", "persona")
BRANDS = frozenset({"klantreis", "NPS", "CSAT", "CES", "AIDA", "LCP", "PostNL", "DHL", "GLS"})


def _bounded(word: str) -> str:
    return rf"(?<![\w-]){re.escape(word)}(?![\w-])"


@functools.cache
def english_vocabulary(lang: str) -> dict[str, str]:
    """English word → its kind, less the words that `lang`'s own texts contain."""
    own = [
        text
        for kinds in catalogue().values()
        for texts in kinds.values()
        for code, text in texts.items()
        if code == lang
    ] + list(messages(lang).values())
    found: dict[str, str] = {}
    for kind in CHECKED_KINDS:
        for key, texts in catalogue()[kind].items():
            for word in {key, texts.get("en") or key}:
                if word in BRANDS or any(re.search(_bounded(word), t, re.I) for t in own):
                    continue
                found[word] = kind
    return found


@functools.cache
def _pattern(lang: str) -> re.Pattern[str]:
    words = sorted(english_vocabulary(lang), key=len, reverse=True)
    return re.compile("|".join(_bounded(w) for w in words), re.I)


def english_words(text: str, lang: str) -> list[str]:
    """The English vocabulary words in `text` (a page's text without customer quotes)."""
    return sorted({m.group(0) for m in _pattern(lang).finditer(text)})


_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
         "track", "wbr", "circle", "path", "line", "rect", "polyline", "stop"}  # fmt: skip


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.stack: list[bool] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _VOID:
            return
        classes = (dict(attrs).get("class") or "").split()
        hidden = tag in {"script", "style", "q", "code"} or "quote" in classes
        self.stack.append(hidden or bool(self.stack and self.stack[-1]))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        return

    def handle_endtag(self, tag: str) -> None:
        if tag not in _VOID and self.stack:
            self.stack.pop()

    def handle_data(self, data: str) -> None:
        if not (self.stack and self.stack[-1]):
            self.parts.append(data)


def page_text(html: str) -> str:
    """A page's text as a reader sees it, customer quotes and scripts left out."""
    parser = _Text()
    parser.feed(html)
    return " ".join(" ".join(parser.parts).split())
