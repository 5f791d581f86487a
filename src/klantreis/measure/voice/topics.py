"""Topics of a text and the journey phase each topic is about, from our keyword-stem lexicon.

A hand-written lexicon (`topics.yaml`) rather than a topic model: topics must be the same named,
phase-tied categories in every shop and every language, and work from the first text on.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import yaml

from klantreis.measure.voice.sentiment import tokens


@dataclass(frozen=True)
class Topic:
    name: str
    phase: str
    stems: dict[str, tuple[str, ...]]
    phrases: dict[str, tuple[str, ...]]


@functools.lru_cache(maxsize=1)
def topic_lexicon() -> dict[str, Topic]:
    raw = yaml.safe_load((Path(__file__).parent / "topics.yaml").read_text("utf-8"))
    topics: dict[str, Topic] = {}
    for name, spec in raw["topics"].items():
        stems: dict[str, tuple[str, ...]] = {}
        phrases: dict[str, tuple[str, ...]] = {}
        for lang, words in spec["keywords"].items():
            lowered = [str(w).lower() for w in words]
            stems[lang] = tuple(w for w in lowered if " " not in w)
            phrases[lang] = tuple(f" {w} " for w in lowered if " " in w)
        topics[name] = Topic(name, spec["phase"], stems, phrases)
    return topics


TOPICS: tuple[str, ...] = tuple(topic_lexicon())
PHASE_OF_TOPIC: dict[str, str] = {name: t.phase for name, t in topic_lexicon().items()}


def _matches(token: str, stems: tuple[str, ...]) -> bool:
    """Stems of four letters or more match as prefixes; shorter ones (app, box) and those
    written `=word` match whole words only."""
    return any(
        token == s[1:] if s[0] == "=" else token.startswith(s) if len(s) >= 4 else token == s
        for s in stems
    )


def detect_topics(text: str, language: str) -> list[str]:
    """Topics mentioned in the text, in lexicon order.

    An unknown language is matched against every language's keywords, since shop texts mix
    languages and short texts are often undetectable.
    """
    toks = tokens(text)
    joined = f" {' '.join(toks)} "
    found = []
    for topic in topic_lexicon().values():
        langs = [language] if language in topic.stems else list(topic.stems)
        stems = tuple(s for lang in langs for s in topic.stems[lang])
        phrases = [p for lang in langs for p in topic.phrases[lang]]
        if any(_matches(tok, stems) for tok in toks) or any(p in joined for p in phrases):
            found.append(topic.name)
    return found
