"""Alerts: an expectation breached too often in a recent period → a webhook and/or an e-mail.

    [[alerts]]
    expectation = "delivery_promise_kept"
    max_breach_rate = 0.05      # alert when the breach rate is above this
    period = "7d"               # the window before now, by when cases were decided
    min_cases = 10              # fewer decided cases than this: no alert (too noisy)
    webhook = "https://hooks.shop.example/klantreis"
    email = "ops@shop.example"  # or a list; needs an [smtp] section

`klantreis alerts check` evaluates every rule (e.g. from cron) and sends what triggers. A case
is decided when it was breached (the deadline passed, the event happened) or met.
"""

from __future__ import annotations

import smtplib
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)
from sqlglot import exp

from klantreis.act.notify import SmtpConfig, WebhookError, post_webhook, send_email
from klantreis.config import config_path, explain
from klantreis.errors import KlantreisError
from klantreis.measure.expectations.cases import ensure_cases
from klantreis.measure.expectations.rules import parse_duration
from klantreis.store.query import Query

if TYPE_CHECKING:
    from klantreis.model.context import Context

_PERIOD_COUNTS = """
WITH decided AS (
    SELECT status,
           CASE WHEN status = 'breached' THEN coalesce(due_at, ended_at, started_at)
                ELSE coalesce(ended_at, started_at) END AS decided_at
    FROM expectation_cases
    WHERE expectation_id = :rule_id AND status IN ('met', 'breached')
)
SELECT count(*) AS cases,
       CAST(coalesce(sum(CASE WHEN status = 'breached' THEN 1 ELSE 0 END), 0) AS BIGINT)
           AS breached
FROM decided WHERE decided_at > :start AND decided_at <= :end
"""


class AlertError(KlantreisError):
    """An [[alerts]] rule in klantreis.toml that cannot work; names the rule and field."""


