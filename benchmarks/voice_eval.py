"""Voice evaluation: sentiment (and topics where labelled) per language against baselines.

Development sets (`../shared/data`), 5-fold stratified cross-validation: the klantreis model
(TF-IDF word+char n-grams + lexicon features → logistic regression, trained on the training
folds, as it would be on a shop's rated reviews), the klantreis lexicon scorer, and the
baselines AFINN (sum of word scores, as in shared/eval's baseline.py), asent (VADER rules;
da/en) or VADER itself (en), and the majority class of the training folds.

"klantreis day one" is what ships (lexicons, rules, review models for en/da): no training
on the development set; the UCI sentences are the English review model's own training data,
so its figure there is not a test. Held-out report (`../shared/eval/voice-sentences`), never
tuned on: the model trained once on the whole development set of that language, and the same
baselines. The day-one figures on the held-out sets as a user gets them (the `voice score`
command on an empty store): `benchmarks/voice_day_one.py`.

    python benchmarks/voice_eval.py            # all
    python benchmarks/voice_eval.py --quick    # 2 folds, subsampled (smoke run)
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import csv
import os
import platform
import random
import re
import sys
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

import numpy as np
from sklearn.metrics import accuracy_score, f1_score
from sklearn.model_selection import StratifiedKFold

from klantreis.measure.voice.model import SentimentModel, rating_label
from klantreis.measure.voice.out_of_box import day_one_sentiment
from klantreis.measure.voice.sentiment import label_for, lexicon_sentiment
from klantreis.measure.voice.topics import detect_topics

REPO = Path(__file__).resolve().parents[1]
SHARED = next(
    (p for p in (REPO.parent / "shared", Path("/work/shared")) if (p / "data").is_dir()), None
)
Example = tuple[str, str]  # (text, label)


# -- data sets ----------------------------------------------------------------------------
def semeval(path: Path) -> tuple[list[Example], list[tuple[str, set[str]]]]:
    """Sentences whose opinions all share one polarity (as the eval set was built), and the
    aspect categories of every sentence with opinions (for topics)."""
    sentiment, aspects = [], []
    for sentence in ET.parse(path).getroot().iter("sentence"):
        text = (sentence.findtext("text") or "").strip()
        opinions = sentence.findall("./Opinions/Opinion")
        if not text or not opinions:
            continue
        polarities = {o.get("polarity") for o in opinions}
        if len(polarities) == 1 and polarities <= {"positive", "negative", "neutral"}:
            sentiment.append((text, polarities.pop() or "neutral"))
        aspects.append((text, {o.get("category") or "" for o in opinions}))
    return sentiment, aspects


def danish_comments(path: Path) -> list[Example]:
    rows = []
    with path.open(encoding="utf-8") as handle:
        for row in csv.reader(handle):
            if len(row) >= 2 and row[1].strip():
                value = int(row[0])
                rows.append(
                    (
                        row[1].strip(),
                        "positive" if value > 0 else "negative" if value < 0 else "neutral",
                    )
                )
    return rows


def uci_sentences(folder: Path) -> list[Example]:
    rows = []
    for name in ("amazon_cells_labelled.txt", "yelp_labelled.txt", "imdb_labelled.txt"):
        for line in (folder / name).read_text(encoding="utf-8").splitlines():
            text, _, label = line.rpartition("\t")
            if text.strip() and label.strip() in ("0", "1"):
                rows.append((text.strip(), "positive" if label.strip() == "1" else "negative"))
    return rows


def olist_reviews(path: Path) -> list[Example]:
    rows = []
    with path.open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            text = ". ".join(
                part.strip()
                for part in (row["review_comment_title"], row["review_comment_message"])
                if part.strip()
            )
            if text:
                rows.append((text, rating_label(float(row["review_score"]))))
    return rows


def eval_sentences(lang: str) -> list[Example]:
    path = SHARED / "eval" / "voice-sentences" / f"{lang}.tsv"  # type: ignore[operator]
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        label, _, text = line.partition("\t")
        if text:
            rows.append((text, label))
    return rows


# -- baselines ----------------------------------------------------------------------------
def _tab(path: Path) -> dict[str, float]:
    words = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        parts = line.split("\t")
        if len(parts) >= 2:
            with contextlib.suppress(ValueError):
                words[parts[0].lower()] = float(parts[1])
    return words


def word_sum_baseline(lang: str) -> Callable[[str], str] | None:
    """Sum of word scores (>0 positive, <0 negative), exactly as shared/eval's baseline.py:
    AFINN for en/da, asent's Chen-Skiena list for nl."""
    lex_dir = SHARED / "data" / "pypi-sentiment-lexicons"  # type: ignore[operator]
    files = {
        "en": "afinn-0.1/AFINN-en-165.txt",
        "da": "afinn-0.1/AFINN-da-32.txt",
        "nl": "asent-0.8.3/nl_lexicon_chen_skiena_2014_v1.txt",
    }
    if lang not in files:
        return None
    words = _tab(lex_dir / files[lang])

    def predict(text: str) -> str:
        total = sum(words.get(w, 0) for w in re.findall(r"\w+", text.lower()))
        return "positive" if total > 0 else "negative" if total < 0 else "neutral"

    return predict


