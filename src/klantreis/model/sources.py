"""`session_sources`: where each visit came from (source, medium, campaign, touchpoint).

A session's source is read from the first event of the session on the web or in the app (the
landing): the campaign in `context.campaign`, else the UTM parameters of the page URL; the
referrer in `context.page.referrer` (or `properties.referrer`), ignored when it is the shop's
own host (Segment's `context.referrer.url` of apps is read too). Rules in YAML
(`model/sources.yaml` by default, `[sources] rules` for a shop's own file; docs/sources.md) name
the source and classify it into an acquisition touchpoint. Sessions without a web or app event
(a parcel update, a store visit) have no row: they were no visit.

One table keyed by session, built by one aggregation of `journey_events` and a join of the
landing events back to `events` (the only read of their `context`), so the journey build does
not carry the wide `context` column; the rules' host patterns are matched once per distinct host
or UTM source (`names`), joined back on equality; a refresh rebuilds the affected persons' rows
by the same query (`model/refresh.py`). The landings with their URL parts (`hosted`) are
computed once (`MATERIALIZED`): read by both `seen` and `named`, DuckDB otherwise inlined
them into each and ran every regular expression twice (a fifth of the table's time at 10M
events). A session's landing is the least (time, message id, journey) of its web and app
events, one aggregate instead of a minimum and two `arg_min`s over the same key.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import ClassVar, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from sqlglot import exp

from klantreis.config import SectionSettings
from klantreis.errors import KlantreisError
from klantreis.model.contract import shaped, sourced
from klantreis.store.query import Query
from klantreis.store.schema import TableSpec, columns, register_table

SESSION_SOURCES = register_table(
    TableSpec(
        "session_sources",
        columns=columns(
            ("session_id", "VARCHAR"),
            ("person_id", "VARCHAR"),
            ("journey_id", "VARCHAR"),
            ("started_at", "TIMESTAMP"),
            ("source", "VARCHAR"),
            ("medium", "VARCHAR"),
            ("campaign", "VARCHAR"),
            ("referrer_host", "VARCHAR"),
            ("touchpoint", "VARCHAR"),
        ),
        key=("session_id",),
        person_id_columns=("person_id",),
        derived=True,
        doc="where a visit came from: source, medium, campaign and acquisition touchpoint",
    )
)

SOURCE_FIELDS = ("source", "medium", "campaign", "touchpoint")
"""The columns a cut or breakdown can name (`--breakdown source`, `map --source X`)."""

_SAFE = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""libyaml's safe loader where PyYAML was built with it: the pure-Python one takes a second
per rules file on a loaded machine, and every map and analysis reads one."""


class SourceRulesError(KlantreisError):
    """A source rules file that cannot be read or does not make sense."""


class Condition(BaseModel):
    """One rule: holds when every key it names holds."""

    model_config = ConfigDict(extra="forbid")
    click_id: list[str] = Field(default_factory=list)
    medium: list[str] = Field(default_factory=list)
    source: list[str] = Field(default_factory=list)
    referrer: Literal["any", "none"] | None = None
    campaign: Literal["any"] | None = None


