from __future__ import annotations

from django.core.management.base import BaseCommand

from config.api.search import surfaces

BATCH = 5000


class Command(BaseCommand):
    help = (
        "Recompute the search documents (search_text) of every searchable record (products, "
        "clusters, categories: every registered search surface): after writes that bypassed "
        "the services, or when the document definition changed. On PostgreSQL the search "
        "vocabulary follows through its triggers."
    )

    def handle(self, *args, **options):
        for surface in surfaces():
            if surface.refresh is None:
                continue
            label = surface.name
            ids = list(surface.model.objects.order_by("pk").values_list("pk", flat=True))
            done = 0
            for start in range(0, len(ids), BATCH):
                done += surface.refresh(ids[start : start + BATCH])
                self.stderr.write(f"\r{done}/{len(ids)} {label}", ending="")
            self.stderr.write("")
            self.stdout.write(f"Rebuilt the search text of {done} {label}.")
