"""Score a text: language, sentiment and topics in one pass (nothing stored)."""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from klantreis.measure.voice.language import detect_language
from klantreis.measure.voice.model import SentimentModel
from klantreis.measure.voice.out_of_box import DayOneSentiment, day_one_sentiment
from klantreis.measure.voice.topics import PHASE_OF_TOPIC, detect_topics

_MARKUP = re.compile(r"<[^>]{0,200}>|\[/?[a-z]{1,10}\]", re.IGNORECASE)


def plain(text: str) -> str:
    """Text without HTML tags and entities, which customers paste from e-mails and which
    mislead the language detector; the stored text keeps them as given."""
    return html.unescape(_MARKUP.sub(" ", text))


@dataclass(frozen=True)
class TextScore:
    text: str
    language: str
    language_confidence: float
    sentiment: float
    """-1 (negative) .. +1 (positive)."""
    label: str
    topics: tuple[str, ...]
    phases: tuple[str, ...]
    """Journey phases the topics are about."""
    method: str
    """`model` (trained on the shop's rated reviews) or `lexicon`."""

    def as_dict(self) -> dict[str, Any]:
        row = asdict(self)
        row["topics"] = list(self.topics)
        row["phases"] = list(self.phases)
        return row


LEXICON_LANGUAGES = ("nl", "da", "en", "de", "pt")


def _lexicon_any(text: str, language: str) -> DayOneSentiment:
    """What ships for the text's language; for a text too short to tell (`und`: "Top!",
    "recomendo"), the language whose lexicon knows most of its words."""
    if language != "und":
        return day_one_sentiment(text, language)
    tried = [day_one_sentiment(text, lang) for lang in LEXICON_LANGUAGES]
    return max(tried, key=lambda s: s.hits)


class VoiceScorer:
    """Scores texts with the shop's model where it knows the language, else the lexicons."""

    def __init__(self, model: SentimentModel | None = None) -> None:
        self.model = model

    def score(self, text: str, language: str | None = None) -> TextScore:
        return self.score_many([text], [language])[0]

    def score_many(
        self, texts: Sequence[str], languages: Sequence[str | None] | None = None
    ) -> list[TextScore]:
        given = list(languages) if languages is not None else [None] * len(texts)
        originals = list(texts)
        texts = [plain(t) for t in originals]
        detected = [
            (lang, 1.0) if lang else detect_language(text)
            for text, lang in zip(texts, given, strict=True)
        ]
        langs = [lang for lang, _ in detected]
        sentiments: list[tuple[float, str, str] | None] = [None] * len(texts)
        if self.model is not None:
            picked = [i for i, lang in enumerate(langs) if self.model.covers(lang)]
            predicted = self.model.predict([texts[i] for i in picked], [langs[i] for i in picked])
            for i, (score, label) in zip(picked, predicted, strict=True):
                sentiments[i] = (score, label, "model")
        results = []
        for i, text in enumerate(texts):
            if sentiments[i] is None:
                lex = _lexicon_any(text, langs[i])
                sentiments[i] = (lex.score, lex.label, "lexicon")
            score, label, method = sentiments[i]  # type: ignore[misc]
            topics = tuple(detect_topics(text, langs[i]))
            phases = tuple(dict.fromkeys(PHASE_OF_TOPIC[t] for t in topics))
            results.append(
                TextScore(
                    originals[i],
                    langs[i],
                    round(detected[i][1], 3),
                    round(score, 4),
                    label,
                    topics,
                    phases,
                    method,
                )
            )
        return results
