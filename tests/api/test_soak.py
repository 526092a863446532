"""Concurrency soak (issue 9, PostgreSQL): writer processes send product bulk upserts with
overlapping keys while tree processes create, move and delete the categories those products
live in. Nothing may be duplicated or lost, no 5xx or deadlock may reach a client, refusals are
the documented business errors, and the tree keeps its invariants.

The normal suite runs a reduced size; ``make soak`` runs 8 writers x 25 rounds x 500 items
(``SOAK_PROCESSES``, ``SOAK_ROUNDS``, ``SOAK_ITEMS``, ``SOAK_TREE_WORKERS``,
``SOAK_CATEGORIES`` set the size).
"""

from __future__ import annotations

import os
import time
from collections import Counter, defaultdict

import pytest

from catalogue.models import Product, ProductAttribute, ProductSource
from taxonomy.models import Category, CategorySource
from tests.api import bulk_workers as workers
from tests.taxonomy.treecheck import assert_mptt_agrees, assert_tree_consistent

SOURCE = workers.SOURCE


def size(name: str, default: int) -> int:
    return int(os.environ.get(f"SOAK_{name}", default))


# What the tree workers may be answered: anything else (a 5xx above all) fails the soak.
MOVES = [f"move {p}" for p in workers.MOVE_POSITIONS] + [
    f"move root {p}" for p in workers.MOVE_POSITIONS[:2]
]
TREE_ANSWERS = {
    "create 201",
    "create 404 30007",  # its parent was deleted by the other tree worker
    *(f"{move} 200" for move in MOVES),
    *(f"{move} 404 30006" for move in MOVES),  # the other tree worker deleted it
    *(f"move {p} 404 30007" for p in workers.MOVE_POSITIONS),  # ... or the target
    *(f"move {p} 422 30009" for p in workers.MOVE_POSITIONS),  # target inside its own subtree
    *(
        f"{delete} {answer}"
        for delete in ("delete", "delete other")
        for answer in (
            "200",
            "404 30006",  # already deleted by the other tree worker
            "409 30008",  # holds products or children by now
        )
    ),
    "delete stable 409 30008",  # a stable category always holds its seed product
}


