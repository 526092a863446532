"""Demo clusters on top of the demo catalogue (``seed_demo_catalogue --clusters N``).

Clusters are made of products that already exist: the unclustered products, in id order, are
cut into N equal windows; each cluster takes the first 2-6 products of its window as its variants
(they leave their category: the cluster is their primary home, and the cluster takes the first
variant's category as its own), and every fourth cluster offers a "gift wrap" option whose two
selectable products are the next two products of the window. Seeded products carry ``COLOR``
and ``SIZE`` values that differ between neighbouring ids, so every demo cluster passes its
readiness report under both demo configs.

Everything is written set-based, one batch of clusters per transaction: a fixed number of
statements per batch, whatever the number of clusters.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction

from catalogue.demo import ADJECTIVES, WORDS
from catalogue.models import Product
from clusters.models import (
    Cluster,
    ClusterCategory,
    ClusterConfig,
    ClusterConfigSetting,
    ClusterOption,
    ClusterOptionSource,
    ClusterProduct,
    ClusterSource,
    OptionProduct,
)
from clusters.search import refresh_cluster_search_text
from records.localized import slugify_text
from taxonomy.models import Category

#: name → settings (attribute name, display type, priority) of the demo configs
DEMO_CONFIGS: dict[str, list[tuple[str, str, int]]] = {
    "colour_size": [("COLOR", "color", 0), ("SIZE", "dropdown", 1)],
    "colour": [("COLOR", "color", 0)],
}
COLLECTION = {"en": "Collection", "nl": "Collectie", "de": "Kollektion", "fr": "Collection"}
GIFT_WRAP = {
    "en": "Gift wrap",
    "nl": "Cadeauverpakking",
    "de": "Geschenkverpackung",
    "fr": "Emballage cadeau",
}
MIN_VARIANTS, MAX_VARIANTS = 2, 6
OPTION_EVERY = 4  # every 4th cluster offers a gift wrap option
SECONDARY_EVERY = 5  # every 5th cluster is also shown in a second category


@dataclass
class ClusterSeedResult:
    clusters: int
    variants: int
    options: int


def demo_configs() -> dict[str, ClusterConfig]:
    """The demo configs, created once with their settings (re-runs reuse them)."""
    configs: dict[str, ClusterConfig] = {}
    for name, wanted in DEMO_CONFIGS.items():
        config, created = ClusterConfig.objects.get_or_create(name=name)
        if created:
            ClusterConfigSetting.objects.bulk_create(
                ClusterConfigSetting(
                    config=config, attribute_name=attribute, display_type=display, priority=prio
                )
                for attribute, display, prio in wanted
            )
        configs[name] = config
    return configs


def seed_clusters(
    *,
    clusters: int,
    seed: int = 1,
    batch_size: int = 1000,
    progress: Callable[[int], None] | None = None,
) -> ClusterSeedResult:
    """Group existing unclustered products into ``clusters`` new clusters (see the module text).

    Raises ValueError when there are fewer than two unclustered products per cluster.
    """
    if clusters <= 0:
        return ClusterSeedResult(0, 0, 0)
    unclustered = Product.objects.filter(cluster_membership__isnull=True)
    available = unclustered.count()
    window = available // clusters
    if window < MIN_VARIANTS:
        raise ValueError(
            f"{clusters} clusters need at least {MIN_VARIANTS * clusters} products outside "
            f"clusters; there are {available}. Seed more products or ask for fewer clusters."
        )
    rng = random.Random(seed)
    languages = settings.CATALOGUE_LANGUAGES
    default_language = settings.CATALOGUE_DEFAULT_LANGUAGE
    configs = list(demo_configs().values())
    category_ids = list(Category.objects.order_by("pk").values_list("pk", flat=True))
    start = (Cluster.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1
    result = ClusterSeedResult(0, 0, 0)
    after = 0  # keyset over the unclustered products: the next window starts after this id
    for offset in range(0, clusters, batch_size):
        count = min(batch_size, clusters - offset)
        rows = list(
            unclustered.filter(pk__gt=after)
            .order_by("pk")
            .values_list("pk", "parent_id")[: count * window]
        )
        after = rows[-1][0]
        windows = [rows[i * window : (i + 1) * window] for i in range(count)]
        with transaction.atomic():
            _seed_batch(
                windows,
                start=start + offset,
                rng=rng,
                languages=languages,
                default_language=default_language,
                configs=configs,
                category_ids=category_ids,
                result=result,
            )
        if progress:
            progress(offset + count)
    refresh_cluster_search_text(
        Cluster.objects.filter(pk__gte=start).order_by("pk").values_list("pk", flat=True)
    )
    return result


def _seed_batch(
    windows: list[list[tuple[int, int | None]]],
    *,
    start: int,
    rng: random.Random,
    languages: list[str],
    default_language: str,
    configs: list[ClusterConfig],
    category_ids: list[int],
    result: ClusterSeedResult,
) -> None:
    batch: list[Cluster] = []
    variants: list[list[int]] = []
    extras: list[list[int]] = []  # the rest of each window: candidates for option products
    for i, rows in enumerate(windows):
        index = start + i
        size = min(rng.randint(MIN_VARIANTS, MAX_VARIANTS), len(rows))
        members = [pk for pk, _ in rows[:size]]
        word = rng.randrange(len(WORDS["en"]))
        cluster = Cluster(
            code=f"CL-{index:06d}",
            language=default_language,
            cluster_config=configs[0] if rng.random() < 0.8 else configs[-1],
            parent_id=rows[0][1],
            default_product_id=members[0],
            priority=rng.randrange(100),
        )
        for language in languages:
            adjectives = ADJECTIVES.get(language, ADJECTIVES["en"])
            words = WORDS.get(language, WORDS["en"])
            name = (
                f"{adjectives[index % len(adjectives)]} {words[word]} "
                f"{COLLECTION.get(language, COLLECTION['en'])} {index}"
            )
            setattr(cluster, f"name_{language}", name)
            setattr(cluster, f"slug_{language}", f"{slugify_text(name)}-c{index}")
            setattr(cluster, f"description_{language}", f"{name}: {size} variants.")
        cluster.sort_name = (getattr(cluster, f"name_{default_language}") or "").lower()
        batch.append(cluster)
        variants.append(members)
        extras.append([pk for pk, _ in rows[size:]])
    Cluster.objects.bulk_create(batch)
    ClusterSource.objects.bulk_create(
        ClusterSource(cluster=c, source="ERP", source_id=c.code) for c in batch
    )
    ClusterProduct.objects.bulk_create(
        ClusterProduct(cluster=c, product_id=pk)
        for c, members in zip(batch, variants, strict=True)
        for pk in members
    )
    # The cluster is the variants' primary home now.
    member_ids = [pk for members in variants for pk in members]
    Product.objects.filter(pk__in=member_ids).update(parent=None)
    if len(category_ids) > 1:
        ClusterCategory.objects.bulk_create(
            ClusterCategory(
                cluster=c, category_id=_other_category(category_ids, c.parent_id, start + n)
            )
            for n, c in enumerate(batch)
            if (start + n) % SECONDARY_EVERY == 0
        )

    options: list[ClusterOption] = []
    option_products: list[list[int]] = []
    for n, (cluster, spare) in enumerate(zip(batch, extras, strict=True)):
        if (start + n) % OPTION_EVERY or len(spare) < 2:
            continue
        option = ClusterOption(
            cluster=cluster,
            language=default_language,
            default_product_id=spare[0],
            priority=1,
        )
        for language in languages:
            name = GIFT_WRAP.get(language, GIFT_WRAP["en"])
            setattr(option, f"name_{language}", name)
        option.sort_name = (getattr(option, f"name_{default_language}") or "").lower()
        options.append(option)
        option_products.append(spare[:2])
    ClusterOption.objects.bulk_create(options)
    ClusterOptionSource.objects.bulk_create(
        ClusterOptionSource(option=o, source="ERP", source_id=f"OPT-{o.cluster.code}")
        for o in options
    )
    OptionProduct.objects.bulk_create(
        OptionProduct(option=o, product_id=pk, position=position)
        for o, products in zip(options, option_products, strict=True)
        for position, pk in enumerate(products, start=1)
    )
    result.clusters += len(batch)
    result.variants += len(member_ids)
    result.options += len(options)


def _other_category(category_ids: list[int], primary: int | None, index: int) -> int:
    """A category other than ``primary``, picked by ``index`` (deterministic)."""
    candidate = category_ids[index % len(category_ids)]
    if candidate == primary:
        candidate = category_ids[(index + 1) % len(category_ids)]
    return candidate
