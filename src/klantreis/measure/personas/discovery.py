"""Discover personas: cluster persons on their behaviour, choose k, describe and keep the model.

Method: features from the query layer (features.py) -> NULLs filled with medians -> log1p on
skewed features -> StandardScaler -> KMeans (k-means++, n_init=10, seeded). With `k="auto"` every
k in 3..8 is fitted and the k with the highest silhouette score wins (see `choose_k`). The
scaler and the clustering are pickled into `persona_models` (the store is the shop's own file),
so `assign_new` places persons that arrive later into the same groups without re-clustering.
The features are computed in the engine, the model fitted on at most `features.FIT_SAMPLE`
persons and every person assigned a page at a time, so a shop's size does not decide the
memory Python needs (docs/scaling.md).
"""

from __future__ import annotations

import io
import json
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyarrow as pa

from klantreis.errors import KlantreisError
from klantreis.measure.personas import features, tables
from klantreis.measure.personas.description import describe, name_groups, slug, traits_of
from klantreis.measure.personas.features import (
    drop_feature_table,
    feature_statistics,
    feature_table,
    fitting_sample,
    matrix,
    pages,
    person_features,
    table_matrix,
    usable_names,
)
from klantreis.model import ensure_built
from klantreis.store.store import utcnow

if TYPE_CHECKING:
    from sklearn.pipeline import Pipeline

    from klantreis.model.context import Context

K_RANGE = range(3, 9)
SILHOUETTE_SAMPLE = 4000
MIN_EVENTS = 3
"""Persons with fewer events (a single page view) say too little to be grouped."""


class DiscoveryError(KlantreisError):
    """Too few persons or no usable features to discover personas."""


@dataclass
class DiscoveredPersona:
    persona: str
    name: str
    description: str
    size: int
    share: float
    traits: list[dict[str, Any]]
    examples: list[str]