def seed(api, categories: int) -> None:
    """Stable categories ``P-0``… (three roots, the rest two below each earlier one), each
    holding one ``SEED`` product so that it can never be deleted."""
    response = api.post(
        "/v2/categories/bulk/sourceId",
        {
            "categories": [
                {
                    "source": SOURCE,
                    "sourceId": workers.stable_category(n),
                    "names": [{"language": "EN", "value": f"Stable {n}"}],
                    "parent": None
                    if n < 3
                    else {"source": SOURCE, "sourceId": workers.stable_category((n - 3) // 2)},
                }
                for n in range(categories)
            ]
        },
    )
    assert response.status_code == 200 and response.json()["summary"]["create"] == categories
    response = api.post(
        "/v2/products/bulk/sourceId",
        {
            "products": [
                {
                    "source": "SEED",
                    "sourceId": f"seed-{n}",
                    "names": [{"language": "EN", "value": f"Seed {n}"}],
                    "parent": {"source": SOURCE, "sourceId": workers.stable_category(n)},
                }
                for n in range(categories)
            ]
        },
    )
    assert response.status_code == 200 and response.json()["summary"]["create"] == categories


def run(token: str, config: dict, processes: int, tree_workers: int) -> tuple[list, list, float]:
    ctx = workers.spawn_context()
    barrier, stop = ctx.Barrier(processes), ctx.Event()
    writer_queue, tree_queue = ctx.Queue(), ctx.Queue()
    latest = ctx.Array("i", [-1] * tree_workers)
    started = time.monotonic()
    trees = workers.start(
        ctx,
        workers.soak_tree,
        [(token, config, t, latest, stop, tree_queue) for t in range(tree_workers)],
    )
    writers = workers.start(
        ctx,
        workers.soak_writer,
        [(token, config, w, latest, barrier, writer_queue) for w in range(processes)],
    )
    try:
        writer_reports = workers.collect(writer_queue, writers, timeout=3 * 3600)
        duration = time.monotonic() - started
        stop.set()
        tree_reports = workers.collect(tree_queue, trees, timeout=600)
    finally:
        stop.set()
        for process in trees + writers:
            if process.is_alive():
                process.terminate()
    return writer_reports, tree_reports, duration


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_soak_bulk_upserts_against_category_moves_and_deletes(client_with_scopes):
    processes, rounds, items = size("PROCESSES", 4), size("ROUNDS", 5), size("ITEMS", 200)
    tree_workers, categories = size("TREE_WORKERS", 2), size("CATEGORIES", 12)
    api = client_with_scopes("bulk:write", "products:write", "categories:write")
    seed(api, categories)
    config = {"rounds": rounds, "items": items, "categories": categories, "min_tree_rounds": 8}
    writer_reports, tree_reports, duration = run(api.token, config, processes, tree_workers)

    # --- what the clients were answered
    statuses: Counter[str] = Counter()
    for report in writer_reports + tree_reports:
        statuses.update(report["statuses"])
    by_status: Counter[int] = Counter()
    for answer, count in statuses.items():  # "<operation> <status> [<error code>]"
        by_status[next(int(word) for word in answer.split() if word.isdigit())] += count
    assert max(by_status) < 500, statuses
    bulk_answers = {s for r in writer_reports for s in r["statuses"]}
    assert bulk_answers == {"bulk 200"}, statuses  # no 5xx, no deadlock, no request error
    tree_answers = {s for r in tree_reports for s in r["statuses"]}
    assert tree_answers <= TREE_ANSWERS, statuses
    assert {"create 201", "delete 200", "delete stable 409 30008"} <= tree_answers
    for position in workers.MOVE_POSITIONS:  # every position was tried
        assert any(s.startswith(f"move {position} ") for s in tree_answers), position

    # --- item outcomes: each key created once; the only refusal is a fresh parent gone
    writes: dict[str, list[tuple[int, int, str]]] = defaultdict(list)
    actions: Counter[str] = Counter()
    created: Counter[str] = Counter()
    sent: set[str] = set()
    for report in writer_reports:
        for round_, result in enumerate(report["rounds"]):
            assert len(result["items"]) == items, result["body"]
            for key, parent, outcome_key, action, code in result["items"]:
                assert outcome_key == key
                sent.add(key)
                actions[action if code is None else f"error {code}"] += 1
                if action == "error":
                    # documented (30007): a fresh category deleted before or during the request
                    assert code == 30007 and parent.startswith("V"), (key, parent, code)
                    continue
                assert action in ("create", "update"), (key, action)
                created[key] += action == "create"
                writes[key].append((round_, report["writer"], parent))
    assert set(created) == set(writes) and set(created.values()) == {1}

    # --- the catalogue: no duplicate, nothing lost, every key holds its last write
    links = list(ProductSource.objects.filter(source=SOURCE).values_list("source_id", "product_id"))
    assert len(links) == len({key for key, _ in links}) == len(writes)  # no duplicate pair
    assert {key for key, _ in links} == set(writes)  # every written key, nothing else
    assert Product.objects.count() == len(writes) + categories  # + the seed products
    category_of = dict(
        CategorySource.objects.filter(source=SOURCE).values_list("source_id", "category_id")
    )
    product_of = dict(links)
    rows = {p["id"]: p for p in Product.objects.values("id", "sku", "description_en", "parent_id")}
    tags: dict[int, dict[str, int]] = defaultdict(dict)
    for product_id, name, value in ProductAttribute.objects.filter(
        name__in=("WRITER", "ROUND")
    ).values_list("product_id", "name", "value"):
        tags[product_id][name] = value
    for key, history in writes.items():
        product = rows[product_of[key]]
        writer, round_ = tags[product["id"]]["WRITER"], tags[product["id"]]["ROUND"]
        last = max(r for r, _, _ in history)
        # rounds are in step (a barrier), so the last round's write wins; within a round one
        # of the writers that wrote the key, whole (never a mix of two writes)
        assert round_ == last, (key, round_, history)
        parents = {w: parent for r, w, parent in history if r == last}
        assert writer in parents, (key, writer, history)
        assert product["sku"] == f"{writer}:{key}"
        assert product["description_en"] == f"written by {writer} in {round_}"
        assert product["parent_id"] == category_of[parents[writer]], (key, history)

    # --- the tree: the categories the tree workers kept, invariants, no dangling parent
    deleted = {name for r in tree_reports for name in r["deleted"]}
    alive = {name for r in tree_reports for name in r["alive"]} - deleted
    stable = {workers.stable_category(n) for n in range(categories)}
    assert set(category_of) == stable | alive and not deleted & set(category_of)
    assert not Product.objects.filter(parent__isnull=True).exists()
    assert not Product.objects.exclude(parent__in=Category.objects.all()).exists()
    assert_tree_consistent()
    assert_mptt_agrees()

    retries: Counter[str] = Counter()
    for report in writer_reports:
        retries.update(report["retries"])
    figures = {
        "size": f"{processes} writers x {rounds} rounds x {items} items, "
        f"{tree_workers} tree workers, {categories} stable categories",
        "duration (s)": round(duration, 1),
        "requests": sum(statuses.values()),
        "by status": dict(sorted(by_status.items())),
        "answers": dict(sorted(statuses.items())),
        "items sent": sum(actions.values()),
        "item outcomes": dict(sorted(actions.items())),
        "distinct keys sent / written": f"{len(sent)} / {len(writes)}",
        "moves": sum(n for s, n in statuses.items() if s.startswith("move")),
        "deletes": sum(n for s, n in statuses.items() if s.startswith("delete")),
        "fresh deletes (done / refused 30008 / gone 30006)": " / ".join(
            str(sum(statuses[f"{d} {a}"] for d in ("delete", "delete other")))
            for a in ("200", "409 30008", "404 30006")
        ),
        "stable deletes refused": statuses["delete stable 409 30008"],
        "categories created / deleted / kept": f"{statuses['create 201']} / {len(deleted)} / "
        f"{len(alive)}",
        "bulk retries by cause": dict(retries),
    }
    print("\nsoak figures:")
    for name, value in figures.items():
        print(f"  {name}: {value}")