def asent_baseline(lang: str) -> Callable[[str], str] | None:
    """asent's rule-based VADER pipeline (da, en), compound ±0.05."""
    if lang not in ("da", "en"):
        return None
    try:  # an optional baseline: klantreis itself no longer depends on asent or spaCy
        import asent  # noqa: F401 - registers the asent_* spaCy factories
        import spacy
    except ImportError:
        return None

    nlp = spacy.blank(lang)
    nlp.add_pipe("sentencizer")
    nlp.add_pipe(f"asent_{lang}_v1")
    return lambda text: label_for(nlp(text)._.polarity.compound)


def vader_baseline(lang: str) -> Callable[[str], str] | None:
    if lang != "en":
        return None
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    analyzer = SentimentIntensityAnalyzer()
    return lambda text: label_for(analyzer.polarity_scores(text)["compound"])


# -- evaluation ---------------------------------------------------------------------------
def scores(y: list[str], p: list[str]) -> tuple[float, float]:
    return accuracy_score(y, p), f1_score(y, p, average="macro", zero_division=0)


def evaluate(
    name: str, lang: str, dev: list[Example], held_out: list[Example] | None, folds: int
) -> list[tuple[str, str, str, int, float, float]]:
    """Rows (set, split, method, n, accuracy, macro-F1)."""
    texts = [t for t, _ in dev]
    labels = [lab for _, lab in dev]
    baselines = {
        "AFINN/Chen-Skiena": word_sum_baseline(lang),
        "asent (VADER rules)": asent_baseline(lang),
        "VADER": vader_baseline(lang),
        "klantreis lexicon": lambda text: lexicon_sentiment(text, lang).label,
        "klantreis day one": lambda text: day_one_sentiment(text, lang).label,
    }
    predictions: dict[str, list[str]] = collections.defaultdict(lambda: [""] * len(dev))
    split = StratifiedKFold(n_splits=folds, shuffle=True, random_state=13)
    for train, test in split.split(texts, labels):
        majority = collections.Counter(labels[i] for i in train).most_common(1)[0][0]
        model = SentimentModel.train(
            [texts[i] for i in train], [labels[i] for i in train], [lang] * len(train)
        )
        predicted = model.predict([texts[i] for i in test], [lang] * len(test))
        for i, (_, label) in zip(test, predicted, strict=True):
            predictions["klantreis model"][i] = label
            predictions["majority"][i] = majority
        for method, predict in baselines.items():
            if predict is not None:
                for i in test:
                    predictions[method][i] = predict(texts[i])
    rows = [
        (name, f"{folds}-fold CV", method, len(dev), *scores(labels, predicted))
        for method, predicted in predictions.items()
    ]
    if held_out:
        model = SentimentModel.train(texts, labels, [lang] * len(texts))
        y = [lab for _, lab in held_out]
        eval_texts = [t for t, _ in held_out]
        majority = collections.Counter(labels).most_common(1)[0][0]
        held = {
            "klantreis model": [lab for _, lab in model.predict(eval_texts, [lang] * len(y))],
            "majority": [majority] * len(y),
            **{m: [f(t) for t in eval_texts] for m, f in baselines.items() if f is not None},
        }
        rows += [
            (f"eval voice-sentences/{lang}", f"trained on {name}", method, len(y), *scores(y, p))
            for method, p in held.items()
        ]
    return rows


