"""The product's vocabulary in the reader's language: one lookup for pages, exports and the CLI.

Event names, touchpoints, channels, phases, topics, expectation titles and categories, outcomes
and the expectations' "no data" reasons are data, not template text, so gettext's extraction
cannot see them. `term(kind, key, lang)` finds them in one catalogue built from where each
already lives: `locale/terms.yaml` (events, channels, topics, categories, outcomes, phrases),
the shipped journey definitions (phase and touchpoint labels), the source rules (acquisition
touchpoints, `model/sources.yaml`) and the default expectation rules
(titles). Rule kinds bring their own words (`rule_kind` labels, `rule_phrase` templates of the
settings page), read from the kind registry at every lookup, so a kind registered later reads
too. A key nobody translated is shown as it is, so a shop's custom event still reads.
"""

from __future__ import annotations

import functools
import re
from datetime import timedelta
from importlib import resources
from typing import Any, Literal

import yaml
from babel.dates import format_timedelta

LANGUAGES = ("en", "nl", "da")
KINDS = (
    "event",
    "channel",
    "touchpoint",
    "acquisition",
    "phase",
    "topic",
    "category",
    "expectation",
    "outcome",
    "rule_kind",
    "rule_phrase",
)
"""The kinds of vocabulary every language must cover (tests/web/test_terms.py checks it)."""

Catalogue = dict[str, dict[str, dict[str, str]]]
"""kind → key → language → text."""


def _yaml(package: str, *path: str) -> Any:
    item = resources.files(package).joinpath(*path)
    return yaml.safe_load(item.read_text(encoding="utf-8"))


def _labelled(into: dict[str, dict[str, str]], items: list[dict[str, Any]]) -> None:
    for item in items or []:
        label = item.get("label") or item.get("title") or {}
        into.setdefault(str(item["id"]), {}).update({k: str(v) for k, v in label.items()})


@functools.cache
def catalogue() -> Catalogue:
    """Every kind's translations, read once per process."""
    found: Catalogue = {kind: {} for kind in KINDS}
    own = _yaml("klantreis.present.web", "locale", "terms.yaml")
    for kind, entries in own.items():
        found.setdefault(kind, {})
        for key, texts in entries.items():
            found[kind].setdefault(str(key), {}).update(texts or {})
    definitions = resources.files("klantreis.model") / "definitions"
    for item in sorted(definitions.iterdir(), key=lambda i: i.name):
        if item.name.endswith(".yaml"):
            data = yaml.safe_load(item.read_text(encoding="utf-8"))
            _labelled(found["phase"], data.get("phases"))
            _labelled(found["touchpoint"], data.get("touchpoints"))
    _labelled(found["acquisition"], _yaml("klantreis.model", "sources.yaml").get("touchpoints"))
    rules = _yaml("klantreis.measure.expectations", "defaults.yaml")
    _labelled(found["expectation"], rules.get("expectations"))
    return found


def rule_kind_terms() -> Catalogue:
    """The words every registered rule kind brings (`RuleKind.terms`), merged."""
    from klantreis.measure.expectations.kinds import kinds

    found: Catalogue = {}
    for rule_kind in kinds().values():
        for kind, entries in rule_kind.terms.items():
            for key, texts in entries.items():
                found.setdefault(kind, {}).setdefault(key, {}).update(texts)
    return found


def _texts(kind: str, key: str) -> dict[str, str] | None:
    if kind.startswith("rule_"):
        return rule_kind_terms().get(kind, {}).get(key)
    return catalogue().get(kind, {}).get(key)


def term(kind: str, key: Any, lang: str = "en") -> str:
    """`key` (an event name, touchpoint id, phase id, ...) as a reader of `lang` calls it."""
    if key is None:
        return ""
    text = str(key)
    texts = _texts(kind, text)
    if not texts:
        return text
    return texts.get(lang) or texts.get("en") or text


def known(kind: str, key: Any) -> bool:
    return key is not None and _texts(kind, str(key)) is not None


def english_terms(kinds: tuple[str, ...] = KINDS) -> dict[str, set[str]]:
    """kind → every English word of that kind (keys and English labels), for page checks."""
    words: dict[str, set[str]] = {}
    for kind in kinds:
        entries = (rule_kind_terms() if kind.startswith("rule_") else catalogue()).get(kind, {})
        for key, texts in entries.items():
            words.setdefault(kind, set()).update({key, texts.get("en") or key})
    return words


