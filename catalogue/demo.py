"""Deterministic, realistic demo data (``seed_demo_catalogue``), also used by the benchmarks.

Rows are written set-based (``bulk_create`` in batches, the category tree rebuilt once under the
tree lock), so 100,000 products take seconds, not minutes.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction

from catalogue.models import Product, ProductAttribute, ProductSource
from catalogue.search import attribute_number, attribute_text, product_search_text
from records.localized import slugify_text
from taxonomy.models import Category, CategorySource
from taxonomy.search import refresh_category_search_text
from taxonomy.services import lock_category_tree

WORDS = {
    "en": [
        "Jacket",
        "Shirt",
        "Boot",
        "Scarf",
        "Glove",
        "Sweater",
        "Cap",
        "Trouser",
        "Sock",
        "Belt",
    ],
    "nl": ["Jas", "Hemd", "Laars", "Sjaal", "Handschoen", "Trui", "Pet", "Broek", "Sok", "Riem"],
    "de": [
        "Jacke",
        "Hemd",
        "Stiefel",
        "Schal",
        "Handschuh",
        "Pullover",
        "Mütze",
        "Hose",
        "Socke",
        "Gürtel",
    ],
    "fr": [
        "Veste",
        "Chemise",
        "Botte",
        "Écharpe",
        "Gant",
        "Pull",
        "Casquette",
        "Pantalon",
        "Chaussette",
        "Ceinture",
    ],
}
ADJECTIVES = {
    "en": ["Crème", "Navy", "Forest", "Storm", "Alpine", "Urban", "Classic", "Coastal"],
    "nl": ["Crème", "Marine", "Bos", "Storm", "Alpen", "Stads", "Klassiek", "Kust"],
    "de": ["Creme", "Marine", "Wald", "Sturm", "Alpen", "Stadt", "Klassisch", "Küsten"],
    "fr": ["Crème", "Marine", "Forêt", "Tempête", "Alpin", "Urbain", "Classique", "Côtier"],
}
COLOURS = ["RED", "BLUE", "GREEN", "BLACK", "WHITE", "GREY"]
SIZES = ["XS", "S", "M", "L", "XL", "XXL"]
SOURCES = ("ERP", "PIM")


@dataclass
class SeedResult:
    categories: int
    products: int


def _ean(number: int) -> str:
    body = f"{number:012d}"[-12:]
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(body))
    return body + str((10 - total % 10) % 10)


def _source_id(source: str, sku: str) -> str:
    return f"{source[0]}-{sku}"


def _name(rng: random.Random, language: str, index: int) -> str:
    words = WORDS.get(language, WORDS["en"])
    adjectives = ADJECTIVES.get(language, ADJECTIVES["en"])
    return f"{adjectives[index % len(adjectives)]} {words[rng.randrange(len(words))]} {index}"


def seed_catalogue(
    *,
    products: int = 200,
    categories: int = 30,
    seed: int = 1,
    max_depth: int = 6,
    batch_size: int = 2000,
    progress: Callable[[int], None] | None = None,
) -> SeedResult:
    """Add ``categories`` categories and ``products`` products (all languages, 2 sources)."""
    rng = random.Random(seed)
    languages = settings.CATALOGUE_LANGUAGES
    start = (Product.objects.order_by("-id").values_list("id", flat=True).first() or 0) + 1
    cat_start = (Category.objects.order_by("-id").values_list("id", flat=True).first() or 0) + 1
    with transaction.atomic():
        lock_category_tree()
        nodes: list[Category] = []
        depth_of: dict[int, int] = {}
        with Category.objects.disable_mptt_updates():
            for i in range(categories):
                index = cat_start + i
                candidates = [n for n in nodes if depth_of[id(n)] < max_depth - 1]
                parent = rng.choice(candidates) if candidates and rng.random() < 0.85 else None
                node = Category(parent=parent, lft=0, rght=0, tree_id=0, level=0)
                for language in languages:
                    name = f"{WORDS.get(language, WORDS['en'])[index % 10]}s {index}"
                    setattr(node, f"name_{language}", name)
                    setattr(node, f"slug_{language}", slugify_text(name))
                node.sort_name = node.name_en.lower() if "en" in languages else ""
                depth_of[id(node)] = depth_of[id(parent)] + 1 if parent else 0
                nodes.append(node)
            # parents must be saved before children: insert level by level
            for level in range(max_depth):
                Category.objects.bulk_create([n for n in nodes if depth_of[id(n)] == level])
            for n in nodes:
                n.parent_id = n.parent.pk if n.parent else None
            CategorySource.objects.bulk_create(
                CategorySource(category=n, source="ERP", source_id=f"C-{n.pk}") for n in nodes
            )
        if nodes:
            Category.objects.rebuild()
            refresh_category_search_text(n.pk for n in nodes)
    leaves = list(Category.objects.values_list("id", flat=True)) or [None]
    for offset in range(0, products, batch_size):
        with transaction.atomic():
            batch = []
            for i in range(offset, min(products, offset + batch_size)):
                index = start + i
                product = Product(
                    sku=f"SKU-{index:07d}",
                    ean_code=_ean(8_700_000_000_000 + index),
                    supplier="Acme",
                    supplier_code=f"AC-{index}",
                    manufacturer=["Nordwear", "Alpina", "Coastline"][index % 3],
                    status=rng.choice("AAAAANTPS"),
                    priority=rng.randrange(100),
                    parent_id=leaves[rng.randrange(len(leaves))],
                )
                for language in languages:
                    name = _name(rng, language, index)
                    setattr(product, f"name_{language}", name)
                    setattr(product, f"slug_{language}", f"{slugify_text(name)}-{index}")
                    setattr(product, f"description_{language}", f"{name}: demo description.")
                product.sort_name = getattr(product, f"name_{product.language}").lower()
                product.search_text = product_search_text(
                    product, [_source_id(source, product.sku) for source in SOURCES]
                )
                batch.append(product)
            Product.objects.bulk_create(batch)
            ProductSource.objects.bulk_create(
                ProductSource(product=p, source=source, source_id=_source_id(source, p.sku))
                for p in batch
                for source in SOURCES
            )
            ProductAttribute.objects.bulk_create(
                ProductAttribute(
                    product=p,
                    position=position,
                    name=name,
                    value=value,
                    value_text=attribute_text(value),
                    value_number=attribute_number(value),
                )
                for p in batch
                for position, (name, value) in enumerate(
                    (
                        ("COLOR", COLOURS[p.pk % 6]),
                        ("SIZE", SIZES[(p.pk // 6) % 6]),
                        ("WEIGHT", 100 + p.pk % 900),
                    )
                )
            )
        if progress:
            progress(min(products, offset + batch_size))
    return SeedResult(categories=len(nodes), products=products)
