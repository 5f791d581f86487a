"""Cases are erased with their person: no row, note or id of theirs stays readable in the file."""

from __future__ import annotations

from pathlib import Path

from klantreis.act.cases import open_cases
from klantreis.api import Klantreis
from klantreis.privacy import declared_tables, erase_person, export_person

NOTE = "Rang Ann-Sophie Vermeulen on 0612-998877 about the dented kettle"


def _bytes_of(store: Path) -> bytes:
    files = [p for p in store.parent.iterdir() if p.name.startswith(store.name)]
    return b"".join(p.read_bytes() for p in files)


def test_the_cases_table_is_declared_for_erasure() -> None:
    spec = declared_tables()["cases"]
    assert spec.person_id_columns == ("person_id",) and spec.person_columns == ("user_id",)


def test_erasing_a_person_erases_their_cases_and_notes(shop: Klantreis) -> None:
    open_cases(shop)
    (case,) = shop.cases.list(person="ann")
    shop.cases.assign([case["case_id"]], "anna", note=NOTE)
    assert "cases" in export_person(shop.store, "ann")["tables"]
    shop.store.connection.execute("CHECKPOINT")
    assert NOTE.encode() in _bytes_of(shop.settings.store)

    changed = erase_person(shop.store, "ann")

    assert changed["cases"] == 1
    assert shop.cases.list(person="ann") == []
    assert len(shop.cases.list()) == 5  # the others' cases stay
    data = _bytes_of(shop.settings.store)
    assert NOTE.encode() not in data
    assert b"ann@example.com" not in data
    assert b"delivery_breach:delivery_promise_kept:" not in data  # her case's id