# -- sentences the expectations analysis returns in English ------------------------------------
_NO_EVENTS = re.compile(r"^no ((?:'[^']+'(?:, )?)+) events$")
_DURATION = re.compile(r"^(\d+(?:\.\d+)?)([smhdw])$")
_UNIT = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
_GRANULARITY: dict[str, Literal["second", "minute", "hour", "day", "week"]] = {
    "s": "second", "m": "minute", "h": "hour", "d": "day", "w": "week"
}  # fmt: skip
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def _phrase(phrase: str, lang: str, **values: str) -> str:
    return term("phrase", phrase, lang).format(**values)


def _names(items: list[str], lang: str) -> str:
    if len(items) == 1:
        return items[0]
    return ", ".join(items[:-1]) + f" {term('phrase', 'or', lang)} " + items[-1]


def reason(text: str | None, lang: str = "en") -> str:
    """A "no data" reason of the expectations analysis in the reader's language."""
    if not text:
        return ""
    found = _NO_EVENTS.match(text)
    if found:
        events = re.findall(r"'([^']+)'", found.group(1))
        named = [f"‘{term('event', e, lang)}’" for e in events]
        return _phrase("no_events", lang, events=_names(named, lang))
    if text.startswith("no consent signals"):
        return _phrase("no_consent", lang)
    if text == "no cases to judge yet":
        return _phrase("no_cases", lang)
    return text


_GROUP = re.compile(r"^Group (\d+)$")


def persona(name: str, lang: str = "en") -> str:
    """A persona's name as `klantreis personas` gave it ("Quick deciders", "Group 2") in the
    reader's language; a name the shop chose is shown as it is."""
    found = _GROUP.match(name)
    if found:
        return _phrase("group", lang, n=found.group(1))
    return term("persona", name, lang)


_CONDITION = re.compile(r"^([A-Z][^:]*): (.+)$")


def detail(text: Any, lang: str = "en") -> str:
    """A breach's detail (`late`, `Payment Failed`, `Products Searched: results eq 0`) or an
    e-mail's kind in `lang`; other values (numbers, ids) as they are."""
    if text is None:
        return ""
    value = str(text)
    if known("detail", value):
        return term("detail", value, lang)
    if known("event", value):
        return term("event", value, lang)
    found = _CONDITION.match(value)
    if found and known("event", found.group(1)):
        return f"{term('event', found.group(1), lang)}: {found.group(2)}"
    return value


def duration(text: str, lang: str = "en") -> str:
    """A rule's duration (`1d`, `5m`) in words of `lang` (`1 dag`, `5 minutter`)."""
    found = _DURATION.match(text.strip())
    if not found:
        return text
    amount, unit = float(found.group(1)), found.group(2)
    seconds = amount * _UNIT_SECONDS[unit]
    return format_timedelta(
        timedelta(seconds=seconds), granularity=_GRANULARITY[unit], threshold=100, locale=lang
    )


def margin(text: str | None, lang: str = "en") -> str:
    """A rule's delight margin (`within 1m`, `early by 1d`, `at most 1000 ms`) in `lang`."""
    if not text:
        return ""
    for name, prefix in (("within", "within "), ("early_by", "early by ")):
        if text.startswith(prefix):
            return _phrase(name, lang, duration=duration(text[len(prefix) :], lang))
    if text.startswith("at most "):
        return _phrase("at_most", lang, value=text[len("at most ") :])
    return text


_MENTION = re.compile(r"^Customers mention (.+)$")
_TOUCHPOINT = re.compile(r"^Touchpoint: (.+)$")
_NO_TOUCHPOINT = re.compile(r"^No (.+) in the journey$")


@functools.cache
def _expectation_by_title() -> dict[str, str]:
    return {texts.get("en", ""): key for key, texts in catalogue()["expectation"].items()}


def opportunity(text: str | None, lang: str = "en") -> str:
    """An opportunity's title (written in English by the opportunities analysis) in `lang`:
    an expectation's title, `Customers mention <topic>`, `Touchpoint: <touchpoint>` or
    `No <touchpoint> in the journey`."""
    if not text:
        return ""
    if text in _expectation_by_title():
        return term("expectation", _expectation_by_title()[text], lang)
    for pattern, name, kind in (
        (_MENTION, "mention", "topic"),
        (_TOUCHPOINT, "touchpoint", "touchpoint"),
        (_NO_TOUCHPOINT, "no_touchpoint", "touchpoint"),
    ):
        found = pattern.match(text)
        if found and known(kind, found.group(1)):
            return _phrase(name, lang, name=term(kind, found.group(1), lang))
    return text
