"""Does the shop model still help? Rated reviews of a store: shop model (k-fold CV) vs day one.

    python benchmarks/voice_shop_model.py --store klantreis.duckdb [--folds 5]

Labels come from the star ratings, as when the shop model is trained (1-2 negative, 3 neutral,
4-5 positive). Day one is what ships (no training); the shop model is trained on the other
folds, exactly as `klantreis voice update` trains it on the whole store.
"""

from __future__ import annotations

import argparse
from collections import Counter

from sklearn.metrics import f1_score
from sklearn.model_selection import StratifiedKFold

import klantreis
from klantreis.measure.voice.model import SentimentModel
from klantreis.measure.voice.out_of_box import day_one_sentiment
from klantreis.measure.voice.training import rated_reviews


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", required=True)
    parser.add_argument("--folds", type=int, default=5)
    args = parser.parse_args()
    with klantreis.open(args.store, read_only=True) as kr:
        texts, labels, languages = rated_reviews(kr.engine)
    print(
        f"{len(texts)} rated reviews, labels {dict(Counter(labels))}, "
        f"languages {dict(Counter(languages).most_common(5))}"
    )
    model_pred = [""] * len(texts)
    split = StratifiedKFold(n_splits=args.folds, shuffle=True, random_state=13)
    for train, test in split.split(texts, labels):
        model = SentimentModel.train(
            [texts[i] for i in train], [labels[i] for i in train], [languages[i] for i in train]
        )
        predicted = model.predict([texts[i] for i in test], [languages[i] for i in test])
        for i, (_, label) in zip(test, predicted, strict=True):
            model_pred[i] = label
    day_one = [day_one_sentiment(t, lang).label for t, lang in zip(texts, languages, strict=True)]
    model_f1 = f1_score(labels, model_pred, average="macro")
    print(f"shop model ({args.folds}-fold CV) macro-F1 {model_f1:.3f}")
    print(f"day one (as shipped)       macro-F1 {f1_score(labels, day_one, average='macro'):.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
