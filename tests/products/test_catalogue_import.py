"""The product catalogue import: Olist's products file as published, and platform mappings.

Expected values are read from the files with the `csv` module, independently of the import.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from klantreis.collect.catalogue.imports import import_catalogue
from klantreis.collect.imports.errors import MappingError
from klantreis.present.cli.app import app
from klantreis.store import Store

SHOPIFY = """Handle,Title,Body (HTML),Vendor,Product Category,Type,Option1 Name,Option1 Value,\
Option2 Name,Option2 Value,Option3 Name,Option3 Value,Variant Grams,Variant Price,Image Src
rain-jacket,Rain jacket,"<p>Light &amp; <b>waterproof</b></p>",Noordzee,Apparel,Jackets,Size,S,\
Colour,Blue,,,450,89.95,https://cdn.example/1.jpg
rain-jacket,,,,,,,M,,Blue,,,450,89.95,https://cdn.example/2.jpg
rain-jacket,,,,,,,,,,,,,,https://cdn.example/3.jpg
rain-jacket,,,,,,,,,,,,,,https://cdn.example/1.jpg
mug,Mug,,Hjem,Home,Kitchen,,,,,,,300,twelve,
,Orphan row,,,,,,,,,,,,,
"""

WOOCOMMERCE = """ID,Type,SKU,Name,Description,Regular price,Categories,Images,\
Weight (kg),Length (cm),Width (cm),Height (cm),Attribute 1 name,Attribute 1 value(s),\
Attribute 2 name,Attribute 2 value(s),Attribute 3 name,Attribute 4 name,Attribute 5 name
12,simple,LAMP-1,Desk lamp,"A lamp with a <em>warm</em> light.",39.50,Home > Lighting,\
"https://s/1.jpg, https://s/2.jpg",1.25,30,20,45,Colour,Black,Bulb,E27,,,
13,simple,KET-1,Kettle,,24,Home,,0.9,,,,,,,,,,
"""


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _products(store: Store) -> dict[str, dict]:
    rows = store.connection.execute("SELECT * FROM products ORDER BY product_id").fetchall()
    names = [d[0] for d in store.connection.description]
    return {row[0]: dict(zip(names, row, strict=True)) for row in rows}


def test_olist_products_come_in_as_published(olist_store: Path, olist_dir: Path) -> None:
    with open(olist_dir / "olist_products_dataset.csv", encoding="utf-8") as handle:
        published = {row["product_id"]: row for row in csv.DictReader(handle)}
    with open(olist_dir / "product_category_name_translation.csv", encoding="utf-8") as handle:
        english = {
            r["product_category_name"]: r["product_category_name_english"]
            for r in csv.DictReader(handle)
        }
    with Store(olist_store, read_only=True) as store:
        stored = _products(store)
    assert set(stored) == set(published)

    def number(text: str) -> float | None:
        return float(text) if text.strip() else None

    for product_id, row in published.items():
        got = stored[product_id]
        photos = number(row["product_photos_qty"])
        assert got["photos"] == (None if photos is None else int(photos)), product_id
        description = number(row["product_description_lenght"])
        assert got["description_length"] == (None if description is None else int(description))
        assert got["weight_g"] == number(row["product_weight_g"])
        category = row["product_category_name"] or None
        assert got["category"] == english.get(category or "", category)
        dims = ("product_weight_g", "product_length_cm", "product_height_cm", "product_width_cm")
        assert got["specifications"] == sum(1 for c in dims if row[c].strip())


def test_shopify_export_one_row_per_product(tmp_path: Path) -> None:
    file = _write(tmp_path, "products_export.csv", SHOPIFY)
    with Store(tmp_path / "s.duckdb") as store:
        summary = import_catalogue(store, file, "shopify")
        products = _products(store)
        bad = store.connection.execute(
            "SELECT line, column_name, reason FROM quarantine ORDER BY line"
        ).fetchall()
    assert summary.products == 2 and sorted(products) == ["mug", "rain-jacket"]
    jacket = products["rain-jacket"]
    assert jacket["photos"] == 3  # three different images over four rows
    assert jacket["description_length"] == len("Light & waterproof")
    assert jacket["specifications"] == 2  # Size and Colour
    assert (jacket["price"], jacket["weight_g"], jacket["category"]) == (89.95, 450.0, "Apparel")
    assert json.loads(jacket["attributes"])["Vendor"] == "Noordzee"
    mug = products["mug"]
    assert mug["photos"] == 0 and mug["description_length"] is None and mug["price"] is None
    # The bad price and the row without a handle are quarantined by line and column; the mug
    # itself (its other fields) is kept.
    assert bad == [(6, "Variant Price", 'not a number: "twelve"'), (7, "Handle", "missing Handle")]


def test_woocommerce_export(tmp_path: Path) -> None:
    file = _write(tmp_path, "wc-product-export.csv", WOOCOMMERCE)
    with Store(tmp_path / "s.duckdb") as store:
        import_catalogue(store, file, "woocommerce")
        products = _products(store)
    lamp, kettle = products["12"], products["13"]
    assert (lamp["photos"], lamp["specifications"], lamp["weight_g"]) == (2, 2, 1250.0)
    assert lamp["description_length"] == len("A lamp with a warm light.")
    assert (lamp["length_cm"], lamp["width_cm"], lamp["height_cm"]) == (30.0, 20.0, 45.0)
    assert (kettle["photos"], kettle["specifications"], kettle["price"]) == (None, 0, 24.0)


def test_a_mapping_that_does_not_fit_names_the_column(tmp_path: Path) -> None:
    file = _write(tmp_path, "products_export.csv", SHOPIFY)
    with Store(tmp_path / "s.duckdb") as store, pytest.raises(MappingError, match="'ID'"):
        import_catalogue(store, file, "woocommerce")
    broken = {"name": "x", "product_id": "Handle", "fields": {"colour": "Title"}}
    with Store(tmp_path / "t.duckdb") as store, pytest.raises(MappingError, match="colour"):
        import_catalogue(store, file, broken)


def test_cli_imports_products_and_refuses_a_bad_mapping(tmp_path: Path) -> None:
    file = _write(tmp_path, "products_export.csv", SHOPIFY)
    store = str(tmp_path / "cli.duckdb")
    runner = CliRunner()
    done = runner.invoke(
        app, ["import", "products", str(file), "-m", "shopify", "--store", store, "--json"]
    )
    assert done.exit_code == 0, done.output
    assert json.loads(done.stdout)["products"] == 2
    refused = runner.invoke(
        app, ["import", "products", str(file), "-m", "nope.yaml", "--store", store]
    )
    assert refused.exit_code == 2 and "nope.yaml" in refused.output


def test_docs_mappings_are_the_built_in_ones() -> None:
    root = Path(__file__).resolve().parents[2]
    for name in ("shopify", "woocommerce", "lightspeed"):
        built_in = root / "src/klantreis/collect/catalogue/mappings" / f"{name}.yaml"
        documented = root / "docs/mappings/products" / f"{name}.yaml"
        assert documented.read_text() == built_in.read_text(), name
