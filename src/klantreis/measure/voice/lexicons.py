"""Word-level sentiment lexicons per language.

Sources (licences in docs/licences.md): English VADER (vaderSentiment, MIT, read from the
installed package); Danish AFINN (`data/AFINN-da-32.txt`, ODbL, shipped unmodified); Dutch
adjectives from Pattern (`data/nl-sentiment.xml.gz`, BSD-3/MIT, shipped unmodified); and our
own lists: `emoji.yaml` (emoji, in every language), `everyday_lexicon.yaml` (opinion words and
phrases the general lexicons miss in nl/da/en) and `shop_lexicon.yaml` (webshop words, the
German and Portuguese base, negations, intensifiers, contrasts). Scores are on VADER's -4..+4
valence scale.
"""

from __future__ import annotations

import functools
import gzip
import importlib.util
import xml.etree.ElementTree as ET
from collections import defaultdict
from pathlib import Path

import yaml

VALENCE_MAX = 4.0
HERE = Path(__file__).parent
DATA = HERE / "data"


def package_dir(package: str) -> Path:
    """Where an installed package lives, without importing it."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(
            f"package {package!r} is not installed; it ships a sentiment lexicon klantreis uses"
        )
    return Path(next(iter(spec.submodule_search_locations)))


def _tab_lexicon(path: Path, scale: float) -> dict[str, float]:
    words: dict[str, float] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        parts = line.split("\t")
        if len(parts) >= 2:
            try:
                words[parts[0].lower()] = float(parts[1]) * scale
            except ValueError:
                continue
    return words


def _pattern_nl() -> dict[str, float]:
    """Pattern's Dutch adjectives: one entry per sense, averaged per word form."""
    with gzip.open(DATA / "nl-sentiment.xml.gz") as handle:
        root = ET.parse(handle).getroot()
    senses: dict[str, list[float]] = defaultdict(list)
    for word in root.iter("word"):
        form, polarity = word.get("form"), word.get("polarity")
        if form and polarity is not None:
            senses[form.lower()].append(float(polarity))
    # weak entries (mean |polarity| under 0.2) are mostly neutral words in reviews
    return {
        form: VALENCE_MAX * sum(values) / len(values)
        for form, values in senses.items()
        if abs(sum(values) / len(values)) >= 0.2
    }


@functools.cache
def _yaml(name: str) -> dict:
    return yaml.safe_load((HERE / name).read_text("utf-8"))


def _own_words(name: str) -> dict[str, dict[str, float]]:
    return {
        lang: {str(w).lower(): float(s) * VALENCE_MAX for w, s in words.items()}
        for lang, words in _yaml(name)["words"].items()
    }


@functools.cache
def lexicon(language: str) -> dict[str, float]:
    """Word or phrase → valence (-4..+4) for a language; empty when we have none for it."""
    words: dict[str, float] = {}
    if language == "en":
        words = _tab_lexicon(package_dir("vaderSentiment") / "vader_lexicon.txt", 1.0)
    elif language == "da":
        # AFINN is -5..+5; VADER's scale is -4..+4.
        words = _tab_lexicon(DATA / "AFINN-da-32.txt", 0.8)
    elif language == "nl":
        words = _pattern_nl()
    words.update(_own_words("emoji.yaml")["all"])
    words.update(_own_words("shop_lexicon.yaml").get(language, {}))
    words.update(_own_words("everyday_lexicon.yaml").get(language, {}))
    for word in _yaml("everyday_lexicon.yaml")["neutral"].get(language, ()):
        words.pop(word, None)
    # a phrase scored 0 stays: it keeps its words from being read alone ("ved godt", knows
    # well, is not "godt", good)
    return {word: valence for word, valence in words.items() if valence or " " in word}


@functools.cache
def plain_words(language: str) -> frozenset[str]:
    """Words that carry no sentiment in the language, also not as an inflected form of one
    that does (Danish `skridt`, step, is not `skrid`; `når`, when, is not `nå`, reach)."""
    return frozenset(_yaml("everyday_lexicon.yaml")["neutral"].get(language, ()))


@functools.cache
def excess_words(language: str) -> frozenset[str]:
    """Words that turn negative after "te"/"for"/"too" (`te duur`, `for sent`, `too small`)."""
    return frozenset(_yaml("everyday_lexicon.yaml")["excess"].get(language, ()))


@functools.lru_cache(maxsize=1)
def grammar() -> dict[str, dict[str, frozenset[str]]]:
    """Negations, intensifiers, contrasts, concessives ("selvom"), opinion verbs whose negation
    negates the clause they govern ("synes ikke, at …"), comparatives that "never" intensifies,
    "too" words, negations that follow their word ("hjælper ikke") and things whose absence is
    a complaint ("intet svar") per language (shop_lexicon.yaml)."""
    raw = _yaml("shop_lexicon.yaml")
    return {
        kind: {lang: frozenset(w.lower() for w in words) for lang, words in raw[kind].items()}
        for kind in (
            "negations",
            "intensifiers",
            "contrasts",
            "concessives",
            "opinion_verbs",
            "comparatives",
            "too",
            "negations_after",
            "negation_fillers",
            "not_negating",
            "absences",
        )
    }
