"""A sentiment model learned from the shop's own rated reviews.

Reviews with a star rating are labelled examples in the shop's own words, products and
languages. We fit TF-IDF word and character n-grams plus the lexicon scores (which carry over
to languages and words the shop has few reviews in) into a logistic regression, and use it
for the shop's unrated texts: tickets, chats and survey comments.
"""

from __future__ import annotations

import io
import pickle
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from klantreis.errors import KlantreisError
from klantreis.measure.voice.sentiment import LABELS, lexicon_sentiment

if TYPE_CHECKING:
    from sklearn.pipeline import Pipeline

MIN_EXAMPLES = 100
"""Fewer rated texts than this and the lexicons are better than a model."""
MIN_PER_CLASS = 15
MIN_PER_LANGUAGE = 30
"""The model is used for a language only when it saw this many examples in it."""


class NotEnoughData(KlantreisError):
    """Too few labelled texts to learn from; callers fall back to the lexicons."""


def rating_label(rating: float, scale_max: float = 5.0) -> str:
    """Star rating to a label: on 1..5, 1-2 negative, 3 neutral, 4-5 positive."""
    position = (rating - 1) / (scale_max - 1) if scale_max > 1 else 0.5
    if position < 0.4:
        return "negative"
    if position > 0.6:
        return "positive"
    return "neutral"


def lexicon_features(frame: pd.DataFrame) -> np.ndarray:
    """Lexicon score, positive and negative mass and number of hits per text."""
    rows = []
    for text, language in zip(frame["text"], frame["language"], strict=True):
        s = lexicon_sentiment(str(text), str(language))
        rows.append((s.score, s.positive, s.negative, s.hits))
    return np.asarray(rows, dtype=float).reshape(-1, 4)


def _pipeline(c: float = 4.0) -> Pipeline:
    # scikit-learn is imported here, not at module level: it costs seconds of start-up for
    # the server and CLI commands that never train.
    from sklearn.compose import ColumnTransformer
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import FunctionTransformer, StandardScaler

    features = ColumnTransformer(
        [
            (
                "words",
                TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True, lowercase=True),
                "text",
            ),
            (
                "chars",
                TfidfVectorizer(
                    analyzer="char_wb", ngram_range=(2, 5), min_df=2, sublinear_tf=True
                ),
                "text",
            ),
            (
                "lexicon",
                Pipeline(
                    [
                        ("score", FunctionTransformer(lexicon_features)),
                        ("scale", StandardScaler()),
                    ]
                ),
                ["text", "language"],
            ),
        ]
    )
    return Pipeline(
        [
            ("features", features),
            ("classify", LogisticRegression(C=c, max_iter=2000, class_weight="balanced")),
        ]
    )


@dataclass
class SentimentModel:
    """A fitted model with what it was trained on."""

    pipeline: Pipeline
    languages: dict[str, int]
    examples: int
    label_counts: dict[str, int]
    trained_at: datetime = field(default_factory=lambda: datetime.now(UTC).replace(tzinfo=None))

    @classmethod
    def train(
        cls, texts: Sequence[str], labels: Sequence[str], languages: Sequence[str]
    ) -> SentimentModel:
        counts = Counter(labels)
        unknown = set(counts) - set(LABELS)
        if unknown:
            raise ValueError(f"labels must be {', '.join(LABELS)}; got {sorted(unknown)}")
        usable = [lab for lab, n in counts.items() if n >= MIN_PER_CLASS]
        if len(texts) < MIN_EXAMPLES or len(usable) < 2:
            raise NotEnoughData(
                f"{len(texts)} labelled texts ({dict(counts)}); need {MIN_EXAMPLES} with at "
                f"least {MIN_PER_CLASS} in two labels"
            )
        frame = pd.DataFrame({"text": list(texts), "language": list(languages)})
        pipeline = _pipeline()
        pipeline.fit(frame, list(labels))
        return cls(pipeline, dict(Counter(languages)), len(texts), dict(counts))

    def covers(self, language: str) -> bool:
        return self.languages.get(language, 0) >= MIN_PER_LANGUAGE

    def predict(self, texts: Sequence[str], languages: Sequence[str]) -> list[tuple[float, str]]:
        """(score -1..+1, label) per text: score is P(positive) - P(negative)."""
        if not texts:
            return []
        # each distinct (text, language) once: a row's features and probabilities are its
        # own, and clauses ("de levering duurde twee weken") repeat across texts
        first: dict[tuple[str, str], int] = {}
        of_text = [first.setdefault(key, len(first)) for key in zip(texts, languages, strict=True)]
        distinct = list(first)
        frame = pd.DataFrame(
            {"text": [t for t, _ in distinct], "language": [lang for _, lang in distinct]}
        )
        proba = self.pipeline.predict_proba(frame)
        classes = list(self.pipeline.classes_)
        pos = proba[:, classes.index("positive")] if "positive" in classes else 0.0
        neg = proba[:, classes.index("negative")] if "negative" in classes else 0.0
        scores = np.asarray(pos - neg, dtype=float).reshape(-1)
        best = [classes[i] for i in proba.argmax(axis=1)]
        found = [(float(s), lab) for s, lab in zip(scores, best, strict=True)]
        return [found[k] for k in of_text]

    def to_bytes(self) -> bytes:
        buffer = io.BytesIO()
        pickle.dump(self, buffer, protocol=pickle.HIGHEST_PROTOCOL)
        return buffer.getvalue()

    @staticmethod
    def from_bytes(blob: bytes) -> SentimentModel:
        # Only models klantreis itself wrote into the shop's own store are loaded here.
        model = pickle.loads(blob)
        if not isinstance(model, SentimentModel):
            raise ValueError("stored voice model is not a klantreis SentimentModel")
        return model
