"""Sentiment on day one: the lexicon rules and, where klantreis ships one, a review model.

A shop without rated reviews has no model of its own. For English and Danish klantreis ships a
review model (see review_model.py); its probability and the lexicon score are averaged, and a
text is neutral when the mix stays within the language's neutral band. Weights and bands were
chosen by macro-F1 on development data only (SemEval-2016 English restaurant sentences; for
Danish the political comments together with our own general-text sentences in
`benchmarks/voice_dev/da_general.tsv`; `benchmarks/voice_danish_dev.py`), never on the
evaluation sentences.
"""

from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass

from klantreis.measure.voice.lexicons import grammar
from klantreis.measure.voice.review_model import review_model
from klantreis.measure.voice.sentiment import NEUTRAL_BAND, lexicon_sentiment


@dataclass(frozen=True)
class Mix:
    lexicon_weight: float
    """Share of the lexicon score; the rest is the review model's 2·P(positive) − 1."""
    neutral_band: float
    model_alone: float | None = None
    """When set, a text without a single lexicon word gets the model's reading only when
    |2·P(positive) − 1| reaches this, and is neutral otherwise. A model learned from reviews,
    which are nearly all praise or complaint, reads plain statements ("Mødet begynder klokken
    ti") as one or the other; the lexicon knows when nothing was said about anything."""
    after_contrast: bool = False
    """When set, the model reads a text with a "but" on each side of it and weighs what
    follows 3:1, as the lexicon does (1.5 against 0.5); over the whole text it cannot weigh."""
    structured_weight: float | None = None
    """When set, the lexicon's share for a text whose lexicon reading turned on its structure
    (a negation, a contrast, a concession, "too"), which a bag-of-words model cannot read."""


MIXES: dict[str, Mix] = {
    "en": Mix(0.6, 0.10),
    "da": Mix(0.6, 0.05, model_alone=0.9, after_contrast=True, structured_weight=0.7),
}
DEFAULT = Mix(1.0, NEUTRAL_BAND)
QUESTION_BAND = 0.3
"""A question whose lexicon score stays under this is neutral ("Can I pay by invoice?"), one
with clear words is not ("Why is my parcel still not here?")."""


@dataclass(frozen=True)
class DayOneSentiment:
    score: float
    label: str
    hits: int
    """Sentiment words and model terms found (0: nothing to go on)."""


def day_one_sentiment(text: str, language: str, mix: Mix | None = None) -> DayOneSentiment:
    """Score on -1..+1 with a label, from what ships with klantreis (`mix`: another mix than
    the language's, for the development benchmark that chooses it)."""
    lexical = lexicon_sentiment(text, language)
    if _plain_question(text, lexical.score):
        return DayOneSentiment(0.0, "neutral", lexical.hits)
    mix = mix or MIXES.get(language, DEFAULT)
    weight = mix.lexicon_weight
    if lexical.structured and mix.structured_weight is not None:
        # "ikke specielt hurtig", "god vare, men …": the model reads words, not structure
        weight = mix.structured_weight
    model = review_model(language) if weight < 1 else None
    score, hits = lexical.score, lexical.hits
    if model is not None:
        logit, terms = model.logit(text)
        reading = math.tanh(logit / 2)
        if mix.after_contrast and (parts := _split_at_contrast(text, language)):
            # "god vare, men leveringen tog to uger": read each side and weigh them as the
            # lexicon does (0.5 before "men", 1.5 after)
            (before, before_terms), (after, after_terms) = map(model.logit, parts)
            if after_terms:
                reading = math.tanh(after / 2)
                if before_terms:
                    reading = 0.25 * math.tanh(before / 2) + 0.75 * reading
        # silent: no word known, or praise and complaint that a "but" left mixed
        lexicon_silent = mix.model_alone is not None and (not lexical.hits or lexical.mixed)
        if lexicon_silent and abs(reading) < mix.model_alone:  # type: ignore[operator]
            terms = 0
        if terms:
            score = weight * score + (1 - weight) * reading
            hits += terms
    if score >= mix.neutral_band:
        label = "positive"
    elif score <= -mix.neutral_band:
        label = "negative"
    else:
        label = "neutral"
    return DayOneSentiment(score, label, hits)


@functools.cache
def _contrast_word(language: str) -> re.Pattern[str] | None:
    rules = grammar()
    words = rules["contrasts"].get(language, frozenset()) - rules["concessives"].get(
        language, frozenset()
    )
    if not words:
        return None
    return re.compile(r"\b(?:" + "|".join(map(re.escape, sorted(words))) + r")\b", re.IGNORECASE)


def _split_at_contrast(text: str, language: str) -> tuple[str, str] | None:
    """A text split at its last contrast word ("men", "but"), or None without one."""
    pattern = _contrast_word(language)
    found = list(pattern.finditer(text)) if pattern else []
    return (text[: found[-1].start()], text[found[-1].end() :]) if found else None


def _plain_question(text: str, lexical_score: float) -> bool:
    """A question without strong words of opinion asks; it does not complain or praise."""
    return text.rstrip().endswith("?") and abs(lexical_score) < QUESTION_BAND


def plain_question(text: str, language: str) -> bool:
    """Whether a text is a question that states no clear opinion ("Kan ik achteraf betalen?"),
    which a model trained on reviews would otherwise read as praise or complaint."""
    return _plain_question(text, lexicon_sentiment(text, language).score)
