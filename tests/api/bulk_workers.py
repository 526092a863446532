"""Code run in spawned processes by the PostgreSQL concurrency tests (each process sets Django up
against the test database and talks to the API through Django's test client)."""

from __future__ import annotations

import logging
import os
import random
from typing import Any

PRODUCTS_PER_REQUEST = 500
SHARED_PER_REQUEST = 250  # the other half is private to the writer


def product_items(writer: int, round_: int) -> list[dict[str, Any]]:
    """500 items: 250 keys every writer sends in this round (half of them also sent in the round
    before), 250 keys of this writer only; shuffled differently by every writer."""
    start = round_ * SHARED_PER_REQUEST // 2
    keys = [f"S-{k}" for k in range(start, start + SHARED_PER_REQUEST)]
    keys += [f"W{writer}-{round_}-{k}" for k in range(PRODUCTS_PER_REQUEST - SHARED_PER_REQUEST)]
    random.Random(writer * 1000 + round_).shuffle(keys)
    return [
        {
            "source": "ERP",
            "sourceId": key,
            "names": [
                {"language": "EN", "value": f"Item {key}"},
                {"language": "NL", "value": f"Artikel {key}"},
            ],
            "descriptions": [{"language": "EN", "value": f"written by {writer} in {round_}"}],
            "sku": f"{writer}:{key}",
            "attributes": [{"name": "WRITER", "value": writer}, {"name": "ROUND", "value": round_}],
        }
        for key in keys
    ]


def category_items(writer: int, round_: int) -> list[dict[str, Any]]:
    """Moves and creates in one shared forest: every writer re-parents the same nodes."""
    rng = random.Random(writer * 1000 + round_)
    items = []
    for n in rng.sample(range(30), 10):
        parent = rng.choice([None, *range(30)])
        items.append(
            {
                "source": "ERP",
                "sourceId": f"c{n}",
                "names": [{"language": "EN", "value": f"C{n}"}],
                "parent": None if parent is None else {"source": "ERP", "sourceId": f"c{parent}"},
            }
        )
    items.append(
        {
            "source": "ERP",
            "sourceId": f"w{writer}-{round_}",
            "names": [{"language": "EN", "value": f"W{writer} {round_}"}],
            "parent": {"source": "ERP", "sourceId": f"c{rng.randrange(30)}"},
        }
    )
    return items


class _Counter(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.causes: dict[str, int] = {}

    def emit(self, record: logging.LogRecord) -> None:
        cause = getattr(record, "cause", "?").split("(")[0]
        self.causes[cause] = self.causes.get(cause, 0) + 1


def send(
    database_url: str, token: str, path: str, kind: str, writer: int, rounds: int, barrier, queue
) -> None:
    os.environ["DATABASE_URL"] = database_url
    os.environ["ALLOWED_HOSTS"] = "testserver"
    os.environ["RATE_LIMIT_PER_MINUTE"] = "0"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    import orjson
    from django.test import Client

    retries = _Counter()
    logging.getLogger("catalogue.bulk").addHandler(retries)
    logging.getLogger("catalogue.bulk").setLevel(logging.INFO)
    make = product_items if kind == "products" else category_items
    client = Client()
    results = []
    for round_ in range(rounds):
        body = orjson.dumps({kind: make(writer, round_)})
        barrier.wait(60)
        response = client.post(
            path,
            body,
            content_type="application/json",
            headers={"Authorization": f"Bearer {token}"},
        )
        try:
            data = response.json()
        except ValueError:
            data = {"raw": response.content.decode(errors="replace")}
        results.append({"status": response.status_code, "body": data})
    queue.put({"writer": writer, "results": results, "retries": retries.causes})
