"""Which language a text is in, offline, with the model that ships inside py3langid.

py3langid's naive Bayes model over byte n-grams is small (4 MB), fast and BSD-licensed; we
restrict it to the languages our customers write in so short texts are not sent to rare ones.
"""

from __future__ import annotations

import functools
import threading

LANGUAGES: tuple[str, ...] = ("nl", "da", "en", "de", "pt", "fr", "es", "sv", "it", "pl")
"""Languages a text can be detected as (shops in NL/DK/EU; Olist reviews are pt). Norwegian is
left out: on short texts py3langid takes Danish for Norwegian more often than not."""

MIN_CONFIDENCE = 0.3
"""Below this normalised probability the language is unknown (`und`), e.g. for `ok!!`."""

_lock = threading.Lock()


@functools.lru_cache(maxsize=1)
def _identifier():  # type: ignore[no-untyped-def]
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    ident = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    ident.set_languages(list(LANGUAGES))
    return ident


def detect_language(text: str) -> tuple[str, float]:
    """ISO 639-1 code and confidence; `("und", p)` when the text gives too little to tell."""
    if not text or not any(ch.isalpha() for ch in text):
        return "und", 0.0
    with _lock:  # the identifier keeps per-call numpy state; one caller at a time
        code, prob = _identifier().classify(text)
    if float(prob) < MIN_CONFIDENCE:
        return "und", float(prob)
    return str(code), float(prob)


def language_hint(value: object) -> str | None:
    """A language the event itself states (`nl`, `nl-NL`, `pt_BR`), if it is one we know."""
    if not isinstance(value, str) or len(value) < 2:
        return None
    code = value[:2].lower()
    return code if code in LANGUAGES else None
