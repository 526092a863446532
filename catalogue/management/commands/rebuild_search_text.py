from __future__ import annotations

from django.core.management.base import BaseCommand

from catalogue.models import Product
from catalogue.search import refresh_product_search_text
from taxonomy.models import Category
from taxonomy.search import refresh_category_search_text

BATCH = 5000


class Command(BaseCommand):
    help = (
        "Recompute the search documents (search_text) of every product and category: after "
        "writes that bypassed the services, or when the document definition changed. On "
        "PostgreSQL the search vocabulary follows through its triggers."
    )

    def handle(self, *args, **options):
        for label, model, refresh in (
            ("categories", Category, refresh_category_search_text),
            ("products", Product, refresh_product_search_text),
        ):
            ids = list(model.objects.order_by("pk").values_list("pk", flat=True))
            done = 0
            for start in range(0, len(ids), BATCH):
                done += refresh(ids[start : start + BATCH])
                self.stderr.write(f"\r{done}/{len(ids)} {label}", ending="")
            self.stderr.write("")
            self.stdout.write(f"Rebuilt the search text of {done} {label}.")
