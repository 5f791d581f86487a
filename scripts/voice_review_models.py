"""Build the review models that ship in `src/klantreis/measure/voice/data/reviews_*.tsv.gz`.

    python scripts/voice_review_models.py en \
        --uci ../shared/data/github-uci-sentiment-labelled-sentences-en
    python scripts/voice_review_models.py da --hisia-wheel hisia-0.3.3.1-py3-none-any.whl

en: logistic regression over word and word-pair TF-IDF, trained here on the UCI "Sentiment
Labelled Sentences" (Amazon, Yelp, IMDb; CC BY 4.0, Kotzias et al. 2015).
da: the weights of the logistic regression that the `hisia` package (MIT, Prayson W. Daniel)
ships, trained on Danish Trustpilot reviews. Its pickle needs `dill` and an old scikit-learn to
be used as is; we read the fitted numbers out once (vocabulary kept by its feature selection,
coefficients, IDF, intercept, stop words) so klantreis needs neither at run time. hisia
lemmatised words with `lemmy`; klantreis strips common endings instead (see ReviewModel).

Never trained or tuned on ../shared/eval.
"""

from __future__ import annotations

import argparse
import sys
import types
import zipfile
from pathlib import Path

from klantreis.measure.voice.review_model import ReviewModel, model_path

EN_SUFFIXES = ("s", "es", "ed", "ing", "ly")
DA_SUFFIXES = ("erne", "ene", "ede", "ere", "este", "er", "en", "et", "ne", "te", "e", "t", "s")


def uci_sentences(folder: Path) -> tuple[list[str], list[int]]:
    texts, labels = [], []
    for name in ("amazon_cells_labelled.txt", "yelp_labelled.txt", "imdb_labelled.txt"):
        for line in (folder / name).read_text(encoding="utf-8").splitlines():
            text, _, label = line.rpartition("\t")
            if text.strip() and label.strip() in ("0", "1"):
                texts.append(text.strip())
                labels.append(int(label.strip()))
    return texts, labels


def build_en(folder: Path) -> ReviewModel:
    from sklearn.feature_extraction.text import CountVectorizer, TfidfTransformer
    from sklearn.linear_model import LogisticRegression

    texts, labels = uci_sentences(folder)
    plain = ReviewModel("en", 0.0, {}, frozenset(), ())
    counts = CountVectorizer(analyzer=plain.terms, min_df=2)
    x = counts.fit_transform(texts)
    tfidf = TfidfTransformer(sublinear_tf=False)
    x = tfidf.fit_transform(x)
    clf = LogisticRegression(C=4.0, max_iter=2000).fit(x, labels)
    vocab = counts.get_feature_names_out()
    weights = {
        str(term): (float(w), float(idf))
        for term, w, idf in zip(vocab, clf.coef_[0], tfidf.idf_, strict=True)
        if abs(w) > 1e-3
    }
    return ReviewModel("en", float(clf.intercept_[0]), weights, frozenset(), EN_SUFFIXES)


def build_da(wheel: Path) -> ReviewModel:
    import dill  # only needed here, to read hisia's pickle once

    # hisia's pickle refers to its tokenizer, which imports lemmy; the tokenizer is not needed
    # to read the fitted numbers, so a stand-in module satisfies the unpickler.
    for name in ("hisia", "hisia.models"):
        module = types.ModuleType(name)
        module.__path__ = []  # type: ignore[attr-defined]
        sys.modules[name] = module
    helpers = types.ModuleType("hisia.models.helpers")
    helpers.tokenizer = str.split  # type: ignore[attr-defined]
    sys.modules["hisia.models.helpers"] = helpers
    with zipfile.ZipFile(wheel) as archive:
        pipeline = dill.loads(archive.read("hisia/models/base_model.pkl"))
        import joblib

        stops = joblib.load(archive.open("hisia/models/data/stops.pkl"))
    steps = dict(pipeline.steps)
    vectorizer = steps["count_verctorizer"]
    selected = steps["feature_selector"].get_support(indices=True)
    idf = steps["tfidf"]._idf_diag.diagonal()
    clf = steps["logistic_regression"]
    term_of = {index: term for term, index in vectorizer.vocabulary_.items()}
    weights = {
        term_of[int(i)]: (float(w), float(f))
        for i, w, f in zip(selected, clf.coef_[0], idf, strict=True)
    }
    single_words = frozenset(w for w in stops if " " not in w)
    return ReviewModel("da", float(clf.intercept_[0]), weights, single_words, DA_SUFFIXES)


HEADERS = {
    "en": "klantreis review model, English. Trained by scripts/voice_review_models.py on the UCI\n"
    "Sentiment Labelled Sentences (Kotzias et al. 2015), CC BY 4.0. Apache-2.0 (weights).",
    "da": "klantreis review model, Danish. Weights read from the logistic regression in the\n"
    "hisia package 0.3.3.1 (MIT, Copyright (c) 2020 Prayson W. Daniel), trained on Danish\n"
    "Trustpilot reviews. MIT licence text: docs/licences.md.",
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("language", choices=("en", "da"))
    parser.add_argument("--uci", type=Path, help="folder of the UCI sentence files (en)")
    parser.add_argument("--hisia-wheel", type=Path, help="hisia-0.3.3.1 wheel (da)")
    args = parser.parse_args()
    if args.language == "en":
        if args.uci is None:
            parser.error("en needs --uci")
        model = build_en(args.uci)
    else:
        if args.hisia_wheel is None:
            parser.error("da needs --hisia-wheel")
        model = build_da(args.hisia_wheel)
    path = model_path(args.language)
    model.write(path, HEADERS[args.language])
    print(f"{path}: {len(model.weights)} terms, {path.stat().st_size} bytes")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