@dataclass
class Discovery:
    model_id: str
    k: int
    criterion: str
    scores: dict[int, float]
    features: list[str]
    persons: int
    personas: list[DiscoveredPersona] = field(default_factory=list)
    labels: pd.DataFrame | None = None
    """person_id, persona for every grouped person (for evaluation)."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "model_id": self.model_id,
            "k": self.k,
            "criterion": self.criterion,
            "scores": {str(k): v for k, v in self.scores.items()},
            "features": self.features,
            "persons": self.persons,
            "personas": [p.__dict__ for p in self.personas],
        }


def _fit(x: np.ndarray, k: int, seed: int) -> Pipeline:
    # scikit-learn is imported where it is used: it takes a second to import, and every
    # `klantreis` command would otherwise pay for it at start-up.
    from sklearn.cluster import KMeans
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    pipeline = Pipeline(
        [("scale", StandardScaler()), ("cluster", KMeans(k, n_init=10, random_state=seed))]
    )
    return pipeline.fit(x)


def choose_k(x: np.ndarray, seed: int) -> tuple[int, dict[int, float]]:
    """The k in 3..8 with the highest silhouette score (cohesion against separation).

    Two groups are a segmentation rather than personas, and on the simulator silhouette over
    2..8 always chose k=2 (the searchers against everyone else, ARI 0.18); from 3 up it finds
    the five built-in personas. The elbow of the within-group sum of squares was tried too and
    was noisier. Silhouette is computed on a seeded sample of at most 4,000 persons.
    """
    from sklearn.cluster import KMeans
    from sklearn.metrics import silhouette_score
    from sklearn.preprocessing import StandardScaler

    scaled = StandardScaler().fit_transform(x)
    scores: dict[int, float] = {}
    sample = min(SILHOUETTE_SAMPLE, len(x))
    for k in K_RANGE:
        if k >= len(x):
            break
        labels = KMeans(k, n_init=4, random_state=seed).fit_predict(scaled)
        if len(set(labels)) < 2:
            continue
        scores[k] = round(
            float(silhouette_score(scaled, labels, sample_size=sample, random_state=seed)), 4
        )
    if not scores:
        raise DiscoveryError("too few distinct persons to form three groups")
    best = max(scores, key=lambda k: (scores[k], -k))
    return best, scores


@dataclass
class _Groups:
    """What the assignment of every person gathers, page by page: per raw group its size,
    the sums and counts of each raw feature (for the group means), and its three persons
    nearest the centre (distance, position, person id)."""

    sizes: np.ndarray
    sums: np.ndarray
    counts: np.ndarray
    nearest: list[list[tuple[float, int, str]]]


def _assign(
    model: Pipeline, table: pa.Table, names: list[str], fill: dict[str, float], groups: _Groups
) -> np.ndarray:
    """Label one page of persons and add them to `groups`; returns the raw labels."""
    x = table_matrix(table, names, fill)
    raw = np.asarray(model.predict(x))
    scaled = model.named_steps["scale"].transform(x)
    centres = model.named_steps["cluster"].cluster_centers_
    values = np.column_stack(
        [np.asarray(table.column(n).to_numpy(zero_copy_only=False), dtype=float) for n in names]
    )
    known = ~np.isnan(values)
    ids = table.column("person_id")
    positions = table.column("position").to_numpy()
    for g in range(len(groups.sizes)):
        in_group = np.flatnonzero(raw == g)
        groups.sizes[g] += len(in_group)
        if not len(in_group):
            continue
        groups.sums[g] += np.nansum(values[in_group], axis=0)
        groups.counts[g] += known[in_group].sum(axis=0)
        distance = np.linalg.norm(scaled[in_group] - centres[g], axis=1)
        closest = in_group[np.argsort(distance)[:3]]
        found = [
            (float(d), int(positions[i]), str(ids[int(i)]))
            for d, i in zip(np.sort(distance)[:3], closest, strict=True)
        ]
        # Stable: a tie keeps the earlier page's person, as one sort over everyone would.
        groups.nearest[g] = sorted(groups.nearest[g] + found, key=lambda c: c[0])[:3]
    return raw


def discover(
    kr: Context, k: int | str = "auto", *, seed: int = 7, min_events: int = MIN_EVENTS
) -> Discovery:
    """Group persons by behaviour, name the groups and store them as discovered personas.

    The features are computed in the engine (`FEATURE_TABLE`); the scaler and clustering
    are fitted on at most `FIT_SAMPLE` persons (every person in a smaller shop), then every
    person is assigned a page at a time, so memory does not grow with the persons beyond
    their ids and labels (`Discovery.labels` is kept only when they all fitted at once).
    """
    ensure_built(kr)
    tables.ensure_tables(kr.store)
    engine = kr.engine
    persons = feature_table(engine, min_events)
    try:
        return _discover(kr, k, seed, persons, min_events)
    finally:
        drop_feature_table(engine)


def _discover(kr: Context, k: int | str, seed: int, persons: int, min_events: int) -> Discovery:
    engine = kr.engine
    statistics = feature_statistics(engine)
    names = usable_names(statistics)
    if not names:
        raise DiscoveryError("no behaviour features vary between persons in this store")
    if persons < 10:
        raise DiscoveryError(f"only {persons} persons with {min_events}+ events; need 10")
    fill = {n: float(statistics[n]["median"] or 0.0) for n in names}
    sample = fitting_sample(engine, persons, names)
    x = table_matrix(sample, names, fill)
    if k == "auto":
        chosen, scores = choose_k(x, seed)
        criterion = "silhouette, k=3..8"
    else:
        chosen, scores, criterion = int(k), {}, "given"
        if not 2 <= chosen <= min(20, persons - 1):
            raise DiscoveryError(f"k: must be between 2 and 20 (and below the persons), got {k}")
    model = _fit(x, chosen, seed)
    del x
    groups = _Groups(
        np.zeros(chosen, dtype=np.int64),
        np.zeros((chosen, len(names))),
        np.zeros((chosen, len(names)), dtype=np.int64),
        [[] for _ in range(chosen)],
    )
    ids: list[pa.ChunkedArray] = []
    labels: list[np.ndarray] = []
    whole = persons <= features.FIT_SAMPLE
    for page in [sample] if whole else pages(engine, persons, names):
        labels.append(_assign(model, page, names, fill, groups).astype(np.int8))
        ids.append(page.column("person_id"))
    del sample
    raw_labels = np.concatenate(labels) if labels else np.zeros(0, dtype=np.int8)
    # Number groups by size (largest first) so ids and names are stable for the same seed.
    sizes = groups.sizes
    order = sorted(range(chosen), key=lambda g: (-sizes[g], g))
    centres = model.named_steps["cluster"].cluster_centers_
    total, known = groups.sums.sum(axis=0), groups.counts.sum(axis=0)
    overall = {n: float(total[i] / known[i]) if known[i] else 0.0 for i, n in enumerate(names)}
    all_traits = []
    for g in order:
        means = {
            n: float(groups.sums[g, i] / groups.counts[g, i]) if groups.counts[g, i] else 0.0
            for i, n in enumerate(names)
        }
        all_traits.append(traits_of(centres[g], names, means, overall))
    group_names = name_groups(all_traits)
    model_id = uuid.uuid4().hex[:12]
    now = utcnow()
    personas: list[DiscoveredPersona] = []
    persona_of_group: dict[int, str] = {}
    for rank, g in enumerate(order):
        persona = slug(group_names[rank])
        persona_of_group[g] = persona
        traits = all_traits[rank]
        personas.append(
            DiscoveredPersona(
                persona,
                group_names[rank],
                describe(group_names[rank], traits),
                int(sizes[g]),
                round(float(sizes[g]) / persons, 4),
                [t.__dict__ for t in traits],
                [c[2] for c in groups.nearest[g]],
            )
        )
    dictionary = pa.array([persona_of_group[g] for g in range(chosen)], pa.string())
    members = pa.table(
        {
            "person_id": pa.chunked_array(
                [c for chunked in ids for c in chunked.chunks], pa.string()
            ).cast(pa.string()),
            "persona": pa.DictionaryArray.from_arrays(pa.array(raw_labels), dictionary),
            "source": pa.DictionaryArray.from_arrays(
                pa.array(np.zeros(len(raw_labels), dtype=np.int8)),
                pa.array(["discovered"], pa.string()),
            ),
        }
    )
    frame = None
    if whole:
        frame = pd.DataFrame(
            {
                "person_id": members.column("person_id").to_pylist(),
                "persona": [persona_of_group[int(g)] for g in raw_labels],
            }
        )
    _save(kr, model, model_id, now, chosen, criterion, seed, names, fill, persona_of_group)
    _store_personas(kr, personas, members, model_id, now)
    return Discovery(model_id, chosen, criterion, scores, names, persons, personas, frame)


def _save(
    kr: Context,
    model: Pipeline,
    model_id: str,
    now: Any,
    k: int,
    criterion: str,
    seed: int,
    names: list[str],
    fill: dict[str, float],
    persona_of_group: dict[int, str],
) -> None:
    blob = io.BytesIO()
    import joblib

    joblib.dump(model, blob)
    tables.append_rows(
        kr.store,
        "persona_models",
        pa.Table.from_pylist(
            [
                {
                    "model_id": model_id,
                    "created_at": now,
                    "method": "kmeans",
                    "k": k,
                    "criterion": criterion,
                    "seed": seed,
                    "features": json.dumps(names),
                    "fill": json.dumps(fill),
                    "names": json.dumps({str(g): p for g, p in persona_of_group.items()}),
                    "model": blob.getvalue(),
                }
            ]
        ),
    )


def _store_personas(
    kr: Context,
    personas: list[DiscoveredPersona],
    members: pa.Table,
    model_id: str,
    now: Any,
) -> None:
    rows = pa.Table.from_pylist(
        [
            {
                "persona": p.persona,
                "source": "discovered",
                "name": p.name,
                "description": p.description,
                "size": p.size,
                "share": p.share,
                "profile": json.dumps(p.traits),
                "examples": json.dumps(p.examples),
                "model_id": model_id,
                "created_at": now,
            }
            for p in personas
        ]
    )
    tables.replace_rows(kr.store, "personas", rows, "discovered")
    tables.replace_rows(kr.store, "person_personas", members, "discovered")
    tables.publish(kr.store, kr.engine)


def assign_new(kr: Context, *, min_events: int = MIN_EVENTS) -> int:
    """Place persons without a discovered persona into the latest model's groups.

    The stored scaler and centres are reused, so earlier persons keep their persona.
    Returns how many persons were assigned.
    """
    ensure_built(kr)
    tables.ensure_tables(kr.store)
    saved = kr.engine.rows(
        "SELECT model_id, features, fill, names, model FROM persona_models "
        "ORDER BY created_at DESC LIMIT 1"
    )
    if not saved:
        raise DiscoveryError("no persona model yet: run `klantreis personas discover` first")
    row = saved[0]
    import joblib

    model: Pipeline = joblib.load(io.BytesIO(row["model"]))
    names = json.loads(row["features"])
    fill = json.loads(row["fill"])
    persona_of_group = {int(g): p for g, p in json.loads(row["names"]).items()}
    frame = person_features(kr.engine)
    known = set(
        kr.engine.fetch("SELECT person_id FROM person_personas WHERE source = 'discovered'")
        .column("person_id")
        .to_pylist()
    )
    frame = frame[(frame["events"] >= min_events) & ~frame["person_id"].isin(known)]
    if frame.empty:
        return 0
    labels = model.predict(matrix(frame, names, fill))
    tables.append_rows(
        kr.store,
        "person_personas",
        pa.table(
            {
                "person_id": pa.array(frame["person_id"].tolist(), pa.string()),
                "persona": pa.array([persona_of_group[int(g)] for g in labels], pa.string()),
                "source": pa.array(["discovered"] * len(frame), pa.string()),
            }
        ),
    )
    tables.publish(kr.store, kr.engine, ("person_personas",))
    return len(frame)
