"""The Python API: open a store, run any analysis, get Arrow / pandas / polars.

    import klantreis
    kr = klantreis.open("klantreis.duckdb")
    kr.journey_map().to_pandas()

Each analysis is an explicit, typed method here whose parameters are the fields of the
analysis's query model (`measure/contract.py`; a contract test holds them equal): the method
validates them into the query once and runs the registered runner (`measure/registry.py`).
`kr.run(name, query)` runs a query built beforehand.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from klantreis.config import Settings, load_settings
from klantreis.measure.result import Result
from klantreis.store import Store
from klantreis.store.engines.base import Engine
from klantreis.store.query import Query

if TYPE_CHECKING:
    import pyarrow as pa

    from klantreis.act.cases.inbox import Inbox
    from klantreis.measure.acquisition.sources import Sources
    from klantreis.measure.contract import AnalysisQuery
    from klantreis.measure.expectations.analyses import Evaluation, PainPoints
    from klantreis.measure.expectations.scorecard import Scorecard
    from klantreis.measure.funnels.result import FunnelResult
    from klantreis.measure.journey_map.result import JourneyMap
    from klantreis.measure.opportunities import Opportunities
    from klantreis.measure.paths import PathsResult
    from klantreis.measure.products.analysis import ContentQuality
    from klantreis.measure.recommend import Recommendations
    from klantreis.measure.recovery import Recovery
    from klantreis.measure.returns import Returns
    from klantreis.measure.search import SiteSearch
    from klantreis.measure.store_stats import StoreStats
    from klantreis.measure.value.analysis import CustomerValue
    from klantreis.measure.voice.analyses import EmotionByPhase


class Klantreis:
    """One open store and the engine that runs queries over it."""

    def __init__(
        self,
        settings: Settings,
        *,
        read_only: bool = False,
        store: Store | None = None,
        explicit_store: bool = True,
    ) -> None:
        from klantreis.store.sharing import borrowed

        self.settings = settings
        if store is None:
            # Inside `klantreis serve` (a forwarded CLI command, a notebook beside the server)
            # the file is already open in this process: use that store, never open it twice.
            store = borrowed(settings.store, explicit=explicit_store)
            self._owns_store = store is None
        else:
            self._owns_store = False
        self.store = store if store is not None else Store.configured(settings, read_only=read_only)
        self._engine: Engine | None = None

    @classmethod
    def over(cls, store: Store, settings: Settings) -> Klantreis:
        """The API over a store someone else opened and will close (the HTTP server)."""
        return cls(settings, store=store)

    @property
    def engine(self) -> Engine:
        """The configured engine (DuckDB on the store itself by default)."""
        if self._engine is None:
            from klantreis.store.engines import open_engine

            self._engine = open_engine(self.settings, self.store)
        return self._engine

    def sql(self, query: str, **params: Any) -> Result:
        """Run a query (DuckDB dialect, `:name` placeholders) on the configured engine."""
        return Result(self.engine.fetch(Query(query, **params)))

    def run(self, name: str, query: AnalysisQuery) -> Any:
        """Run analysis `name` on a query built beforehand (`FunnelQuery.of(...)`)."""
        from klantreis.measure.registry import get_spec

        spec = get_spec(name)
        if spec is None:
            raise AttributeError(f"no analysis {name!r} is installed")
        return spec.run(self, query)

    def _run(self, name: str, params: dict[str, Any]) -> Any:
        """Validate a method's parameters (its `locals()`) into the query and run it."""
        from klantreis.measure.registry import get_spec

        spec = get_spec(name)
        if spec is None:
            raise AttributeError(f"no analysis {name!r} is installed")
        return spec.call(self, **{k: v for k, v in params.items() if k != "self"})

    # The analyses, one typed method each (parameters: the fields of its query model).

    def audience(self, persona: str) -> pa.Table:
        """Members of a persona or rule segment: ids, and the e-mail hash where consented."""
        return self._run("audience", locals())

    def expectations(
        self,
        *,
        by: Literal["phase", "persona", "week", "carrier", "channel", "source", "acquisition"]
        | None = None,
        language: Literal["en", "nl", "da"] = "en",
        trend: Literal["month", "week"] = "month",
        now: datetime | str | None = None,
        compare: Literal["timestamp", "day"] | None = None,
        start: str | None = None,
        end: str | None = None,
        persona: str | None = None,
    ) -> Scorecard:
        """The expectation scorecard (see `klantreis.measure.expectations.scorecard`)."""
        return self._run("expectations", locals())

    def evaluate_expectations(self, *, now: datetime | str | None = None) -> Evaluation:
        """Judge every expectation and store the `breaches` table (the demo runs this)."""
        return self._run("evaluate_expectations", locals())

    def pain_points(
        self,
        *,
        language: Literal["en", "nl", "da"] = "en",
        start: str | None = None,
        end: str | None = None,
        persona: str | None = None,
    ) -> PainPoints:
        """Per phase, the expectations breached there with their size, most persons first."""
        return self._run("pain_points", locals())

    def breaches(
        self,
        *,
        person_id: str | None = None,
        expectation: str | None = None,
        journey_id: str | None = None,
        limit: int = 1000,
    ) -> Result:
        """Breaches (of a person, journey or expectation), in time order, for the timeline."""
        return self._run("breaches", locals())

    def delights(
        self,
        *,
        person_id: str | None = None,
        expectation: str | None = None,
        journey_id: str | None = None,
        limit: int = 1000,
    ) -> Result:
        """Promises clearly exceeded (of a person, journey or expectation), in time order."""
        return self._run("delights", locals())

    def at_risk(
        self,
        *,
        now: datetime | str | None = None,
        unshipped_hours: float | None = None,
        undelivered_hours: float | None = None,
        overdue: bool = False,
    ) -> Result:
        """Orders not yet shipped or delivered with too little time left before the promise."""
        return self._run("at_risk", locals())

    def funnel(
        self,
        steps: Sequence[str | Mapping[str, Any]],
        *,
        window: str | int = "7d",
        mode: Literal["ordered", "strict", "unordered"] = "ordered",
        exclude: Sequence[str | Mapping[str, Any]] = (),
        where: Sequence[str] = (),
        optional: Sequence[int] = (),
        breakdown: str | None = None,
        breakdown_table: str | None = None,
        attribution: Literal["first_touch", "last_touch", "step"] = "first_touch",
        attribution_step: int | None = None,
        start: str | None = None,
        end: str | None = None,
        persona: str | None = None,
    ) -> FunnelResult:
        """Persons reaching each step within `window` of their first step."""
        return self._run("funnel", locals())

    def journey_map(
        self,
        definition: str | None = None,
        *,
        language: Literal["en", "nl", "da"] = "en",
        start: str | None = None,
        end: str | None = None,
        persona: str | None = None,
        source: str | None = None,
    ) -> JourneyMap:
        """Build (if needed) the model and compute the journey map for a cut (`source`: only
        persons whose first visit came from it)."""
        return self._run("journey_map", locals())

    def opportunities(
        self,
        *,
        outcome: Literal["review_score", "nps", "repeat_purchase", "conversion", "customer_value"]
        | None = None,
        persona: str | None = None,
        by: Literal["impact", "value"] = "impact",
    ) -> Opportunities:
        """What to fix first: per outcome, the drivers that measurably cost it, ranked by the
        outcome lost in total (or, `by="value"`, by the customer value of the persons hit),
        with the evidence and units."""
        return self._run("opportunities", locals())

    def paths(
        self,
        *,
        start_event: str | None = None,
        end_event: str | None = None,
        steps: int = 5,
        by: Literal["touchpoint", "event"] = "touchpoint",
        split_by_session: bool = True,
        top: int = 20,
        start: str | None = None,
        end: str | None = None,
        persona: str | None = None,
    ) -> PathsResult:
        """Most frequent paths, e.g. `kr.paths(start_event="Products Searched", steps=4)`."""
        return self._run("paths", locals())

    def time_in_phase(
        self, *, start: str | None = None, end: str | None = None, persona: str | None = None
    ) -> Result:
        """Per phase: journeys, persons and the time they spent in it."""
        return self._run("time_in_phase", locals())

    def phase_transitions(
        self, *, start: str | None = None, end: str | None = None, persona: str | None = None
    ) -> Result:
        """The phase-transition matrix: moves from one stay to the next."""
        return self._run("phase_transitions", locals())

    def products(
        self,
        *,
        outcome: Literal[
            "review_score", "low_review", "returned", "not_as_described", "view_to_cart"
        ] = "low_review",
        start: str | None = None,
        end: str | None = None,
    ) -> ContentQuality:
        """Product content quality: completeness, its effect on outcomes, pages to fix first
        (orders and product views in the period)."""
        return self._run("products", locals())

    def value(
        self,
        *,
        now: datetime | str | None = None,
        horizon_weeks: int = 52,
        person: str | None = None,
        expectation: str | None = None,
        limit: int = 20,
    ) -> CustomerValue:
        """Customer value per buyer: revenue to date, expected purchases and revenue (BG/NBD
        with Gamma-Gamma) and probability alive, or RFM scores where few buyers came back."""
        return self._run("value", locals())

    def returns(self, *, start: str | None = None, end: str | None = None) -> Returns:
        """Return reasons per category and product, the shop's decisions, waiting times, and
        the next review and repeat purchase after a rejected or slow return (requests made in
        the period)."""
        return self._run("returns", locals())

    def search(
        self, *, limit: int = 50, start: str | None = None, end: str | None = None
    ) -> SiteSearch:
        """Failing search terms, what follows a search, filter and sort use (in the period)."""
        return self._run("search", locals())

    def recommend(self, person: str, *, n: int = 10) -> Recommendations:
        """Products for one person (any of their ids): what similar persons bought."""
        return self._run("recommend", locals())

    def retention(
        self,
        *,
        period: Literal["week", "month"] = "week",
        cohort_event: str | None = None,
        return_event: str | None = None,
        periods: int = 12,
        start: str | None = None,
        end: str | None = None,
        persona: str | None = None,
    ) -> Result:
        """Retention by cohort, e.g. `kr.retention(period="month", return_event="Order
        Completed")`."""
        return self._run("retention", locals())

    def repeat_purchase(
        self,
        *,
        period: Literal["week", "month"] = "month",
        order_event: str = "Order Completed",
        start: str | None = None,
        end: str | None = None,
        persona: str | None = None,
    ) -> Result:
        """Repeat buyers per cohort of first order."""
        return self._run("repeat_purchase", locals())

    def stats(self) -> StoreStats:
        """Events by name, persons, journeys, quarantine and refused identity links."""
        return self._run("stats", locals())

    def voice(
        self,
        *,
        topic: str | None = None,
        phase: str | None = None,
        start: str | None = None,
        end: str | None = None,
        persona: str | None = None,
    ) -> Result:
        """Per topic: texts, mean sentiment, shares, mean rating, trend and quotes."""
        return self._run("voice", locals())

    def emotion_by_phase(
        self, *, start: str | None = None, end: str | None = None, persona: str | None = None
    ) -> EmotionByPhase:
        """Phase → emotion (`value`, -1..+1), signals, mean review score: the emotion curve."""
        return self._run("emotion_by_phase", locals())

    def survey_scores(
        self,
        *,
        by: Literal["month", "phase", "touchpoint", "persona", "all"] = "month",
        kind: Literal["nps", "csat", "ces"] | None = None,
    ) -> Result:
        """Survey score per kind and group (`by`: month, phase, touchpoint, persona or all)."""
        return self._run("survey_scores", locals())

    def reputation(
        self,
        *,
        period: Literal["day", "week", "month", "quarter", "year"] = "month",
        platform: str | None = None,
        start: str | None = None,
        end: str | None = None,
    ) -> Result:
        """Per platform and period: texts, mentions, ratings, mean rating, sentiment, negative
        share and the change of the mean rating since the platform's previous period."""
        return self._run("reputation", locals())

    def recovery(
        self, *, expectation: str | None = None, horizon_days: int = 90, act_days: int = 14
    ) -> Recovery:
        """Per expectation: breached customers acted on (a resolved case, a message) against
        comparable ones left alone: later review score, NPS, repeat purchase, with intervals."""
        return self._run("recovery", locals())

    @property
    def cases(self) -> Inbox:
        """The inbox: `kr.cases.list()`, `.show(id)`, `.assign(...)`, `.resolve(...)`,
        `.send(id, via="email")`, `.open()` (docs/cases.md)."""
        from klantreis.act.cases.inbox import Inbox

        return Inbox(self)

    def sources(
        self,
        *,
        by: Literal["touchpoint", "source", "medium", "campaign"] = "touchpoint",
        touch: Literal["first", "last"] = "first",
        start: str | None = None,
        end: str | None = None,
        persona: str | None = None,
    ) -> Sources:
        """Per acquisition source: persons, conversion, buyers later hit by a breach, repeat
        buyers and what they say, each share with its interval against the shop's own."""
        return self._run("sources", locals())

    def __getattr__(self, name: str) -> Callable[..., Any]:
        """An analysis registered without a method here (deprecated: add a typed method)."""
        if name.startswith("_"):
            raise AttributeError(name)
        from klantreis.measure.registry import get_spec

        spec = get_spec(name)
        if spec is None:
            raise AttributeError(name)
        warnings.warn(
            f"kr.{name} has no typed method on Klantreis; add one (docs/architecture.md)",
            DeprecationWarning,
            stacklevel=2,
        )
        return lambda *args, **kwargs: spec.function(self, *args, **kwargs)

    def close(self) -> None:
        if self._engine is not None and self._engine is not self.store.engine:
            self._engine.close()
        if self._owns_store:
            self.store.close()

    def __enter__(self) -> Klantreis:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open(store: str | Path | None = None, *, read_only: bool = False) -> Klantreis:
    """Open a store (default from `KLANTREIS_STORE`, klantreis.toml or ./klantreis.duckdb)."""
    return Klantreis(load_settings(store), read_only=read_only, explicit_store=store is not None)
