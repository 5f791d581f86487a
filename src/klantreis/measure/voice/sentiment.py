"""Sentiment from lexicons: a score on -1..+1 and a label, for any language we have words for.

Every language goes through the same rules, VADER's core ones applied by hand — negation
within the clause flips and dampens, intensifiers boost, the clause after "but"/"maar"/"men"
weighs more, and the sum is squashed with VADER's normalisation — plus two of our own: "too"
before an adjective is a complaint ("te duur", "for sent", "too small"), and "never so" intensifies
rather than negates ("nog nooit zo slecht gegeten"). vaderSentiment's own analyzer hard-codes
English and knows no multi-word phrases, so English uses only its lexicon file.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from klantreis.measure.voice.lexicons import excess_words, grammar, lexicon, plain_words

LABELS = ("negative", "neutral", "positive")
NEUTRAL_BAND = 0.05
"""|score| below this is neutral (VADER's convention for its compound score)."""

_NEGATION_FACTOR = -0.74  # VADER's N_SCALAR
_BOOST = 0.293  # VADER's B_INCR
_ALPHA = 15.0  # VADER's normalisation constant
_TOKEN = re.compile(
    r"[^\W\d_]+(?:'[^\W\d_]+)?|n't|[.,;:!?]|[\U0001F300-\U0001F3FA\U0001F400-\U0001FAFF\u2600-\u27BF]",
    re.UNICODE,
)
"""Words, clause punctuation and emoji (one token each; skin tones and joiners fall away)."""
_CLAUSE_END = frozenset(".,;:!?")


@dataclass(frozen=True)
class LexiconSentiment:
    score: float
    """-1..+1."""
    label: str
    positive: float
    """Sum of positive valences (for model features)."""
    negative: float
    hits: int
    structured: bool = False
    """A negation, contrast, concession or "too" changed what the words say: the lexicon read
    the sentence's structure, which a bag-of-words review model cannot."""
    mixed: bool = False
    """Opinion words, then a "but" with nothing known after it: the text is mixed."""


def label_for(score: float) -> str:
    if score >= NEUTRAL_BAND:
        return "positive"
    if score <= -NEUTRAL_BAND:
        return "negative"
    return "neutral"


def tokens(text: str) -> list[str]:
    """Lower-cased words, with clause punctuation kept as tokens (negation stops there)."""
    return _TOKEN.findall(text.lower())


_SUFFIXES = ("ere", "este", "en", "er", "es", "e", "t")
_SUFFIXES_BY_LANGUAGE = {"da": ("ere", "este", "e", "t")}
"""Danish adjectives add -e, -t, -ere, -este; -es, -er and -en mostly end verbs and nouns, and
stripping them reached unrelated lexicon words (`fordeles`, is shared out → `fordel`,
advantage; `gælder`, applies → `gæld`, debt)."""


def _inflection_base(token: str, words: dict[str, float], language: str = "") -> str | None:
    """The lexicon entry an inflected adjective comes from (`slechte` → `slecht`).

    Lexicons list base forms; Dutch, Danish and German add -e/-en/-er/-t. Stripping those is
    enough for the adjectives that carry sentiment, where a full stemmer over-merges words.
    """
    if token in plain_words(language):
        return None
    for suffix in _SUFFIXES_BY_LANGUAGE.get(language, _SUFFIXES):
        if token.endswith(suffix) and len(token) - len(suffix) >= 4:
            base = token[: -len(suffix)]
            if base in words:
                return base
            if language == "da" and (base := _danish_adjective(token, suffix)) in words:
                return base
    return None


def _danish_adjective(token: str, suffix: str) -> str:
    """The base form behind two Danish adjective spellings that stripping alone misses: a
    doubled consonant (`langsomme`, `nemmere` → `langsom`, `nem`) and a participle's -ede
    (`forsinkede`, `skuffede` → `forsinket`, `skuffet`)."""
    stem = token[: -len(suffix)]
    if suffix == "e" and stem.endswith("ed"):
        return stem[:-2] + "et"
    if suffix != "t" and len(stem) >= 4 and stem[-1] == stem[-2] and stem[-1] not in "aeiouyæøå":
        return stem[:-1]
    return ""


_BOOSTING_PREFIXES = ("super", "over", "reuze", "mega", "extra")
_INTENSIFYING_PREFIXES = {"da": ("pisse", "skide", "møg", "kæmpe", "mega", "super", "hammer")}
"""Danish prefixes that intensify either way: `pissegodt`, `pissedårligt`, `kæmpeproblem`."""
_SCORNING_PREFIXES = {"da": ("skod", "lorte", "møg")}
"""Danish prefixes that make any word a complaint (`skodservice`, `lortevare`, `møgvejr`);
each is itself a lexicon word."""


@functools.cache
def _prefixes(language: str) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    """(boosting and intensifying, intensifying, scorning) prefixes of a language."""
    either_way = _INTENSIFYING_PREFIXES.get(language, ())
    return (*_BOOSTING_PREFIXES, *either_way), either_way, _SCORNING_PREFIXES.get(language, ())


def _compound_base(token: str, words: dict[str, float], language: str = "") -> str | None:
    """The lexicon word a compound is read as: the praise word inside a boosting compound
    (`superlekker` → `lekker`), the opinion word after a Danish intensifying prefix
    (`pissedårligt` → `dårligt`), or a scorning prefix itself (`skodservice` → `skod`)."""
    boosting, either_way, scorning = _prefixes(language)
    if not token.startswith(boosting + scorning):  # one test for the words most tokens are
        return None
    for prefix in boosting:
        rest = token[len(prefix) :]
        if token.startswith(prefix) and len(rest) >= 4:
            base = rest if rest in words else _inflection_base(rest, words, language)
            if base is not None and (words[base] > 0 or (prefix in either_way and words[base] < 0)):
                return base
    for prefix in scorning:
        if token.startswith(prefix) and len(token) - len(prefix) >= 3 and prefix in words:
            return prefix
    return None


def _normalise(total: float) -> float:
    return total / math.sqrt(total * total + _ALPHA)


_KEPT: ContextVar[dict[tuple[tuple[str, ...], str], _Reading] | None] = ContextVar(
    "lexicon_readings_kept", default=None
)


@contextmanager
def readings_kept() -> Iterator[None]:
    """Read each run of tokens once per language while inside: the voice update reads a
    rated review for the shop model's features when it trains, again when it scores the
    review, and again for the plain-question check; the topics read its clauses, which texts
    share; the phrase banks of a simulated shop repeat one review many times. The readings are
    dropped on leaving, so they never outlive the texts of one update."""
    token = _KEPT.set({})
    try:
        yield
    finally:
        _KEPT.reset(token)


def _reading(toks: list[str], language: str) -> _Reading:
    kept = _KEPT.get()
    if kept is None:
        return _read(toks, language)
    key = (tuple(toks), language)
    found = kept.get(key)
    if found is None:
        found = kept[key] = _read(toks, language)
    return found


def lexicon_sentiment(text: str, language: str) -> LexiconSentiment:
    """Score one text with the lexicon of its language (neutral when we have none)."""
    reading = _reading(tokens(text), language)
    valences = reading.valences
    total = sum(valences)
    score = _normalise(total) if valences else 0.0
    return LexiconSentiment(
        score,
        label_for(score),
        sum(v for v in valences if v > 0),
        -sum(v for v in valences if v < 0),
        len(valences),
        reading.structured,
        reading.mixed,
    )


_EXCESS_VALENCE = -0.6 * 4
_CONCEDED = 0.5
"""Weight of what a concessive clause grants ("selvom prisen er høj, …"): the main clause
carries the opinion, whether it comes before or after."""
_SO = {"nl": "zo", "da": "så", "en": "so", "de": "so", "pt": "tão"}
_NEVER = {"nl": "nooit", "da": "aldrig", "en": "never", "de": "nie", "pt": "nunca"}
_NOT_RAISED, _RAISED_VERB, _RAISED_CLAUSE = 0, 1, 2


def _raise_negation(toks: list[str], i: int, state: int, rules: dict[str, frozenset[str]]) -> int:
    """Where a negation of "think" points: "Jeg synes ikke, det er en god løsning" negates
    the clause right after the comma (or "at"), not the verb it stands next to.

    States: not raised; opinion verb negated at the end of its clause ("synes ikke",
    "synes jeg ikke"); inside the clause it governs, until that clause ends or a "men" turns
    to something else. "synes ikke om" (dislike) is a verb of its own and raises nothing.
    """
    tok = toks[i]
    if state == _RAISED_VERB:
        return _RAISED_CLAUSE if tok in {",", "at"} else _NOT_RAISED
    if state == _RAISED_CLAUSE and (tok in _CLAUSE_END or tok in rules["contrasts"]):
        return _NOT_RAISED
    if tok in rules["negations"] and any(t in rules["verbs"] for t in toks[max(0, i - 2) : i]):
        return _RAISED_VERB
    return state


def clause_valences(toks: list[str], language: str) -> list[float]:
    """Valence of each sentiment word or phrase after negation, intensifiers, "too" and
    contrast: the words before "but"/"maar"/"men" count half, those after it one and a half.
    """
    return list(_reading(toks, language).valences)


@dataclass(frozen=True)
class _Reading:
    valences: list[float]
    structured: bool
    mixed: bool = False


_ABSENCE_VALENCE = -0.5 * 4
_ABSENCE_REACH = 4
"""Words a negation may stand before an expected thing: "uden at få et svar"."""


def _negated_after(toks: list[str], j: int, rules: dict[str, frozenset[str]]) -> bool:
    """Whether a negation follows the word ending before `j`, in the same clause, with at most
    two adverbs between ("hjælper ikke", "passer slet ikke", "virker stadig ikke"), and is not
    the start of "ikke kun"/"ikke mindst" (not only, not least)."""
    if not rules["after"]:
        return False
    for k in range(j, min(j + 3, len(toks))):
        tok = toks[k]
        if tok in rules["after"]:
            return k + 1 >= len(toks) or toks[k + 1] not in rules["not_negating"]
        if tok not in rules["fillers"]:
            return False
    return False


def _read(toks: list[str], language: str) -> _Reading:
    words = lexicon(language)
    rules = grammar()
    negations = rules["negations"].get(language, frozenset())
    boosters = rules["intensifiers"].get(language, frozenset())
    concessives = rules["concessives"].get(language, frozenset())
    opinion_verbs = rules["opinion_verbs"].get(language, frozenset())
    comparatives = rules["comparatives"].get(language, frozenset())
    contrasts = rules["contrasts"].get(language, frozenset()) - concessives
    raising = {"negations": negations, "verbs": opinion_verbs, "contrasts": contrasts}
    too = rules["too"].get(language, frozenset())
    excess = excess_words(language)
    absences = rules["absences"].get(language, frozenset())
    post = {
        "after": rules["negations_after"].get(language, frozenset()),
        "fillers": rules["negation_fillers"].get(language, frozenset()),
        "not_negating": rules["not_negating"].get(language, frozenset()),
    }
    structured = False
    valences: list[float] = []
    conceded: set[int] = set()
    """Indices of valences in a clause opened by "selvom" (although): said, but outweighed."""
    in_concession = False
    raised = _NOT_RAISED
    contrast_at = -1
    i = 0
    while i < len(toks):
        if toks[i] in concessives:
            in_concession = True
        elif toks[i] in _CLAUSE_END:
            in_concession = False
        raised = _raise_negation(toks, i, raised, raising)
        if toks[i] in too and i + 1 < len(toks):
            after = toks[i + 1]
            if (
                after in excess
                or words.get(after, 0.0) > 0
                or (
                    (base := _inflection_base(after, words, language)) is not None
                    and words[base] > 0
                )
            ):
                boosted = i > 0 and toks[i - 1] in boosters | {"veel", "alt", "way", "much"}
                valences.append(_EXCESS_VALENCE * (1.3 if boosted else 1.0))
                structured = True
                if in_concession:
                    conceded.add(len(valences) - 1)
                i += 2
                continue
        for size in (3, 2, 1):
            phrase = " ".join(toks[i : i + size])
            if size <= len(toks) - i and phrase in words:
                break
            if size == 1 and (base := _inflection_base(phrase, words, language)) is not None:
                phrase = base
                break
            if size == 1 and (base := _compound_base(phrase, words, language)) is not None:
                phrase = base
                break
        else:
            if toks[i] in contrasts:
                contrast_at = len(valences)
            elif toks[i] in absences and any(
                t in negations for t in _clause_window(toks, i, _ABSENCE_REACH)
            ):
                valences.append(_ABSENCE_VALENCE)
                structured = True
                if in_concession:
                    conceded.add(len(valences) - 1)
            i += 1
            continue
        valence = words[phrase]
        if not valence:  # a phrase that says nothing ("ved godt", "kan godt")
            i += size
            continue
        window = _clause_window(toks, i, 3)
        if any(t in boosters for t in window[-1:]):
            valence += math.copysign(_BOOST * 4, valence)
        negated = [k for k, t in enumerate(window) if t in negations]
        if negated and window[negated[-1] + 1 : negated[-1] + 2] == [_SO.get(language)]:
            # "nooit zo slecht", "never so bad": the negation intensifies
            valence += math.copysign(_BOOST * 4, valence)
        elif negated and window[negated[-1]] == _NEVER.get(language) and phrase in comparatives:
            # "aldrig haft det bedre", "never felt better": nothing was ever better
            valence += math.copysign(_BOOST * 4, valence)
        elif (
            negated or raised == _RAISED_CLAUSE or _negated_after(toks, i + size, post)
        ) and not negations.intersection(phrase.split()):
            # a phrase is negated too ("intet gik i stykker"), unless it holds its own
            # negation ("nooit meer", "virker ikke")
            valence *= _NEGATION_FACTOR
            structured = True
        valences.append(valence)
        if in_concession:
            conceded.add(len(valences) - 1)
        i += size
    structured = structured or bool(conceded)
    valences = [v * _CONCEDED if k in conceded else v for k, v in enumerate(valences)]
    if 0 <= contrast_at == len(valences):
        # "goed product, maar de levering duurde twee weken": nothing we know follows "but",
        # yet "but" says it goes against what came before; the text is mixed, not praise
        return _Reading([0.0 for _ in valences], True, mixed=bool(valences))
    if contrast_at >= 0:
        valences = [v * 0.5 for v in valences[:contrast_at]] + [
            v * 1.5 for v in valences[contrast_at:]
        ]
        structured = structured or contrast_at > 0
    return _Reading(valences, structured)


def _clause_window(toks: list[str], i: int, reach: int) -> list[str]:
    """Up to `reach` tokens before `i`, not reaching back past the end of a clause."""
    window = toks[max(0, i - reach) : i]
    for j in range(len(window) - 1, -1, -1):
        if window[j] in _CLAUSE_END:
            return window[j + 1 :]
    return window
