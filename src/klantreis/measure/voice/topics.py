"""Topics of a text and the journey phase each is about, from our keyword lexicon, per clause.

A hand-written lexicon (`topics.yaml`) rather than a topic model: topics must be the same named,
phase-tied categories in every shop and every language, and work from the first text on.
Topics are found per clause (a sentence, split again at "maar"/"men"/"but"), so that the
sentiment of a topic can be that of the clause about it: in "goed product, maar de levering
duurde twee weken" delivery is the complaint, not the praise.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import yaml

from klantreis.measure.voice.lexicons import grammar
from klantreis.measure.voice.sentiment import tokens


@dataclass(frozen=True)
class Topic:
    name: str
    phase: str
    keywords: dict[str, re.Pattern[str]]
    """Per language: words that say by themselves what a clause is about."""
    in_passing: dict[str, re.Pattern[str]]
    """Per language: words that count only in a clause that also gives an opinion."""


def _pattern(words: list[str]) -> re.Pattern[str]:
    """One regular expression over space-joined tokens: stems of four letters or more match as
    prefixes, shorter ones and `=word` whole words only, phrases word for word."""
    parts = []
    for raw in words:
        word = str(raw).lower()
        exact = word.startswith("=")
        toks = tokens(word.lstrip("="))
        if not toks:
            continue
        text = re.escape(" ".join(toks))
        parts.append(text if exact or len(toks) > 1 or len(toks[0]) < 4 else text + r"\w*")
    if not parts:
        return re.compile(r"(?!x)x")
    return re.compile(r"(?<!\S)(?:" + "|".join(parts) + r")(?!\S)")


@functools.lru_cache(maxsize=1)
def topic_lexicon() -> dict[str, Topic]:
    raw = yaml.safe_load((Path(__file__).parent / "topics.yaml").read_text("utf-8"))
    topics: dict[str, Topic] = {}
    for name, spec in raw["topics"].items():
        keywords = {lang: _pattern(words) for lang, words in spec["keywords"].items()}
        keywords["und"] = _pattern([w for words in spec["keywords"].values() for w in words])
        passing = {lang: _pattern(words) for lang, words in spec.get("in_passing", {}).items()}
        passing["und"] = _pattern(
            [w for words in spec.get("in_passing", {}).values() for w in words]
        )
        topics[name] = Topic(name, spec["phase"], keywords, passing)
    return topics


TOPICS: tuple[str, ...] = tuple(topic_lexicon())
PHASE_OF_TOPIC: dict[str, str] = {name: t.phase for name, t in topic_lexicon().items()}
_SENTENCE_END = frozenset(".;:!?")


def clauses(text: str, language: str) -> list[list[str]]:
    """The text's tokens cut into clauses: at sentence ends and before a contrast word."""
    contrasts = grammar()["contrasts"].get(language, frozenset())
    found: list[list[str]] = [[]]
    for tok in tokens(text):
        if tok in _SENTENCE_END:
            found.append([])
            continue
        if tok in contrasts and found[-1]:
            found.append([])
        found[-1].append(tok)
    return [c for c in found if any(t not in ",." for t in c)]


def clause_topics(
    clause: list[str], language: str, has_opinion: Callable[[list[str]], bool]
) -> list[str]:
    """Topics one clause is about (`has_opinion` is asked only for in-passing words)."""
    joined = " ".join(t for t in clause if t != ",")
    found = []
    opinion: bool | None = None
    for topic in topic_lexicon().values():
        lang = language if language in topic.keywords else "und"
        if topic.keywords[lang].search(joined):
            found.append(topic.name)
            continue
        passing = topic.in_passing.get(lang)
        if passing is not None and passing.search(joined):
            if opinion is None:
                opinion = has_opinion(clause)
            if opinion:
                found.append(topic.name)
    return found


def _lexical_opinion(language: str) -> Callable[[list[str]], bool]:
    from klantreis.measure.voice.sentiment import clause_valences

    return lambda clause: bool(clause_valences(clause, language))


def detect_topics(text: str, language: str) -> list[str]:
    """Topics the text is about, in lexicon order."""
    opinion = _lexical_opinion(language)
    seen = {
        t for clause in clauses(text, language) for t in clause_topics(clause, language, opinion)
    }
    return [name for name in TOPICS if name in seen]
