"""Voice on klantreis' own hand-labelled webshop sentences (tests/voice/webshop_sentences).

Per language: macro-F1 of the sentiment label as shipped (no shop model), and per topic the
precision and recall of topic tagging. The sentences were written for klantreis to cover
delivery, returns, refunds, payment, customer service, negation, contrast ("goed product,
maar de levering…") and names of shops and carriers; they are a regression set, not
training data.

    python benchmarks/voice_webshop.py
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from klantreis.measure.voice.scoring import VoiceScorer
from klantreis.measure.voice.topics import TOPICS

SENTENCES = Path(__file__).resolve().parents[1] / "tests" / "voice" / "webshop_sentences"
LANGUAGES = ("nl", "da", "en")


@dataclass(frozen=True)
class Labelled:
    label: str
    topics: frozenset[str]
    text: str


def read(language: str) -> list[Labelled]:
    with (SENTENCES / f"{language}.tsv").open(encoding="utf-8", newline="") as handle:
        return [
            Labelled(
                row["label"],
                frozenset() if row["topics"] == "-" else frozenset(row["topics"].split(",")),
                row["text"],
            )
            for row in csv.DictReader(handle, delimiter="\t")
        ]


def macro_f1(gold: list[str], predicted: list[str]) -> float:
    scores = []
    for label in sorted(set(gold)):
        tp = sum(g == p == label for g, p in zip(gold, predicted, strict=True))
        fp = sum(p == label != g for g, p in zip(gold, predicted, strict=True))
        fn = sum(g == label != p for g, p in zip(gold, predicted, strict=True))
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        scores.append(2 * precision * recall / (precision + recall) if tp else 0.0)
    return sum(scores) / len(scores)


@dataclass(frozen=True)
class TopicFigures:
    topic: str
    gold: int
    found: int
    correct: int

    @property
    def precision(self) -> float:
        return self.correct / self.found if self.found else 1.0

    @property
    def recall(self) -> float:
        return self.correct / self.gold if self.gold else 1.0


def evaluate(language: str) -> tuple[float, list[TopicFigures], list[tuple[Labelled, object]]]:
    """(macro-F1, per-topic figures, (sentence, score) pairs) for one language."""
    rows = read(language)
    scores = VoiceScorer().score_many([r.text for r in rows], [language] * len(rows))
    f1 = macro_f1([r.label for r in rows], [s.label for s in scores])
    figures = []
    for topic in TOPICS:
        gold = [topic in r.topics for r in rows]
        found = [topic in s.topics for s in scores]
        figures.append(
            TopicFigures(
                topic,
                sum(gold),
                sum(found),
                sum(g and f for g, f in zip(gold, found, strict=True)),
            )
        )
    return f1, figures, list(zip(rows, scores, strict=True))


def main() -> int:
    for language in LANGUAGES:
        f1, figures, _ = evaluate(language)
        print(f"{language}: sentiment macro-F1 {f1:.3f} ({len(read(language))} sentences)")
        print(f"  {'topic':24} {'gold':>4} {'found':>5} {'precision':>9} {'recall':>6}")
        for t in figures:
            print(f"  {t.topic:24} {t.gold:4d} {t.found:5d} {t.precision:9.2f} {t.recall:6.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