TOPIC_OF_ASPECT = {
    "SERVICE#GENERAL": "customer service",
    "RESTAURANT#PRICES": "price/value",
    "FOOD#PRICES": "price/value",
    "DRINKS#PRICES": "price/value",
    "FOOD#QUALITY": "product quality",
    "DRINKS#QUALITY": "product quality",
}


def topic_rows(name: str, lang: str, aspects: list[tuple[str, set[str]]]) -> list[tuple]:
    """Per topic with a SemEval counterpart: precision, recall, F1 of our topic lexicon."""
    rows = []
    for topic in sorted(set(TOPIC_OF_ASPECT.values())):
        gold = [any(TOPIC_OF_ASPECT.get(c) == topic for c in cats) for _, cats in aspects]
        found = [topic in detect_topics(text, lang) for text, _ in aspects]
        tp = sum(g and f for g, f in zip(gold, found, strict=True))
        precision = tp / max(1, sum(found))
        recall = tp / max(1, sum(gold))
        f1 = 2 * precision * recall / (precision + recall) if tp else 0.0
        accuracy = sum(g == f for g, f in zip(gold, found, strict=True)) / len(gold)
        rows.append((name, topic, sum(gold), accuracy, precision, recall, f1))
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2 folds on subsamples")
    parser.add_argument("--only", help="evaluate only sets in this language (nl, en, da, pt)")
    args = parser.parse_args()
    if SHARED is None:
        print("../shared/data not found; nothing to evaluate")
        return 0
    data = SHARED / "data"
    folds = 2 if args.quick else 5
    print(
        f"machine: {platform.machine()} {platform.processor() or ''} cpus={os.cpu_count()} "
        f"python {sys.version.split()[0]} on {platform.system()}"
    )
    nl, nl_aspects = semeval(
        data / "github-semeval2016-absa-restaurants-nl-en" / "restaurants_dutch_training.xml"
    )
    en, en_aspects = semeval(
        data / "github-semeval2016-absa-restaurants-nl-en" / "ABSA16_Restaurants_Train_SB1_v2.xml"
    )
    sets = [
        ("SemEval-2016 nl train", "nl", nl, eval_sentences("nl")),
        ("SemEval-2016 en train", "en", en, eval_sentences("en")),
        (
            "UCI sentences en",
            "en",
            uci_sentences(data / "github-uci-sentiment-labelled-sentences-en"),
            None,
        ),
        (
            "Danish political comments",
            "da",
            danish_comments(
                data / "github-steffan267-danish-political-comments-sentiment" / "all_sentences.csv"
            ),
            eval_sentences("da"),
        ),
        (
            "Olist reviews (score→label)",
            "pt",
            olist_reviews(
                data / "github-Dhipin1-olist-sample15k" / "olist_order_reviews_dataset.csv"
            ),
            None,
        ),
    ]
    rng = random.Random(5)
    rows = []
    for name, lang, dev, held_out in sets:
        if args.only and lang != args.only:
            continue
        if args.quick and len(dev) > 1500:
            dev = rng.sample(dev, 1500)
        counts = dict(collections.Counter(lab for _, lab in dev))
        started = time.perf_counter()
        rows += evaluate(name, lang, dev, held_out, folds)
        print(
            f"input: {name} ({lang}) n={len(dev)} labels={counts} "
            f"evaluated in {time.perf_counter() - started:.1f}s",
            flush=True,
        )
    print()
    print(f"{'set':34} {'split':32} {'method':22} {'n':>5} {'acc':>6} {'macroF1':>8}")
    for set_name, split, method, n, acc, f1 in rows:
        print(f"{set_name:34} {split:32} {method:22} {n:5d} {acc:6.3f} {f1:8.3f}")
    print()
    print("topics vs SemEval aspect categories (sentences with opinions)")
    print(f"{'set':24} {'topic':18} {'gold':>5} {'acc':>6} {'prec':>6} {'recall':>6} {'F1':>6}")
    for lang, aspects in (("nl", nl_aspects), ("en", en_aspects)):
        if args.only and lang != args.only:
            continue
        for name, topic, gold, acc, p, r, f1 in topic_rows(f"SemEval {lang} train", lang, aspects):
            print(f"{name:24} {topic:18} {gold:5d} {acc:6.3f} {p:6.3f} {r:6.3f} {f1:6.3f}")
    np.seterr(all="ignore")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