def _addresses(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


def _address(value: str) -> str:
    if "@" not in value:
        raise ValueError(f"an address or a list of addresses, not {value!r}")
    return value


class AlertRule(BaseModel):
    """One [[alerts]] table of klantreis.toml, typed."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    expectation: str
    max_breach_rate: Annotated[
        float, Field(ge=0, le=1, strict=True, description="a number from 0 to 1")
    ]
    period: Annotated[timedelta, BeforeValidator(parse_duration)] = timedelta(days=7)
    webhook: Annotated[str | None, Field(pattern=r"^https?://", description="an http(s) URL")] = (
        None
    )
    email: Annotated[
        tuple[Annotated[str, AfterValidator(_address)], ...],
        BeforeValidator(_addresses),
        Field(description="an address or a list of addresses"),
    ] = ()
    min_cases: Annotated[int, Field(ge=1, strict=True, description="a whole number >= 1")] = 10
    name: str = ""

    @model_validator(mode="after")
    def _somewhere_to_send(self) -> AlertRule:
        if not self.webhook and not self.email:
            raise ValueError("needs a webhook, an email, or both")
        return self


_FIELDS = set(AlertRule.model_fields)


def parse_alerts(sections: dict[str, Any], known: set[str]) -> list[AlertRule]:
    """The [[alerts]] rules; `known` are the expectation ids they may name."""
    raw = sections.get("alerts") or []
    if not isinstance(raw, list):
        raise AlertError(f"{config_path()}: alerts must be [[alerts]] tables")
    rules = []
    for index, item in enumerate(raw, start=1):
        where = f"{config_path()} [[alerts]] #{index}"
        if not isinstance(item, dict):
            raise AlertError(f"{where}: must be a table")
        unknown = sorted(set(item) - _FIELDS)
        if unknown:
            raise AlertError(f"{where}: unknown field(s) {', '.join(unknown)}")
        if item.get("expectation") not in known:
            raise AlertError(
                f"unknown expectation {item.get('expectation')!r}",
                field="expectation",
                label=f"{where}: expectation",
            )
        try:
            rule = AlertRule.model_validate(item)
        except ValidationError as exc:
            error = exc.errors()[0]
            key = ".".join(str(part) for part in error["loc"][:1])
            label = f"{where}: {key}" if key else where
            raise AlertError(explain(AlertRule, error), field=key or None, label=label) from None
        if not rule.name:
            rule = rule.model_copy(
                update={"name": f"{rule.expectation} over {rule.max_breach_rate:.0%}"}
            )
        rules.append(rule)
    return rules


@dataclass
class AlertOutcome:
    name: str
    expectation: str
    start: datetime
    end: datetime
    cases: int
    breached: int
    breach_rate: float | None
    max_breach_rate: float
    triggered: bool
    reason: str
    sent: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def payload(self, title: str) -> dict[str, Any]:
        data = asdict(self)
        data.pop("sent"), data.pop("errors")
        data["title"] = title
        data["start"], data["end"] = self.start.isoformat(), self.end.isoformat()
        return {"type": "klantreis.alert", **data}


def _ts(value: datetime) -> exp.Expression:
    return exp.cast(exp.convert(value.isoformat(sep=" ")), "TIMESTAMP")


def check_alerts(
    kr: Context, *, now: datetime | None = None, send: bool = True
) -> list[AlertOutcome]:
    """Evaluate every [[alerts]] rule at `now` (default: the latest event) and send triggers."""
    case_set = ensure_cases(kr, now=now)
    rules = parse_alerts(kr.settings.sections, {r.id for r in case_set.rules})
    if not rules:
        return []
    smtp = SmtpConfig.from_settings(kr.settings)
    if smtp is None and any(r.email for r in rules):
        raise AlertError(f"{config_path()}: [[alerts]] with email need an [smtp] section")
    end = case_set.as_of or datetime(1970, 1, 1)
    outcomes = []
    for rule in rules:
        start = end - rule.period
        row = kr.engine.rows(
            Query(_PERIOD_COUNTS, rule_id=rule.expectation, start=_ts(start), end=_ts(end))
        )[0]
        cases, breached = int(row["cases"]), int(row["breached"])
        rate = breached / cases if cases else None
        if rule.expectation in case_set.no_data:
            triggered, reason = False, f"no data: {case_set.no_data[rule.expectation]}"
        elif cases < rule.min_cases:
            triggered, reason = False, f"{cases} cases in the period, fewer than {rule.min_cases}"
        else:
            triggered = rate is not None and rate > rule.max_breach_rate
            reason = (
                f"breach rate {rate:.1%} {'>' if triggered else '<='} {rule.max_breach_rate:.1%}"
            )
        outcome = AlertOutcome(
            name=rule.name,
            expectation=rule.expectation,
            start=start,
            end=end,
            cases=cases,
            breached=breached,
            breach_rate=None if rate is None else round(rate, 4),
            max_breach_rate=rule.max_breach_rate,
            triggered=triggered,
            reason=reason,
        )
        if triggered and send:
            target = case_set.rule(rule.expectation)
            _deliver(outcome, rule, smtp, target.title_in("en") if target else rule.expectation)
        outcomes.append(outcome)
    return outcomes


def _deliver(outcome: AlertOutcome, rule: AlertRule, smtp: SmtpConfig | None, title: str) -> None:
    payload = outcome.payload(title)
    if rule.webhook:
        try:
            status = post_webhook(rule.webhook, payload)
        except WebhookError as exc:
            outcome.errors.append(str(exc))
        else:
            if status >= 400:
                outcome.errors.append(f"webhook {rule.webhook} answered HTTP {status}")
            else:
                outcome.sent.append(f"webhook {rule.webhook}")
    if rule.email and smtp is not None:
        subject = f"[klantreis] {title}: {outcome.breach_rate:.1%} breached"
        text = (
            f"Expectation: {title} ({outcome.expectation})\n"
            f"Period: {outcome.start:%Y-%m-%d %H:%M} - {outcome.end:%Y-%m-%d %H:%M} UTC\n"
            f"Cases: {outcome.cases}, breached: {outcome.breached} "
            f"({outcome.breach_rate:.1%}; alert above {outcome.max_breach_rate:.1%})\n"
        )
        for address in rule.email:
            try:
                send_email(smtp, to=address, subject=subject, text=text)
            except (OSError, smtplib.SMTPException) as exc:
                outcome.errors.append(f"e-mail to {address}: {exc}")
            else:
                outcome.sent.append(f"e-mail {address}")
