"""What a store holds, for `klantreis stats` and `GET /api/stats`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from klantreis.measure.registry import analysis
from klantreis.model import ensure_built

if TYPE_CHECKING:
    from klantreis.model.context import Context


@analysis("stats")
def store_stats(kr: Context) -> dict[str, Any]:
    ensure_built(kr)
    engine = kr.engine
    by_name = engine.rows(
        "SELECT event, count(*) AS count FROM events GROUP BY event ORDER BY count DESC, event"
    )
    reasons = kr.store.engine.rows(
        "SELECT reason, count(*) AS count FROM quarantine GROUP BY reason ORDER BY count DESC"
    )
    return {
        "store": str(kr.settings.store),
        "engine": kr.engine.capabilities.name,
        "events": sum(r["count"] for r in by_name),
        "persons": engine.scalar("SELECT count(*) FROM persons") or 0,
        "journeys": engine.scalar("SELECT count(*) FROM journeys") or 0,
        "sessions": engine.scalar("SELECT count(*) FROM sessions") or 0,
        "quarantined": sum(r["count"] for r in reasons),
        "events_by_name": by_name,
        "quarantine_by_reason": reasons,
    }
