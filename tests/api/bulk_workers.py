"""Code run in spawned processes by the PostgreSQL concurrency tests and the soak (each process
sets Django up against the test database and talks to the API through Django's test client with
a real bearer token), and the helpers that start those processes and collect their reports."""

from __future__ import annotations

import logging
import multiprocessing
import os
import random
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

PRODUCTS_PER_REQUEST = 500
SOURCE = "ERP"

# --- what the writers send ----------------------------------------------------------------------


def product_items(
    writer: int,
    round_: int,
    size: int = PRODUCTS_PER_REQUEST,
    parent: Callable[[random.Random], str] | None = None,
) -> list[dict[str, Any]]:
    """``size`` items, shuffled differently by every writer and round:

    - half are shared keys every writer sends in this round (``S-…``), half of them also sent in
      the round before and half again in the round after (a window sliding by a quarter request);
    - half are private keys of this writer (``W<writer>-…``), sliding the same way, so every
      private key is written twice, in two rounds, by its one writer.

    The content names its writer and round (``sku``, description, attributes), so the final state
    of every product says which write it holds. ``parent(rng)`` gives the ``sourceId`` of a
    category for the item's ``parent`` (no ``parent`` without it).
    """
    shared, private = size // 2, size - size // 2
    keys = [f"S-{k}" for k in range(round_ * shared // 2, round_ * shared // 2 + shared)]
    start = round_ * private // 2
    keys += [f"W{writer}-{k}" for k in range(start, start + private)]
    rng = random.Random(writer * 1000 + round_)
    rng.shuffle(keys)
    items = []
    for key in keys:
        item = {
            "source": SOURCE,
            "sourceId": key,
            "names": [
                {"language": "EN", "value": f"Item {key}"},
                {"language": "NL", "value": f"Artikel {key}"},
            ],
            "descriptions": [{"language": "EN", "value": f"written by {writer} in {round_}"}],
            "sku": f"{writer}:{key}",
            "attributes": [{"name": "WRITER", "value": writer}, {"name": "ROUND", "value": round_}],
        }
        if parent is not None:
            item["parent"] = {"source": SOURCE, "sourceId": parent(rng)}
        items.append(item)
    return items


def category_items(writer: int, round_: int) -> list[dict[str, Any]]:
    """Moves and creates in one shared forest: every writer re-parents the same nodes."""
    rng = random.Random(writer * 1000 + round_)
    items = []
    for n in rng.sample(range(30), 10):
        parent = rng.choice([None, *range(30)])
        items.append(
            {
                "source": SOURCE,
                "sourceId": f"c{n}",
                "names": [{"language": "EN", "value": f"C{n}"}],
                "parent": None if parent is None else {"source": SOURCE, "sourceId": f"c{parent}"},
            }
        )
    items.append(
        {
            "source": SOURCE,
            "sourceId": f"w{writer}-{round_}",
            "names": [{"language": "EN", "value": f"W{writer} {round_}"}],
            "parent": {"source": SOURCE, "sourceId": f"c{rng.randrange(30)}"},
        }
    )
    return items


def stable_category(n: int) -> str:
    """Categories the soak seeds, each holding a product: moved, never deletable."""
    return f"P-{n}"


def fresh_category(worker: int, n: int) -> str:
    """Categories a tree worker creates and deletes while the writers run."""
    return f"V{worker}-{n}"


# --- running processes ------------------------------------------------------------------------


def database_url() -> str:
    """The URL of the database this (test) process uses, for the spawned processes."""
    from django.db import connection

    s = connection.settings_dict
    auth = s["USER"] + (f":{s['PASSWORD']}" if s["PASSWORD"] else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def spawn_context():
    return multiprocessing.get_context("spawn")  # forked children would share our connection


def start(ctx, target: Callable, argsets: list[tuple]) -> list:
    processes = [ctx.Process(target=target, args=(database_url(), *args)) for args in argsets]
    for process in processes:
        process.start()
    return processes


def collect(queue, processes: list, timeout: float) -> list[dict]:
    """One report per process (the processes put them on ``queue``), after a clean exit."""
    reports = []
    deadline = time.monotonic() + timeout
    for _ in processes:
        reports.append(queue.get(timeout=max(1.0, deadline - time.monotonic())))
    for process in processes:
        process.join(60)
        assert process.exitcode == 0
    return reports


def _setup(database_url: str):
    os.environ["DATABASE_URL"] = database_url
    os.environ["ALLOWED_HOSTS"] = "testserver"
    os.environ["RATE_LIMIT_PER_MINUTE"] = "0"
    os.environ["LOG_LEVEL"] = "WARNING"  # no access log line per request; errors still show
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()


RETRY_CAUSES = {
    "unique constraint": "unique violation",
    "foreign key constraint": "foreign key violation",
    "deadlock": "deadlock",
    "could not serialize": "serialization failure",
    "lock": "lock not available",
}


class _Counter(logging.Handler):
    """Counts the bulk retries (``catalogue.bulk`` log lines) by cause."""

    def __init__(self) -> None:
        super().__init__()
        self.causes: dict[str, int] = {}

    def emit(self, record: logging.LogRecord) -> None:
        text = getattr(record, "cause", "?")
        kind = next((name for words, name in RETRY_CAUSES.items() if words in text), "")
        cause = f"{text.split('(')[0]} ({kind})" if kind else text.split("(")[0]
        self.causes[cause] = self.causes.get(cause, 0) + 1


def _count_retries() -> _Counter:
    retries = _Counter()
    logger = logging.getLogger("catalogue.bulk")
    logger.addHandler(retries)
    logger.setLevel(logging.INFO)
    logger.propagate = False  # counted and reported, not printed line by line
    return retries


class _Api:
    """The test client with the bearer token; every answer's status is counted under its
    operation (``op status code``, the error code for errors)."""

    def __init__(self, token: str) -> None:
        from django.test import Client

        self.client, self.token = Client(), token
        self.statuses: Counter[str] = Counter()

    def call(self, op: str, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        import orjson

        kwargs: dict[str, Any] = {"headers": {"Authorization": f"Bearer {self.token}"}}
        if body is not None:
            kwargs.update(data=orjson.dumps(body), content_type="application/json")
        response = getattr(self.client, method)(path, **kwargs)
        try:
            data = response.json()
        except ValueError:
            data = {"raw": response.content.decode(errors="replace")}
        code = data.get("error", {}).get("code", "") if isinstance(data, dict) else ""
        self.statuses[f"{op} {response.status_code} {code}".rstrip()] += 1
        return response.status_code, data


def send(
    database_url: str, token: str, path: str, kind: str, writer: int, rounds: int, barrier, queue
) -> None:
    _setup(database_url)
    import orjson
    from django.test import Client

    retries = _count_retries()
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


# --- the soak (tests/api/test_soak.py) ----------------------------------------------------------


def soak_writer(
    database_url: str, token: str, config: dict, writer: int, latest, barrier, queue
) -> None:
    """``config["rounds"]`` product bulk upserts of ``config["items"]`` items, in step with the
    other writers (a barrier per round). Parents are stable categories, and about one item in
    ten a category a tree worker created lately (``latest[t]``: its newest number), which may be
    deleted before or while the request runs.

    Reports per round the status and, per item in request order, ``(key, parent, outcome key,
    action, error code)``.
    """
    _setup(database_url)
    retries = _count_retries()
    api = _Api(token)

    def parent(rng: random.Random) -> str:
        worker = rng.randrange(len(latest))
        if rng.random() < 0.1 and latest[worker] >= 0:
            return fresh_category(worker, max(0, latest[worker] - rng.randrange(3)))
        return stable_category(rng.randrange(config["categories"]))

    rounds = []
    for round_ in range(config["rounds"]):
        barrier.wait(600)
        items = product_items(writer, round_, config["items"], parent)
        status, data = api.call("bulk", "post", "/v2/products/bulk/sourceId", {"products": items})
        outcomes = data.get("data") if status == 200 else None
        rounds.append(
            {
                "status": status,
                "body": None if outcomes else data,
                "items": [
                    (
                        item["sourceId"],
                        item["parent"]["sourceId"],
                        outcome["key"],
                        outcome["action"],
                        outcome.get("error", {}).get("code"),
                    )
                    for item, outcome in zip(items, outcomes, strict=True)
                ]
                if outcomes is not None
                else [],
            }
        )
    queue.put(
        {
            "role": "writer",
            "writer": writer,
            "rounds": rounds,
            "statuses": api.statuses,
            "retries": retries.causes,
        }
    )


MOVE_POSITIONS = ("first-child", "last-child", "left", "right")


def soak_tree(
    database_url: str, token: str, config: dict, worker: int, latest, stop, queue
) -> None:
    """Until ``stop`` is set (and at least ``config["min_tree_rounds"]`` times): create a fresh
    category under a random parent (or as a root); move a random category next to or under a
    random target (the four positions in turn) and another one to the first or last root place;
    delete one of its fresh categories (refused while it holds something), one of the newest of
    the next tree worker (which may be using it right now) and try to delete a stable one
    (always refused: each holds a product). A fresh category the other worker deleted answers
    404 here and is forgotten. Reports the statuses and which fresh categories it deleted and
    which it still knows.
    """
    _setup(database_url)
    api = _Api(token)
    rng = random.Random(worker)
    stable = [stable_category(n) for n in range(config["categories"])]
    alive: list[str] = []
    deleted: list[str] = []
    created = 0

    def path(source_id: str, action: str = "") -> str:
        return f"/v2/categories/sourceId/{source_id}{action}?source={SOURCE}"

    def ref(source_id: str | None) -> dict | None:
        return None if source_id is None else {"source": SOURCE, "sourceId": source_id}

    def gone(name: str | None) -> None:
        if name in alive:
            alive.remove(name)

    def move(op: str, category: str, target: str | None, position: str) -> None:
        body = {"target": ref(target), "position": position}
        _, data = api.call(op, "post", path(category, "/move"), body)
        code = data.get("error", {}).get("code") if isinstance(data, dict) else None
        gone(category if code == 30006 else target if code == 30007 else None)

    iteration = 0
    while iteration < config["min_tree_rounds"] or not stop.is_set():
        name = fresh_category(worker, created)
        parent = rng.choice([None, *stable, *alive])
        status, _ = api.call(
            "create",
            "post",
            "/v2/categories",
            {
                "source": SOURCE,
                "sourceId": name,
                "names": [{"language": "EN", "value": f"Fresh {name}"}],
                "parent": ref(parent),
            },
        )
        if status == 201:
            alive.append(name)
            latest[worker] = created
        elif status == 404:
            gone(parent)
        created += 1
        # every position in turn next to / under a random category, and to the roots' ends
        position = MOVE_POSITIONS[iteration % 4]
        move(
            f"move {position}",
            rng.choice([*stable, *alive]),
            rng.choice([*stable, *alive]),
            position,
        )
        position = MOVE_POSITIONS[iteration % 2]
        move(f"move root {position}", rng.choice([*stable, *alive]), None, position)
        if alive:
            victim = rng.choice(alive)
            status, _ = api.call("delete", "delete", path(victim))
            if status in (200, 404):
                gone(victim)
            if status == 200:
                deleted.append(victim)
        other = (worker + 1) % len(latest)
        if other != worker and latest[other] >= 0:
            victim = fresh_category(other, max(0, latest[other] - rng.randrange(3)))
            status, _ = api.call("delete other", "delete", path(victim))
            if status == 200:
                deleted.append(victim)
        api.call("delete stable", "delete", path(rng.choice(stable)))
        iteration += 1
    queue.put(
        {
            "role": "tree",
            "worker": worker,
            "alive": alive,
            "deleted": deleted,
            "statuses": api.statuses,
        }
    )
