from __future__ import annotations

from django.core.management.base import BaseCommand

from catalogue.demo import seed_catalogue


class Command(BaseCommand):
    help = "Add deterministic, realistic demo data (products, categories)."

    def add_arguments(self, parser):
        parser.add_argument("--products", type=int, default=200)
        parser.add_argument("--categories", type=int, default=30)
        parser.add_argument("--seed", type=int, default=1)

    def handle(self, *args, products: int, categories: int, seed: int, **options):
        result = seed_catalogue(
            products=products,
            categories=categories,
            seed=seed,
            progress=lambda n: self.stderr.write(f"\r{n} products", ending=""),
        )
        self.stderr.write("")
        self.stdout.write(f"Seeded {result.categories} categories and {result.products} products.")
