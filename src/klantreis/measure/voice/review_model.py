"""Review models that ship with klantreis: a linear model over word and word-pair weights.

A new shop has no rated reviews to learn from, so it starts with a model learned elsewhere from
public, licence-compatible review sentences (sources and licences in docs/licences.md; the
build script is `scripts/voice_review_models.py`). Each is a small TSV in `data/`: the
intercept, the words it drops, and per term (a word or a pair of neighbouring words) a weight and
an inverse document frequency. Scoring is TF-IDF, L2-normalised, dotted with the weights: the
logistic regression's own decision function, without scikit-learn or a pickle at run time.
"""

from __future__ import annotations

import functools
import gzip
import itertools
import math
import re
from dataclasses import dataclass
from pathlib import Path

DATA = Path(__file__).parent / "data"
_NON_WORD = re.compile(r"[\W_]+", re.UNICODE)
_REPEATS = re.compile(r"(.)\1{2,}")


@dataclass(frozen=True)
class ReviewModel:
    """P(positive) of a text from weights learned on labelled review sentences."""

    language: str
    intercept: float
    weights: dict[str, tuple[float, float]]
    """term → (weight, idf)."""
    stop_words: frozenset[str]
    suffixes: tuple[str, ...]
    """Endings stripped to reach a known word (`dårlige` → `dårlig`); the models were trained
    on base forms or plain words, customers write inflected ones."""

    def terms(self, text: str) -> list[str]:
        """The words and neighbouring word pairs of a text, as the model was trained on them."""
        words = []
        for raw in _REPEATS.sub(r"\1\1", _NON_WORD.sub(" ", text.lower())).split():
            if len(raw) < 2 or raw.isdigit() or raw in self.stop_words:
                continue
            words.append(self._base(raw))
        return words + [f"{a} {b}" for a, b in itertools.pairwise(words)]

    def _base(self, word: str) -> str:
        if word in self.weights:
            return word
        for suffix in self.suffixes:
            stem = word[: -len(suffix)]
            if word.endswith(suffix) and len(stem) >= 3:
                if stem in self.weights:
                    return stem
                if stem + "e" in self.weights:
                    return stem + "e"
        return word

    def logit(self, text: str) -> tuple[float, int]:
        """(log-odds of positive, number of known terms); (0, 0) when none is known."""
        counts: dict[str, int] = {}
        for term in self.terms(text):
            if term in self.weights:
                counts[term] = counts.get(term, 0) + 1
        if not counts:
            return 0.0, 0
        values = {t: n * self.weights[t][1] for t, n in counts.items()}
        norm = math.sqrt(sum(v * v for v in values.values()))
        z = self.intercept + sum(v / norm * self.weights[t][0] for t, v in values.items())
        return z, len(counts)

    def probability(self, text: str) -> float:
        z, _ = self.logit(text)
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))

    def write(self, path: Path, header: str) -> None:
        """Write as a gzipped TSV (the build script's output; `load` reads it)."""
        lines = [f"# {line}" for line in header.strip().splitlines()]
        lines.append(f"!intercept\t{self.intercept!r}")
        lines.append("!stop\t" + " ".join(sorted(self.stop_words)))
        lines.append("!suffixes\t" + " ".join(self.suffixes))
        lines += [
            f"{term}\t{weight:.5g}\t{idf:.5g}"
            for term, (weight, idf) in sorted(self.weights.items())
        ]
        with gzip.open(path, "wt", encoding="utf-8", compresslevel=9) as handle:
            handle.write("\n".join(lines) + "\n")


def _read(path: Path, language: str) -> ReviewModel:
    intercept, stops, suffixes = 0.0, frozenset[str](), tuple[str, ...]()
    weights: dict[str, tuple[float, float]] = {}
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if line.startswith("#") or not line.strip():
                continue
            key, _, rest = line.rstrip("\n").partition("\t")
            if key == "!intercept":
                intercept = float(rest)
            elif key == "!stop":
                stops = frozenset(rest.split())
            elif key == "!suffixes":
                suffixes = tuple(rest.split())
            else:
                weight, _, idf = rest.partition("\t")
                try:
                    weights[key] = (float(weight), float(idf))
                except ValueError:
                    raise ValueError(f"{path.name}:{number}: not a term, weight and idf") from None
    return ReviewModel(language, intercept, weights, stops, suffixes)


def model_path(language: str) -> Path:
    return DATA / f"reviews_{language}.tsv.gz"


@functools.cache
def review_model(language: str) -> ReviewModel | None:
    """The shipped review model of a language, or None when klantreis has none for it."""
    path = model_path(language)
    return _read(path, language) if path.is_file() else None
