from __future__ import annotations

import contextlib
import random
import threading

import pytest
from django.db import connection

from config.api import errors
from taxonomy import services
from taxonomy.models import Category
from taxonomy.selectors import tree_problems
from tests.resources import statements_of
from tests.taxonomy.factories import build_tree


def flatten(nodes, depth=0):
    for node in nodes:
        yield node["id"], node["level"], depth
        yield from flatten(node["children"], depth + 1)


@pytest.mark.django_db
def test_tree_of_2000_nodes_depth_6_returns_every_node_once_in_constant_queries(api):
    def tree(**params):
        response = api.get("/v2/categories/tree", params)
        assert response.status_code == 200, response.content
        return response.json()["data"]

    # each count is of the request alone, after the same request warmed the worker: what ran
    # before in this process (under xdist, any test) cannot change it
    small = build_tree(20, fanout=5, max_level=5)
    few, data = statements_of(lambda: tree(root=small[0].pk))
    assert len(list(flatten(data))) == 20

    big = build_tree(2000, fanout=5, max_level=5)
    assert tree_problems() == []
    many, data = statements_of(lambda: tree(root=big[0].pk))
    nodes = list(flatten(data))
    ids = [node_id for node_id, _, _ in nodes]
    assert len(ids) == 2000 and set(ids) == {c.pk for c in big}
    assert {level for _, level, _ in nodes} == set(range(6))
    assert all(level == depth for _, level, depth in nodes)
    assert many == few

    forest, data = statements_of(tree)
    ids = [node_id for node_id, _, _ in flatten(data)]
    assert len(ids) == len(set(ids)) == 2020
    assert forest <= few

    shallow = tree(root=big[0].pk, depth=2)
    assert len(list(flatten(shallow))) == 1 + 5 + 25


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_creates_and_moves_keep_the_tree_sound():
    """Two writers with their own connections create and move categories in one tree at once
    (without the tree lock the spike saw 18 duplicate positions)."""
    root = services.category_create(data={"name": {"en": "Root"}})
    seeds = [
        services.category_create(data={"name": {"en": f"Seed {i}"}, "parent": {"id": root.pk}}).pk
        for i in range(4)
    ]
    barrier = threading.Barrier(2)
    failures: list[BaseException] = []
    created: list[int] = []

    def writer(number: int) -> None:
        rng = random.Random(number)
        mine: list[int] = []
        try:
            barrier.wait(10)
            for i in range(60):
                parent = rng.choice([root.pk, *seeds, *mine])
                category = services.category_create(
                    data={"name": {"en": f"W{number}-{i}"}, "parent": {"id": parent}}
                )
                mine.append(category.pk)
                if i % 2:
                    with contextlib.suppress(errors.CategoryCycle):
                        services.category_move(
                            category_id=rng.choice(mine),
                            target={"id": rng.choice([*seeds, *mine])},
                            position=rng.choice(services.POSITIONS),
                        )
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            failures.append(exc)
        finally:
            created.extend(mine)
            connection.close()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert failures == []
    assert len(created) == 120
    assert Category.objects.count() == 125
    assert tree_problems() == []
