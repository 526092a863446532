"""``seed_demo_catalogue``: the demo catalogue (categories, products, clusters; SPEC §16).

It lives in the clusters app, the top of the dependency chain, because it seeds every layer:
``catalogue.demo`` writes categories and products, ``clusters.demo`` groups products into
clusters.
"""

from __future__ import annotations

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from catalogue.demo import seed_catalogue
from clusters.demo import seed_clusters

PRODUCTS_PER_CLUSTER = 10


class Command(BaseCommand):
    help = "Add deterministic, realistic demo data (categories, products, clusters)."

    def add_arguments(self, parser):
        parser.add_argument("--products", type=int, default=200)
        parser.add_argument("--categories", type=int, default=30)
        parser.add_argument(
            "--clusters",
            type=int,
            default=None,
            help=f"Clusters made of existing products (default: one per {PRODUCTS_PER_CLUSTER} "
            "products seeded).",
        )
        parser.add_argument("--seed", type=int, default=1)

    def handle(self, *args, products: int, categories: int, clusters, seed: int, **options):
        for name, value in (("products", products), ("categories", categories)):
            if value < 0:
                raise CommandError(f"--{name} must be 0 or more.")
        if clusters is None:
            clusters = products // PRODUCTS_PER_CLUSTER
        elif clusters < 0:
            raise CommandError("--clusters must be 0 or more.")
        result = seed_catalogue(
            products=products,
            categories=categories,
            seed=seed,
            progress=lambda n: self.stderr.write(f"\r{n} products", ending=""),
        )
        self.stderr.write("")
        try:
            grouped = seed_clusters(
                clusters=clusters,
                seed=seed,
                progress=lambda n: self.stderr.write(f"\r{n} clusters", ending=""),
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        if clusters:
            self.stderr.write("")
        _analyze()
        self.stdout.write(
            f"Seeded {result.categories} categories, {result.products} products and "
            f"{grouped.clusters} clusters ({grouped.variants} products in clusters, "
            f"{grouped.options} options)."
        )


def _analyze() -> None:
    """Fresh planner statistics on PostgreSQL: right after a bulk load the tables have none, and
    lists filtered by cluster or category would be planned as if they were empty."""
    if connection.vendor != "postgresql":
        return
    tables = [
        model._meta.db_table
        for label in ("taxonomy", "catalogue", "clusters")
        for model in apps.get_app_config(label).get_models()
    ]
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE " + ", ".join(connection.ops.quote_name(t) for t in tables))
