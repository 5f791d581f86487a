"""The journey map: per phase, who gets there, what they do, where, how long, how it feels, what
hurts (with the customer's own words) and what to fix first.

Every decision the map shows is taken here, once, so `klantreis map --json`, `GET /api/map`, the
dashboard and the HTML file the CLI writes say the same things; the presenters only draw.

- Volume, conversion, time in phase, top events/touchpoints/channels: `phases.py`, stored
  per model for the uncut map (`lanes.py`).
- Emotion: the voice module's `emotion_by_phase`, read from the stored scores (the map scores
  no text itself; a note says how many are not scored yet); where it has nothing, review
  scores speak for the evaluation phase (or the last phase), scaled to -1..+1 as
  (rating - 3) / 2.
- Pain points: breached expectations (the `pain_points` analysis) and mostly negative voice
  topics, each with a quote that is about it, or none: `pains.py`.
- Opportunities: as the `opportunities` analysis last stored them (read, not computed; a note
  says when none are ranked yet or they predate the latest events), placed in the phase they
  are about: `placement.py`.

The other analyses run in the map's definition (`definition_in_use`), so a map in AIDA gets AIDA
pain points and emotion; on a store whose model is built in another definition with the same
purchase event they read that model in the map's definition (`model/translate.py`), never
building a second one. The uncut map is stored whole and read back while what it rests on is
unchanged (`stored.py`). An analysis that is not installed is named in `missing`;
one that fails is named with its error in `errors`, never silently left out.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, is_dataclass
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import Field

from klantreis.measure.contract import Cli, CutQuery, Positional
from klantreis.measure.filters import Cut, source_cut, source_in_use
from klantreis.measure.journey_map.lanes import phase_lanes
from klantreis.measure.journey_map.pains import (
    expectation_pains,
    name_failing_terms,
    quote_breaches,
    topic_pains,
    translate_phase,
)
from klantreis.measure.journey_map.phases import funnel_notes
from klantreis.measure.journey_map.placement import place_opportunities
from klantreis.measure.journey_map.result import (
    JourneyMap,
    Note,
    Opportunity,
    PainPoint,
    PhaseSummary,
    Quote,
)
from klantreis.measure.journey_map.stored import fingerprint as map_fingerprint
from klantreis.measure.journey_map.stored import read_map, write_map
from klantreis.measure.registry import analysis, get_analysis
from klantreis.model import JourneyDefinition, ensure_built, load_definition
from klantreis.model.as_built import reading_as_built
from klantreis.model.build import configured_definition, definition_in_use, model_definition_for
from klantreis.model.translate import translation
from klantreis.store.query import Query, tables_read_as

if TYPE_CHECKING:
    from klantreis.measure.voice.analyses import EmotionByPhase, PhaseEmotion
    from klantreis.model.context import Context

__all__ = ["JourneyMap", "Note", "Opportunity", "PainPoint", "PhaseSummary", "Quote"]

log = logging.getLogger(__name__)

_REVIEWS = """
SELECT count(*) AS reviews,
       avg(TRY_CAST(properties ->> '$.rating' AS DOUBLE)) AS mean_rating
FROM journey_events
WHERE event = 'Review Submitted' AND TRY_CAST(properties ->> '$.rating' AS DOUBLE) IS NOT NULL
  AND :cut
