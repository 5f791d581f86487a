"""`klantreis demo`: a simulated webshop in, a customer-journey map out."""

from __future__ import annotations

import time
import webbrowser
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

import klantreis
from klantreis.present.cli.commands.journey import (
    LangOption,
    journey_map_sentences,
    journey_map_table,
)
from klantreis.present.cli.options import StoreOption, console, friendly_errors
from klantreis.present.cli.steps import StepClock, cpu_seconds

if TYPE_CHECKING:  # the simulator, Arrow and the model load when the demo runs
    import pyarrow as pa

FOLLOW_UPS: tuple[tuple[str, str], ...] = (
    ("evaluate_expectations", "checking expectations"),
    ("opportunities", "ranking opportunities"),
)
"""Analyses that store results the map shows; run when their module is installed."""
DEMO_MEMORY_LIMIT = "4GB"
"""DuckDB's memory cap in the demo unless `[engine] memory_limit` sets one: DuckDB's default
(80 % of the machine) let the 100,000-person demo take 17 GB; with this cap its sorts spill
to the store's temporary folder and the whole process stays within about 6 GiB
(docs/scaling.md)."""
DEMO_CASE_DAYS = 60
"""The demo's inbox holds cases of its last 60 days (the simulated orders stop a month or so
before the last review or survey answer, so the default 30 days would find few breaches)."""


def register(app: typer.Typer) -> None:
    @app.command("demo")
    @friendly_errors
    def demo_command(
        out: Annotated[Path, typer.Option("--out", help="Folder for journey-map.html.")] = Path(
            "klantreis-demo"
        ),
        store: StoreOption = None,
        persons: Annotated[
            int,
            typer.Option(
                help="Simulated customers (persons with a purchase plan); 15 anonymous "
                "visitors who never buy come on top of each.",
                min=1,
            ),
        ] = 2000,
        seed: Annotated[int, typer.Option(help="Simulator seed (same seed, same shop).")] = 7,
        no_browser: Annotated[
            bool, typer.Option("--no-browser", help="Do not open the map in a browser.")
        ] = False,
        lang: LangOption = "en",
    ) -> None:
        """Simulate a webshop, store its events, build journeys and draw the journey map.

        Example: klantreis demo --no-browser --lang nl --out demo
        """
        from klantreis.collect.simulator import ShopStream, SimulatorConfig
        from klantreis.model import ensure_built
        from klantreis.present.export.journey_map_html import write

        with klantreis.open(store) as kr, _progress() as progress:
            _cap_memory(kr)
            clock = StepClock(progress)
            workers = simulator_workers(persons)
            started, started_cpu = time.perf_counter(), cpu_seconds()
            task = progress.add_task("simulating the shop", total=persons)
            shop = ShopStream(
                SimulatorConfig(persons=persons, seed=seed),
                progress=lambda done, total: progress.update(task, completed=done, total=total),
                workers=workers,
            )
            storing = progress.add_task("storing events", total=None)
            counts = EventCounts()
            simulated = SimulatorTime()

            def chunks() -> Iterator[pa.Table]:
                # the shop is stored as it is simulated, a chunk of persons at a time, so the
                # demo's memory does not grow with its events (about 8 GB at 100,000 persons)
                for chunk in simulated.timed(shop):
                    counts.add(chunk)
                    yield chunk
                    progress.update(storing, completed=counts.total)

            stored = kr.store.append_many(chunks()).stored
            progress.update(storing, total=counts.total, completed=counts.total)
            if shop.products is not None:
                from klantreis.collect.catalogue import store_products

                store_products(kr.store, shop.products, source="demo")
            wall, cpu = time.perf_counter() - started, cpu_seconds() - started_cpu
            clock.record("simulating and storing events", wall, cpu)
            process = "process" if workers == 1 else "processes"
            clock.record(
                f"simulating ({workers} {process})",
                simulated.wall - started,
                simulated.cpu,
                detail=True,
            )
            clock.record("storing", wall, cpu - simulated.cpu, detail=True)
            with clock.step("building journeys", total=None):
                ensure_built(kr)
            with clock.step("reading what customers said"):
                from klantreis.measure.voice.stored import update_voice

                update_voice(kr.store, kr.engine)
            for name, label in FOLLOW_UPS:
                _follow_up(kr, clock, name, label)
            with clock.step("opening cases"):
                from klantreis.act.cases.opening import open_cases

                open_cases(kr, max_age_days=DEMO_CASE_DAYS)
            with clock.step("drawing the journey map"):
                from klantreis.measure.journey_map import JourneyMapQuery

                journey_map = kr.run("journey_map", JourneyMapQuery.of(language=lang))
                path = write(journey_map, out / "journey-map.html")
        console.print(journey_map_table(journey_map, lang))
        for line in journey_map_sentences(journey_map):
            console.print(line, markup=False, highlight=False)
        console.print(
            f"{counts.total:,} events simulated ({stored:,} new) in "
            f"[bold]{kr.settings.store}[/]; journey map: [bold]{path}[/]",
            highlight=False,
            soft_wrap=True,
        )
        assert shop.truth is not None  # set once the stream is read
        console.print(counts_sentence(counts, shop.truth), highlight=False, soft_wrap=True)
        console.print(clock.table())
        if no_browser:
            return
        if not _open_in_browser(path):
            console.print(
                f"No web browser could be opened here; open the map yourself: [bold]{path}[/]",
                highlight=False,
                soft_wrap=True,
            )


