"""Offline evaluation of `klantreis recommend` with a time split, against popularity.

Time split per person: a person's last purchase is held out, and the recommender sees only
what everyone did before that moment (so nothing from the future leaks in). Test persons are
those with at least one earlier view, cart or purchase. (A single global cutoff leaves 15
Olist and 4 REES46 test persons: Olist customers rarely come back, and the REES46 head covers
three hours.)
Metrics at 10: hit rate (share of test persons with at least one bought product in the ten) and
recall (bought products found / bought products, averaged over persons). The baseline is the
ten most-bought products before the cutoff, minus the person's own purchases — the list the
recommender falls back on — measured in the same run on the same persons.

    python benchmarks/recommend_eval.py   # Olist sample and REES46 head, ../shared/data

Data: ../shared/data/github-Dhipin1-olist-sample15k (CC BY-NC-SA, test use) and
../shared/data/github-ibrhmspl-rees46-2019oct-head (first 17k events of 2019-10).
"""

from __future__ import annotations

import os
import platform
import statistics
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import klantreis
from klantreis.measure.recommend import popular, recommend_many
from klantreis.model import ensure_built
from klantreis.store.query import Query

K = 10
DATA = next(
    (
        p
        for p in (
            Path(__file__).resolve().parents[1].parent / "shared" / "data",
            Path("/work/shared/data"),
        )
        if p.is_dir()
    ),
    None,
)

_TEST = """
WITH bought AS (
    SELECT person_id, timestamp,
        unnest(list_concat(
            coalesce(json_extract_string(properties, '$.products[*].product_id'), []),
            CASE WHEN properties ->> '$.product_id' IS NOT NULL
                 THEN [properties ->> '$.product_id'] ELSE [] END)) AS product_id
    FROM journey_events WHERE event = 'Order Completed'
),
last_purchase AS (SELECT person_id, max(timestamp) AS cutoff FROM bought GROUP BY person_id)
SELECT l.person_id, l.cutoff, list(DISTINCT b.product_id) AS products
FROM last_purchase AS l
JOIN bought AS b ON b.person_id = l.person_id AND b.timestamp >= l.cutoff
WHERE b.product_id IS NOT NULL AND EXISTS (
    SELECT 1 FROM journey_events AS e WHERE e.person_id = l.person_id AND e.timestamp < l.cutoff
      AND e.event IN ('Order Completed', 'Product Added', 'Product Viewed'))
GROUP BY l.person_id, l.cutoff ORDER BY l.person_id
"""


def load_olist(path: Path) -> None:
    from klantreis.collect.imports.olist import import_olist

    with klantreis.open(path) as kr:
        import_olist(kr.store, DATA / "github-Dhipin1-olist-sample15k")
        ensure_built(kr)


def load_rees46(path: Path) -> None:
    from klantreis.collect.imports.files import import_file

    with klantreis.open(path) as kr:
        import_file(
            kr.store, DATA / "github-ibrhmspl-rees46-2019oct-head" / "2019-Oct-head.csv", "rees46"
        )
        ensure_built(kr)


def evaluate(path: Path) -> dict[str, object]:
    with klantreis.open(path) as kr:
        tests = kr.engine.rows(_TEST)
        if not tests:
            return {"test_persons": 0}
        lists: dict[str, dict[str, list[str]]] = {"co-occurrence": {}, "popularity": {}}
        timings, baseline, from_neighbours = [], [], []
        for row in tests:
            person, cutoff = row["person_id"], row["cutoff"]
            started = time.perf_counter()
            recs = recommend_many(kr, [person], K, before=cutoff)[person]
            timings.append(time.perf_counter() - started)
            lists["co-occurrence"][person] = [i["product_id"] for i in recs]
            from_neighbours.append(sum(i["why"] != "popular" for i in recs))
            started = time.perf_counter()
            owned = _bought_before(kr, person, cutoff)
            top = [p for p in popular(kr, K + len(owned), before=cutoff) if p not in owned]
            baseline.append(time.perf_counter() - started)
            lists["popularity"][person] = top[:K]
        result: dict[str, object] = {"test_persons": len(tests)}
        for name, chosen in lists.items():
            hits = [len(set(chosen[r["person_id"]]) & set(r["products"])) for r in tests]
            result[name] = {
                "hit_rate": round(sum(h > 0 for h in hits) / len(tests), 4),
                "recall": round(
                    statistics.mean(
                        h / len(set(r["products"])) for h, r in zip(hits, tests, strict=True)
                    ),
                    4,
                ),
                "persons_hit": sum(h > 0 for h in hits),
            }
        result["mean_items_from_neighbours"] = round(statistics.mean(from_neighbours), 2)
        result["median_seconds_per_person"] = round(statistics.median(timings), 4)
        result["median_seconds_per_person_baseline"] = round(statistics.median(baseline), 4)
        return result


def _bought_before(kr: klantreis.Klantreis, person: str, cutoff: datetime) -> set[str]:
    rows = kr.engine.rows(
        Query(
            "SELECT DISTINCT unnest(list_concat(coalesce(json_extract_string(properties, "
            "'$.products[*].product_id'), []), CASE WHEN properties ->> '$.product_id' IS NOT NULL "
            "THEN [properties ->> '$.product_id'] ELSE [] END)) AS p FROM journey_events "
            "WHERE person_id = :p AND event = 'Order Completed' AND timestamp < :c",
            p=person,
            c=cutoff,
        )
    )
    return {r["p"] for r in rows}


def main() -> int:
    if DATA is None:
        print("../shared/data not found", file=sys.stderr)
        return 2
    print(
        f"machine: {platform.platform()}, {os.cpu_count()} cpus, Python {platform.python_version()}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        for name, load in (("olist", load_olist), ("rees46", load_rees46)):
            path = Path(tmp) / f"{name}.duckdb"
            load(path)
            print(f"\n{name}: last purchase held out per person, k={K}")
            for key, value in evaluate(path).items():
                print(f"  {key}: {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
