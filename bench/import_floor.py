"""The floor of ``import_catalogue``: stream the same NDJSON file and write it with the floor's
merge (COPY into staging tables + one ``INSERT … ON CONFLICT`` per table), 10,000 rows a batch.

Parent categories given by source pair are resolved once per distinct pair (the floor's merge
takes ids). Usage: ``python -m bench.import_floor FILE`` with the benchmark's environment.
"""

from __future__ import annotations

import os
import sys

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")

import django  # noqa: E402

django.setup()

import orjson  # noqa: E402

from bench.floor import merge_products  # noqa: E402
from taxonomy.models import CategorySource  # noqa: E402

BATCH = 10_000


def main(path: str) -> int:
    parents: dict[tuple[str, str], int] = {}
    batch: list[dict] = []
    count = 0

    def flush() -> None:
        if batch:
            merge_products(batch)
            batch.clear()

    with open(path, "rb") as lines:
        for line in lines:
            item = orjson.loads(line)
            ref = item.get("parent")
            if ref and "id" not in ref:
                key = (ref["source"], ref["sourceId"])
                if key not in parents:
                    parents[key] = CategorySource.objects.get(
                        source=key[0], source_id=key[1]
                    ).category_id
                item["parent"] = {"id": parents[key]}
            batch.append(item)
            count += 1
            if len(batch) == BATCH:
                flush()
    flush()
    print(f"{count} products")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