class SimulatorTime:
    """The simulator's CPU in the demo: this process's time spent making chunks (one
    process) plus its worker processes' (counted when they end), and when the last chunk
    came."""

    def __init__(self) -> None:
        self.cpu = 0.0
        self.wall = time.perf_counter()

    def timed(self, shop: Iterable[pa.Table]) -> Iterator[pa.Table]:
        chunks = iter(shop)
        children = _children_cpu()
        while True:
            before = time.thread_time()
            chunk = next(chunks, None)
            self.cpu += time.thread_time() - before
            if chunk is None:
                break
            yield chunk
        self.cpu += _children_cpu() - children
        self.wall = time.perf_counter()


def _children_cpu() -> float:
    import resource

    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


class EventCounts:
    """Events simulated and how many of them are identity messages, counted chunk by chunk
    (the demo never holds all its events at once)."""

    def __init__(self) -> None:
        self.total = 0
        self.identity = 0

    def add(self, events: pa.Table) -> None:
        import pyarrow.compute as pc

        self.total += events.num_rows
        kinds = pc.value_counts(events["type"]).to_pylist()
        self.identity += sum(k["counts"] for k in kinds if k["values"] in IDENTITY_TYPES)


def counts_sentence(counts: EventCounts, truth: pa.Table) -> str:
    """Why the demo's event count and the map's differ, and who the persons are.

    The map counts journey events: identify, alias and group messages say who someone is, not
    what they did, so the model leaves them out of journeys.
    """
    import pyarrow.compute as pc

    total, identity = counts.total, counts.identity
    visitors = pc.sum(pc.equal(truth["persona"], "visitor")).as_py() or 0
    customers = truth.num_rows - visitors
    return (
        f"Of the {total:,} events simulated, {total - identity:,} are steps of a journey "
        f"(the map's figure) and {identity:,} are identify/alias/group messages that link ids. "
        f"Simulated: {customers:,} persons with a purchase plan and {visitors:,} visitors "
        "who only look around."
    )


IDENTITY_TYPES = ("identify", "alias", "group")
"""Message types that say who someone is; the model keeps them out of journeys."""


def simulator_workers(persons: int) -> int:
    """Processes that simulate the shop: one per core for a large shop (the same events as
    one process; starting a worker costs about a second of imports, worth it from about
    10,000 persons), one otherwise."""
    import os

    return max(1, min(os.cpu_count() or 1, 4)) if persons >= 10_000 else 1


def _cap_memory(kr: Any) -> None:
    """Cap DuckDB's memory at `DEMO_MEMORY_LIMIT` unless klantreis.toml sets a cap."""
    if kr.settings.engine != "duckdb" or "memory_limit" in kr.settings.engine_options:
        return
    kr.store.connection.execute(f"SET memory_limit = '{DEMO_MEMORY_LIMIT}'")


def _open_in_browser(path: Path) -> bool:
    try:
        return webbrowser.open(path.resolve().as_uri())
    except webbrowser.Error:
        return False


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description:<28}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    )


def _follow_up(kr: Any, clock: StepClock, name: str, label: str) -> None:
    from klantreis.measure.registry import get_analysis

    func = get_analysis(name)
    if func is None:
        return
    with clock.step(label):
        func(kr)
