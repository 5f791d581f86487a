"""The simulated shop's products and what people type into its search box."""

from __future__ import annotations

import hashlib
import math
import random
from dataclasses import dataclass
from typing import Any

import orjson
import pyarrow as pa

# category: (median price EUR, return propensity multiplier, product nouns, brands)
CATEGORIES: dict[str, tuple[float, float, tuple[str, ...], tuple[str, ...]]] = {
    "electronics": (
        89.0,
        0.8,
        ("Headphones", "Speaker", "Charger", "Smartwatch", "E-reader", "Webcam"),
        ("Sonora", "Voltix", "Nordlyd"),
    ),
    "home": (
        39.0,
        0.7,
        ("Duvet", "Lamp", "Coffee maker", "Kettle", "Towel set", "Vase"),
        ("Hjem", "Casa Verde", "Linnen&Co"),
    ),
    "fashion": (
        45.0,
        2.2,
        ("Rain jacket", "Sneakers", "Jeans", "Wool sweater", "Dress", "Boots"),
        ("Noordzee", "Fjord", "Urban Wren"),
    ),
    "beauty": (
        19.0,
        0.5,
        ("Face cream", "Shampoo", "Perfume", "Lip balm", "Hair dryer"),
        ("Bloesem", "Skin Saga", "Lys"),
    ),
    "sports": (
        55.0,
        1.2,
        ("Running shoes", "Yoga mat", "Bike light", "Water bottle", "Sports bag"),
        ("Kraft", "Loopfit", "Hurtig"),
    ),
    "toys": (
        29.0,
        0.6,
        ("Puzzle", "Building blocks", "Board game", "Plush bear", "Kite"),
        ("Speelgoed & Zo", "Legekassen", "Tiny Tribe"),
    ),
    "garden": (
        35.0,
        0.7,
        ("Garden hose", "Plant pot", "Pruning shears", "Solar lamp", "Seed box"),
        ("Tuinman", "Haveglad", "Greenway"),
    ),
}

QUERIES: dict[str, dict[str, tuple[str, ...]]] = {
    "nl": {
        "electronics": ("koptelefoon", "bluetooth speaker", "oplader usb-c", "smartwatch"),
        "home": ("dekbed", "bureaulamp", "koffiezetapparaat", "waterkoker"),
        "fashion": ("regenjas", "sneakers dames", "spijkerbroek", "wollen trui"),
        "beauty": ("dagcreme", "shampoo", "parfum", "föhn"),
        "sports": ("hardloopschoenen", "yogamat", "fietslamp", "bidon"),
        "toys": ("puzzel 1000", "bouwstenen", "bordspel", "knuffel"),
        "garden": ("tuinslang", "bloempot", "snoeischaar", "solar lamp"),
    },
    "da": {
        "electronics": ("høretelefoner", "bluetooth højttaler", "oplader", "smartwatch"),
        "home": ("dyne", "lampe", "kaffemaskine", "elkedel"),
        "fashion": ("regnjakke", "sneakers", "jeans", "uldsweater"),
        "beauty": ("ansigtscreme", "shampoo", "parfume", "hårtørrer"),
        "sports": ("løbesko", "yogamåtte", "cykellygte", "drikkedunk"),
        "toys": ("puslespil", "byggeklodser", "brætspil", "bamse"),
        "garden": ("haveslange", "urtepotte", "beskæresaks", "solcellelampe"),
    },
    "en": {
        "electronics": ("headphones", "bluetooth speaker", "usb-c charger", "smartwatch"),
        "home": ("duvet", "desk lamp", "coffee maker", "kettle"),
        "fashion": ("rain jacket", "womens sneakers", "jeans", "wool jumper"),
        "beauty": ("face cream", "shampoo", "perfume", "hair dryer"),
        "sports": ("running shoes", "yoga mat", "bike light", "water bottle"),
        "toys": ("jigsaw 1000", "building blocks", "board game", "teddy bear"),
        "garden": ("garden hose", "plant pot", "secateurs", "solar lights"),
    },
}
ZERO_RESULT_QUERIES = {
    "nl": ("koptelefon", "regnjas", "cadeaubon 50", "sneekers", "dekbed 240x260 dons"),
    "da": ("hørertelefoner", "gavekort", "regnjake", "dyne 240x220 dun"),
    "en": ("hedphones", "gift card", "rain jaket", "duvet super king goose"),
}