class TouchpointRule(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str
    label: dict[str, str] = Field(default_factory=dict)
    medium: str | None = None
    """The medium of a session this rule classifies when its URL names none."""
    when: list[Condition]


class SourceRules(BaseModel):
    model_config = ConfigDict(extra="forbid")
    sources: dict[str, list[str]] = Field(default_factory=dict)
    groups: dict[str, list[str]] = Field(default_factory=dict)
    touchpoints: list[TouchpointRule]

    @model_validator(mode="after")
    def _check(self) -> SourceRules:
        for rule in self.touchpoints:
            for condition in rule.when:
                for value in condition.source:
                    if value.startswith("@") and value[1:] not in self.groups:
                        raise ValueError(
                            f"touchpoint {rule.id!r}: no group {value[1:]!r} "
                            f"(groups: {', '.join(self.groups)})"
                        )
        if not self.touchpoints or all(c.model_fields_set for c in self.touchpoints[-1].when):
            raise ValueError("the last touchpoint needs the catch-all rule `when: [{}]`")
        return self

    def label(self, touchpoint: str, language: str = "en") -> str:
        """The touchpoint's name in `language` (the first rule with a label names it)."""
        for rule in self.touchpoints:
            if rule.id == touchpoint and rule.label:
                return rule.label.get(language) or rule.label.get("en") or touchpoint
        return touchpoint

    @property
    def touchpoint_ids(self) -> list[str]:
        return list(dict.fromkeys(rule.id for rule in self.touchpoints))


class SourcesSettings(SectionSettings):
    """`[sources] rules`: a YAML file of source rules in place of the shipped defaults."""

    SECTION: ClassVar[str] = "sources"
    rules: str | None = None


@lru_cache(maxsize=8)
def load_rules(path: str | None = None) -> SourceRules:
    """The shipped rules, or a shop's own file (same format, docs/sources.md)."""
    if path is None:
        text = (resources.files("klantreis.model") / "sources.yaml").read_text(encoding="utf-8")
        origin = "sources.yaml"
    else:
        file = Path(path)
        if not file.exists():
            raise SourceRulesError(f"source rules file {path!r} does not exist", field="rules")
        text = file.read_text(encoding="utf-8")
        origin = path
    try:
        return SourceRules.model_validate(yaml.load(text, Loader=_SAFE))
    except yaml.YAMLError as exc:
        raise SourceRulesError(f"{origin}: not valid YAML: {exc}", field="rules") from exc
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"])
        raise SourceRulesError(f"{origin}: {where}: {err['msg']}", field="rules") from exc


_HOST = r"^[A-Za-z][A-Za-z0-9+.-]*://([^/:?#]+)"

_SESSION_SOURCES = """
WITH firsts AS (
    SELECT session_id, person_id,
           min({'timestamp': "timestamp", 'message_id': message_id, 'journey_id': journey_id})
               AS landing
    FROM journey_events WHERE channel IN ('web', 'app')
    GROUP BY session_id, person_id
),
visits AS (
    SELECT session_id, person_id, landing."timestamp" AS started_at,
           landing.message_id AS message_id, landing.journey_id AS journey_id
    FROM firsts
),
landed AS (
    SELECT v.session_id, v.person_id, v.journey_id, v.started_at,
           coalesce(e.context ->> '$.page.url', e.properties ->> '$.url') AS url,
           coalesce(e.context ->> '$.page.referrer', e.context ->> '$.referrer.url',
                    e.properties ->> '$.referrer') AS referrer,
           e.context ->> '$.campaign.source' AS c_source,
           e.context ->> '$.campaign.medium' AS c_medium,
           e.context ->> '$.campaign.name' AS c_name
    FROM visits AS v JOIN events AS e ON e.message_id = v.message_id
),
tagged AS (
    SELECT session_id, person_id, journey_id, started_at, url,
           nullif(lower(trim(coalesce(c_source, CASE WHEN url LIKE '%utm_source=%'
               THEN url_decode(regexp_extract(url, '[?&#]utm_source=([^&#]*)', 1)) END))), '')
               AS utm_source,
           nullif(lower(trim(coalesce(c_medium, CASE WHEN url LIKE '%utm_medium=%'
               THEN url_decode(regexp_extract(url, '[?&#]utm_medium=([^&#]*)', 1)) END))), '')
               AS utm_medium,
           nullif(trim(coalesce(c_name, CASE WHEN url LIKE '%utm_campaign=%'
               THEN url_decode(regexp_extract(url, '[?&#]utm_campaign=([^&#]*)', 1)) END)), '')
               AS campaign,
           regexp_replace(lower(regexp_extract(referrer, :host, 1)), '^www[.]', '') AS ref_host,
           regexp_replace(lower(regexp_extract(url, :host, 1)), '^www[.]', '') AS page_host
    FROM landed
),
hosted AS MATERIALIZED (
    SELECT *, CASE WHEN ref_host = '' OR ref_host = page_host THEN NULL ELSE ref_host END
              AS referrer_host
    FROM tagged
),
seen AS (
    SELECT utm_source AS v FROM hosted WHERE utm_source IS NOT NULL
    UNION SELECT referrer_host FROM hosted WHERE referrer_host IS NOT NULL
),
names AS (SELECT v, :name AS name FROM seen),
named AS (
    SELECT h.*, coalesce(u.name, h.utm_source, r.name, h.referrer_host, '(direct)') AS source
    FROM hosted AS h
    LEFT JOIN names AS u ON u.v = h.utm_source
    LEFT JOIN names AS r ON r.v = h.referrer_host
),
classified AS (
    SELECT *, :touchpoint AS touchpoint FROM named
)
SELECT session_id, person_id, journey_id, started_at, source,
       coalesce(utm_medium, :default_medium) AS medium, campaign, referrer_host, touchpoint
FROM classified
"""
"""The UTM parameters are read from the landing URL's query only when the URL names them (a
`LIKE` before each regular expression): most landings carry none, and the three expressions
were a tenth of the table's CPU at 1M events."""


def _host_pattern(entries: list[str]) -> str:
    """One regex matching a host (or a UTM value) that is any of `entries`: `fb` exactly,
    `google.*` as google with any top-level domain, `t.co` as itself or a subdomain."""
    exact, hosts = [], []
    for entry in entries:
        entry = entry.lower()
        if "." not in entry:
            exact.append(re.escape(entry))
        elif entry.endswith(".*"):
            hosts.append(re.escape(entry[:-2]) + r"\.[a-z]{2,}(\.[a-z]{2,})?")
        else:
            hosts.append(re.escape(entry))
    parts = []
    if exact:
        parts.append("(" + "|".join(exact) + ")")
    if hosts:
        parts.append(r"([a-z0-9.-]*\.)?(" + "|".join(hosts) + ")")
    return "^(" + "|".join(parts) + ")$"


def _name_case(rules: SourceRules, column: str) -> exp.Expression:
    """The source's name for the value in `column` (NULL when no source lists it)."""
    case = exp.Case()
    for name, entries in rules.sources.items():
        pattern = _host_pattern([name, *entries])
        case = case.when(
            exp.RegexpLike(this=exp.column(column), expression=exp.Literal.string(pattern)),
            exp.Literal.string(name),
        )
    return case.else_(exp.null()) if rules.sources else exp.null()


def _values(column: str, values: list[str]) -> exp.Condition:
    exact = [exp.Literal.string(v.lower()) for v in values if "*" not in v]
    parts: list[exp.Condition] = []
    if exact:
        parts.append(exp.In(this=exp.column(column), expressions=exact))
    for v in values:
        if "*" in v:
            pattern = v.lower().replace("%", r"\%").replace("_", r"\_").replace("*", "%")
            parts.append(exp.Like(this=exp.column(column), expression=exp.Literal.string(pattern)))
    return exp.or_(*parts) if parts else exp.false()


def _condition(rules: SourceRules, condition: Condition) -> exp.Condition:
    parts: list[exp.Condition] = [exp.true()]
    if condition.click_id:
        click_ids = "|".join(re.escape(c.lower()) for c in condition.click_id)
        url = exp.func("lower", exp.func("coalesce", exp.column("url"), exp.Literal.string("")))
        parts.append(
            exp.RegexpLike(this=url, expression=exp.Literal.string(f"[?&#]({click_ids})="))
        )
    if condition.medium:
        parts.append(_values("utm_medium", condition.medium))
    if condition.source:
        names: list[str] = []
        for value in condition.source:
            names.extend(rules.groups[value[1:]] if value.startswith("@") else [value])
        parts.append(_values("source", names))
    if condition.referrer == "any":
        parts.append(exp.column("referrer_host").is_(exp.null()).not_())
    elif condition.referrer == "none":
        parts.append(exp.column("referrer_host").is_(exp.null()))
    if condition.campaign == "any":
        parts.append(
            exp.or_(
                *(
                    exp.column(c).is_(exp.null()).not_()
                    for c in ("utm_source", "utm_medium", "campaign")
                )
            )
        )
    return exp.and_(*parts)


def _touchpoint_case(rules: SourceRules) -> exp.Expression:
    case = exp.Case()
    for rule in rules.touchpoints:
        condition = exp.or_(*(_condition(rules, c) for c in rule.when))
        case = case.when(exp.paren(condition), exp.Literal.string(rule.id))
    return case.else_(exp.Literal.string(rules.touchpoints[-1].id))


def _medium_case(rules: SourceRules) -> exp.Expression:
    case = exp.Case()
    for touchpoint in rules.touchpoint_ids:
        medium = next(
            (r.medium for r in rules.touchpoints if r.id == touchpoint and r.medium), None
        )
        if medium:
            case = case.when(
                exp.EQ(this=exp.column("touchpoint"), expression=exp.Literal.string(touchpoint)),
                exp.Literal.string(medium),
            )
    return case.else_(exp.null())


def session_sources_query(
    rules: SourceRules | None = None, sources: Mapping[str, str] | None = None
) -> Query:
    """Every visit's source, or with `sources` (tables of some persons' `journey_events` and
    `events` in place of the full ones) exactly those persons' rows."""
    rules = rules or load_rules()
    query = Query(
        _SESSION_SOURCES,
        host=_HOST,
        name=_name_case(rules, "v"),
        touchpoint=_touchpoint_case(rules),
        default_medium=_medium_case(rules),
    )
    return shaped(SESSION_SOURCES, sourced(query, sources or {}))
