"""Score a text: language, sentiment and topics in one pass (nothing stored)."""

from __future__ import annotations

import functools
import html
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from klantreis.measure.voice.language import detect_language
from klantreis.measure.voice.lexicons import grammar
from klantreis.measure.voice.out_of_box import DayOneSentiment, day_one_sentiment, plain_question
from klantreis.measure.voice.sentiment import clause_valences
from klantreis.measure.voice.topics import PHASE_OF_TOPIC, TOPICS, clause_topics, clauses

if TYPE_CHECKING:  # the shop model needs pandas; texts scored without one do not
    from klantreis.measure.voice.model import SentimentModel

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
    """`model` (trained on the shop's rated reviews) or `lexicon` (what ships: lexicons, rules
    and, for English and Danish, a review model)."""
    topic_sentiment: tuple[tuple[str, float, str], ...] = ()
    """(topic, sentiment, label) of the clauses about each topic."""

    def as_dict(self) -> dict[str, Any]:
        row = asdict(self)
        row["topics"] = list(self.topics)
        row["phases"] = list(self.phases)
        row["topic_sentiment"] = {
            topic: {"sentiment": score, "label": label}
            for topic, score, label in self.topic_sentiment
        }
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
    """Scores texts with the shop's model where it knows the language, else what ships."""

    def __init__(self, model: SentimentModel | None = None) -> None:
        self.model = model

    def score(self, text: str, language: str | None = None) -> TextScore:
        return self.score_many([text], [language])[0]

    def _uses_model(self, language: str) -> bool:
        return self.model is not None and self.model.covers(language)

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
            picked = [i for i, lang in enumerate(langs) if self._uses_model(lang)]
            predicted = self.model.predict([texts[i] for i in picked], [langs[i] for i in picked])
            for i, (score, label) in zip(picked, predicted, strict=True):
                if plain_question(texts[i], langs[i]):
                    score, label = 0.0, "neutral"
                sentiments[i] = (score, label, "model")
        for i, text in enumerate(texts):
            if sentiments[i] is None:
                lex = _lexicon_any(text, langs[i])
                sentiments[i] = (lex.score, lex.label, "lexicon")
        about = [
            topic_sentiments(text, lang, sentiments[i][:2])  # type: ignore[index]
            for i, (text, lang) in enumerate(zip(texts, langs, strict=True))
        ]
        self._model_clauses(about, langs)
        results = []
        for i in range(len(texts)):
            score, label, method = sentiments[i]  # type: ignore[misc]
            topics = tuple(about[i])
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
                    tuple((t, round(a.score, 4), a.label) for t, a in about[i].items()),
                )
            )
        return results

    def _model_clauses(self, about: list[dict[str, TopicSentiment]], langs: list[str]) -> None:
        """Clauses with an opinion of their own, in a language the shop model knows, get the
        model's reading too (as the whole text does)."""
        if self.model is None:
            return
        todo = [
            (i, topic, found.clause)
            for i, topics in enumerate(about)
            for topic, found in topics.items()
            if found.own and self._uses_model(langs[i])
        ]
        if not todo:
            return
        predicted = self.model.predict([c for _, _, c in todo], [langs[i] for i, _, _ in todo])
        for (i, topic, clause), (score, _) in zip(todo, predicted, strict=True):
            # the model learned whole reviews; on a clause alone it is surer than it should
            # be, so it is averaged with what ships: where the two disagree, neutral
            mixed = (score + about[i][topic].score) / 2
            about[i][topic] = TopicSentiment(mixed, _label(mixed, CLAUSE_BAND), clause, True)


CLAUSE_BAND = 0.1
"""|mix| under this is neutral for a clause read by both the shop model and what ships."""


def _label(score: float, band: float) -> str:
    return "positive" if score >= band else "negative" if score <= -band else "neutral"


@dataclass(frozen=True)
class TopicSentiment:
    score: float
    label: str
    clause: str
    """The clauses about the topic, joined."""
    own: bool
    """True when those clauses carry an opinion of their own; False when the topic took the
    text's sentiment (or the opposite of the clause before "but")."""


def topic_sentiments(
    text: str, language: str, whole: tuple[float, str]
) -> dict[str, TopicSentiment]:
    """Topic → the sentiment of the clauses about it.

    A clause with sentiment words speaks for its topic. A clause without them that follows
    "maar"/"men"/"but" turns against the clause before it ("goed product, maar de levering
    duurde twee weken"); any other takes the whole text's sentiment (a closing "erg
    frustrerend" is about everything said before it).
    """
    opinion = functools.partial(_has_opinion, language=language)
    cut = clauses(text, language)
    contrasts = grammar()["contrasts"].get(language, frozenset())
    by_topic: dict[str, list[int]] = {}
    for k, clause in enumerate(cut):
        for topic in clause_topics(clause, language, opinion):
            by_topic.setdefault(topic, []).append(k)
    found: dict[str, TopicSentiment] = {}
    for topic in TOPICS:
        if topic not in by_topic:
            continue
        ks = by_topic[topic]
        joined = ". ".join(" ".join(cut[k]) for k in ks)
        if any(opinion(cut[k]) for k in ks):
            own = _lexicon_any(joined, language)
            found[topic] = TopicSentiment(own.score, own.label, joined, True)
            continue
        first = ks[0]
        if first > 0 and cut[first][0] in contrasts:
            before = _lexicon_any(" ".join(cut[first - 1]), language)
            if opinion(cut[first - 1]) and before.label != "neutral":
                flipped = -0.5 if before.score > 0 else 0.5
                label = "negative" if flipped < 0 else "positive"
                found[topic] = TopicSentiment(flipped, label, joined, False)
                continue
        found[topic] = TopicSentiment(whole[0], whole[1], joined, False)
    return found


def _has_opinion(clause: list[str], language: str) -> bool:
    return bool(clause_valences(clause, language if language != "und" else "en"))