@dataclass(frozen=True)
class Product:
    product_id: str
    category: str
    name: str
    brand: str
    price: float
    photos: int = 4
    description_length: int = 600
    specifications: int = 4

    @property
    def thin(self) -> bool:
        """A thin product page: one photo or a description of a line or two.

        Buyers of such products are more often surprised ("not as described"): they return
        more and review worse (`story.aftercare`), the lesson `klantreis products` measures.
        """
        return self.photos <= 1 or self.description_length < 200


def product_props(product: Product, quantity: int | None = None) -> dict[str, Any]:
    """A product as the events about it describe it."""
    props: dict[str, Any] = {
        "product_id": product.product_id,
        "sku": f"SKU-{product.product_id[1:]}",
        "category": product.category,
        "name": product.name,
        "brand": product.brand,
        "price": product.price,
    }
    if quantity is not None:
        props["quantity"] = quantity
    return props


def page_content(product_id: str) -> tuple[int, int, int]:
    """Photos, description length and specifications of a product page.

    Drawn from the product id alone (not from the catalogue's random stream), so the products,
    prices and everything simulated from them stay as they were. About a third of the pages
    have one photo, as on Olist (49 % of its ordered products).
    """
    rng = random.Random(f"content:{product_id}")
    photos = rng.choices((1, 2, 3, 4, 6, 8), weights=(33, 20, 15, 15, 10, 7))[0]
    description = int(min(3000, max(40, rng.lognormvariate(math.log(450), 0.9))))
    specifications = rng.choices((0, 1, 2, 3, 4, 6), weights=(15, 10, 15, 20, 25, 15))[0]
    return photos, description, specifications


def unit_chance(key: str) -> float:
    """A number in [0, 1) fixed by `key`, for choices that must not use a random stream."""
    digest = hashlib.md5(key.encode(), usedforsecurity=False).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def catalogue_table(products: list[Product]) -> pa.Table:
    """The catalogue as rows of the `products` table (what a shop's product export holds)."""
    return pa.table(
        {
            "product_id": [p.product_id for p in products],
            "name": [p.name for p in products],
            "category": [p.category for p in products],
            "price": [p.price for p in products],
            "photos": [p.photos for p in products],
            "description_length": [p.description_length for p in products],
            "name_length": [len(p.name) for p in products],
            "specifications": [p.specifications for p in products],
        }
    )


def make_catalogue(rng: random.Random, size: int = 240) -> list[Product]:
    """Products with log-normal prices around each category's median."""
    products = []
    categories = list(CATEGORIES)
    for i in range(size):
        category = categories[i % len(categories)]
        median, _, nouns, brands = CATEGORIES[category]
        price = round(median * math.exp(rng.gauss(0.0, 0.6)), 0) - 0.05
        product_id = f"P{i + 1:05d}"
        photos, description, specifications = page_content(product_id)
        products.append(
            Product(
                product_id=product_id,
                category=category,
                name=f"{rng.choice(brands)} {rng.choice(nouns)}",
                brand=rng.choice(brands),
                price=max(price, 2.95),
                photos=photos,
                description_length=description,
                specifications=specifications,
            )
        )
    return products


def _json(value: dict[str, Any]) -> str:
    return orjson.dumps(value).decode()


class Catalogue:
    """Products grouped so a price-sensitive person looks at cheaper ones."""

    def __init__(self, products: list[Product]) -> None:
        self.products = products
        # the properties of `Product Viewed` and of one `Product Added`, as JSON text: most
        # of the shop's events are about a product, and there are a few hundred of them
        self.viewed_json = {p.product_id: _json(product_props(p)) for p in products}
        self.added_json = {p.product_id: _json(product_props(p, 1)) for p in products}
        self.by_category: dict[str, list[Product]] = {}
        for product in sorted(products, key=lambda p: p.price):
            self.by_category.setdefault(product.category, []).append(product)

    def pick(self, rng: random.Random, category: str, price_level: float) -> Product:
        """A product of the category, biased toward the person's price level."""
        items = self.by_category[category]
        # price_level < 1 leans to the cheap end of the sorted list, > 1 to the dear end.
        u = rng.random() ** (1.0 / price_level)
        return items[min(int(u * len(items)), len(items) - 1)]