"""


class _Calls:
    """Other analyses the map asks, with what was missing and what failed."""

    def __init__(self, kr: Context) -> None:
        self.kr = kr
        self.missing: list[str] = []
        self.errors: list[dict[str, str]] = []

    def __call__(self, name: str, **params: Any) -> Any:
        func = get_analysis(name)
        if func is None:
            self.missing.append(name)
            return None
        try:
            return func(self.kr, **params)
        except Exception as exc:  # the map still shows what it has, and says what failed
            log.exception("analysis %s failed while drawing the journey map", name)
            self.errors.append({"analysis": name, "error": f"{type(exc).__name__}: {exc}"})
            return None


Language = Literal["en", "nl", "da"]


class JourneyMapQuery(CutQuery):
    """`kr.journey_map(...)`, `klantreis map`, `GET /api/map`."""

    definition: Annotated[str | None, Positional(cli_argument=False)] = Field(
        None,
        max_length=200,
        description="six-phase, aida, a definition file, or the configured definition.",
    )
    language: Annotated[Language, Cli("--language", "--lang")] = Field(
        "en", description="Language of phases, touchpoints and headings (en, nl, da)."
    )
    source: str | None = Field(
        None,
        max_length=200,
        description="Only persons whose first visit came from this acquisition touchpoint "
        "(organic search, social, ...) or source (google, tiktok, ...).",
    )


@analysis("journey_map", query=JourneyMapQuery, result=JourneyMap)
def journey_map(
    kr: Context,
    definition: str | None = None,
    *,
    start: str | None = None,
    end: str | None = None,
    persona: str | None = None,
    language: str = "en",
    source: str | None = None,
) -> JourneyMap:
    """Build (if needed) the model and compute the journey map for a cut."""
    name = definition or configured_definition(kr)
    resolved = load_definition(name)
    home = model_definition_for(kr, name)
    with definition_in_use(name, model=home):
        ensure_built(kr, home)
        key = None
        if start is None and end is None and persona is None and source is None:
            found, key = _stored(kr, resolved, language)
            if found is not None:
                return found
        started = time.perf_counter()
        with _read_in(kr, home, resolved), source_in_use(source):
            jm = _journey_map(kr, resolved, name, start, end, persona, language)
        jm.cut["source"] = source
        if key is not None and not jm.errors:
            write_map(kr, resolved.name, language, key, jm, time.perf_counter() - started)
        return jm


def _stored(
    kr: Context, resolved: JourneyDefinition, language: str
) -> tuple[JourneyMap | None, str | None]:
    """(the stored uncut map if it is current, the key to store a computed one under).

    The cases are brought up to date first (one read of `meta` when they are; judged as the
    pain points would otherwise): the key holds their fingerprint. A page reading `as_built`
    takes the last stored map as it is (the routine stores a new one after each change, in
    each definition a map is stored in)."""
    if reading_as_built():
        found = read_map(kr, resolved.name, language, None)
        if found is not None:
            return found[0], None
        # none stored in this definition yet: the one computed now is stored under what it
        # read, so the routine keeps it current from now on
        return None, map_fingerprint(kr, resolved, language)
    if get_analysis("pain_points") is not None:
        from klantreis.measure.expectations.cases import ensure_cases

        try:
            ensure_cases(kr)
        except Exception:  # the map computes and says what failed; it stores nothing then
            log.exception("judging the cases failed while drawing the journey map")
            return None, None
    key = map_fingerprint(kr, resolved, language)
    if key is None:
        return None, None
    found = read_map(kr, resolved.name, language, key)
    return (found[0] if found else None), key


@contextmanager
def _read_in(kr: Context, home: str, resolved: JourneyDefinition) -> Iterator[None]:
    """The model built in `home`, and the cases judged in it, read in `resolved` (a read of
    the stored model: `model/translate.py`); nothing to do when they are the same."""
    built = load_definition(home)
    if built == resolved:
        yield
        return
    from klantreis.measure.expectations.cases import cases_read_in

    translated = translation(kr.engine, built, resolved)
    tables = dict(translated.tables)
    if kr.engine.has_table("expectation_cases"):
        tables.update(cases_read_in(kr, translated))
    with tables_read_as(tables):
        yield


def _journey_map(
    kr: Context,
    resolved: Any,
    name: str,
    start: str | None,
    end: str | None,
    persona: str | None,
    language: str,
) -> JourneyMap:
    cut = Cut.parse(start, end, persona)
    events_cut = cut.condition(kr.engine)
    breaches_cut = cut.condition(kr.engine, timestamp="started_at")
    labels = [resolved.phase_label(p, language) for p in resolved.phase_ids]
    whole_store = start is None and end is None and persona is None and not source_cut()
    phases, skipped, summary = phase_lanes(
        kr, events_cut, resolved, labels, whole_store=whole_store
    )
    call = _Calls(kr)
    cut_params = {"start": start, "end": end, "persona": persona}
    _add_emotion(kr, phases, events_cut, call("emotion_by_phase", **cut_params), resolved)
    pains = call("pain_points", language=language, **cut_params)
    if pains is not None:
        expectation_pains(pains, phases)
        quote_breaches(kr, phases, breaches_cut)
        name_failing_terms(kr, phases, events_cut)
    topic_phase = topic_pains(kr, phases, events_cut, resolved)
    found, ranking_note = _stored_opportunities(kr, persona, call)
    items = [asdict(o) if is_dataclass(o) and not isinstance(o, type) else dict(o) for o in found]
    unplaced = place_opportunities(kr, items, phases, topic_phase, (events_cut, breaches_cut))
    notes = funnel_notes(phases, skipped)
    if ranking_note is not None:
        notes.append(ranking_note)
    unscored = _unscored(kr, call)
    if unscored:
        notes.append(Note(kind="unscored_texts", texts=unscored))
    return JourneyMap(
        definition=resolved.name,
        definition_label=resolved.label.get(language) or resolved.name,
        language=language,
        cut={"start": start, "end": end, "persona": persona},
        totals=summary,
        phases=phases,
        opportunities=unplaced,
        notes=notes,
        missing=call.missing,
        errors=call.errors,
    )


def _stored_opportunities(
    kr: Context, persona: str | None, call: _Calls
) -> tuple[list[Any], Note | None]:
    """The opportunities last ranked for this persona, read, never computed here: ranking is
    a regression over every order (a minute at shop scale) that `klantreis opportunities`,
    the demo and the server's routine run. A note says when none are ranked yet, or when
    they were ranked before the latest events."""
    if get_analysis("opportunities") is None:
        call.missing.append("opportunities")
        return [], None
    from klantreis.measure import opportunities

    try:
        stored = opportunities.stored_opportunities(kr, persona=persona)
    except Exception as exc:  # the map still shows what it has, and says what failed
        log.exception("reading the stored opportunities failed while drawing the journey map")
        call.errors.append({"analysis": "opportunities", "error": f"{type(exc).__name__}: {exc}"})
        return [], None
    if stored is None:
        return [], Note(kind="opportunities_not_ranked")
    return stored.items, Note(kind="opportunities_stale") if stored.stale else None


def _unscored(kr: Context, call: _Calls) -> int:
    """Texts the emotion and topic lanes cannot show yet: the map reads stored voice scores
    and never scores texts itself (that is `klantreis voice update`, minutes at shop scale),
    so it says how many are waiting instead."""
    if get_analysis("emotion_by_phase") is None:
        return 0
    from klantreis.measure.voice.stored import unscored_texts

    try:
        return unscored_texts(kr.store, kr.engine)
    except Exception as exc:  # the map still shows what it has, and says what failed
        log.exception("counting the unscored texts failed while drawing the journey map")
        call.errors.append({"analysis": "voice", "error": f"{type(exc).__name__}: {exc}"})
        return 0


def _add_emotion(
    kr: Context,
    phases: list[PhaseSummary],
    cut_tree: Any,
    voice: EmotionByPhase | None,
    definition: Any,
) -> None:
    """Emotion per phase from the voice; a phase of another definition that nobody wrote in
    takes the (text-weighted) emotion of the six-phase phases its topics are about."""
    by_phase: dict[str, PhaseEmotion] = voice.phases if voice is not None else {}
    for phase in phases:
        if (felt := by_phase.get(phase.id)) is not None:
            phase.emotion = felt.as_json()
    pooled: dict[str, list[tuple[float, int]]] = {}
    for key, felt in by_phase.items():
        target = translate_phase(key, definition) if key not in definition.phase_ids else None
        if target is not None:
            pooled.setdefault(target, []).append((felt.value, felt.n))
    for phase in phases:
        parts = pooled.get(phase.id)
        texts = sum(n for _, n in parts or [])
        if phase.emotion is None and parts and texts:
            phase.emotion = {
                "value": round(sum(v * n for v, n in parts) / texts, 3),
                "n": texts,
                "source": "voice topics",
            }
    if not phases:
        return
    evaluation = next((p for p in phases if p.id == "evaluation"), phases[-1])
    if evaluation.emotion is not None:  # the voice spoke there: no review scan needed
        return
    reviews = kr.engine.rows(Query(_REVIEWS, cut=cut_tree))[0]
    if reviews["reviews"]:
        rating = float(reviews["mean_rating"])
        evaluation.emotion = {
            "value": round((rating - 3) / 2, 3),
            "mean_rating": round(rating, 2),
            "n": reviews["reviews"],
            "source": "review scores",
        }
