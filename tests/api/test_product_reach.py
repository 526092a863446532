"""The scope rule for products reached through clusters and options (SPEC §11, §12), generated
from the route table like the scope matrix: every write route that can touch a product (a
``products`` segment in its path, or a body that carries products) is listed by reading the
route tables, and each must have an attack below. With every scope but ``products:write`` the
attack leaves a product that was not a member of the cluster exactly as it was (row, version,
sources, attributes, cluster membership, existence); with ``products:write`` too, the routes
that may move or change such a product do so.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from catalogue.models import Product, ProductAttribute, ProductSource
from clusters.models import (
    Cluster,
    ClusterOption,
    ClusterOptionSource,
    ClusterProduct,
    OptionProduct,
)
from config.api.bulk_views import BulkBody
from config.api.routing import api_views
from config.api.scopes import ALL_SCOPES
from records.bulk_records import plain
from tests.catalogue.factories import ProductFactory, ProductSourceFactory
from tests.clusters.factories import (
    ClusterFactory,
    ClusterOptionFactory,
    ClusterSourceFactory,
    OptionProductFactory,
    members,
)
from tests.conftest import envelope_error
from tests.taxonomy.factories import CategoryFactory

pytestmark = pytest.mark.django_db

WITHOUT = tuple(s for s in ALL_SCOPES if s != "products:write")


# --- which routes can touch a product: read from the route tables ------------------------------


def _carries_products(schema: Any, seen: set[int] | None = None) -> bool:
    """Whether a request schema has a ``products`` field anywhere (nested items included)."""
    seen = set() if seen is None else seen
    if schema is None or id(schema) in seen:
        return False
    seen.add(id(schema))
    if isinstance(schema, BulkBody):
        resource = schema.resource
        return resource.items_key == "products" or _carries_products(resource.schema, seen)
    fields = {
        name: f for name, f in (getattr(schema, "fields", None) or {}).items() if not f.read_only
    }
    if "products" in fields:
        return True
    children = [
        *fields.values(),
        getattr(schema, "item", None),
        getattr(schema, "item_schema", None),
    ]
    return any(_carries_products(child, seen) for child in children)


def product_routes() -> set[tuple[str, str]]:
    """Write routes outside ``/v2/products`` (whose own scope is products:write) that name
    products in their path or body."""
    found = set()
    for path, view in api_views():
        if path.startswith("/v2/products"):
            continue
        for method, op in view.operations.items():
            if not any(scope.endswith(":write") for scope in op.scopes):
                continue
            if "products" in path.split("/") or _carries_products(op.request):
                found.add((method, path))
    return found


# --- the world each attack runs in ----------------------------------------------------------------


@dataclass
class World:
    """``cluster`` (the token may write every cluster) with a ``member`` and two options; the
    ``victim`` lives outside it — in a category, or in another cluster as its default product —
    and is selectable (and the default) in ``option``."""

    cluster: Cluster
    member: Product
    option: ClusterOption
    spare_option: ClusterOption
    victim: Product
    category: Any
    other_category: Any


def build(home: str) -> World:
    category, other_category = CategoryFactory(), CategoryFactory()
    cluster = ClusterFactory()
    ClusterSourceFactory(cluster=cluster, source="ERP", source_id="C-1")
    [member] = members(cluster, 1)
    if home == "category":
        victim = ProductFactory(parent=category)
    else:
        theirs = ClusterFactory()
        [victim] = members(theirs, 1)
        theirs.default_product = victim
        theirs.save()
    ProductSourceFactory(product=victim, source="ERP", source_id="V-1")
    ProductAttribute.objects.create(product=victim, position=0, name="colour", value="red")
    option = ClusterOptionFactory(cluster=cluster)
    OptionProductFactory(option=option, product=victim, position=1)
    option.default_product = victim
    option.save()
    spare = ClusterOptionFactory(cluster=cluster)
    return World(cluster, member, option, spare, victim, category, other_category)


def snapshot(product_id: int) -> tuple:
    """Everything of a product a write could change (None: it was deleted)."""
    row = plain(Product).filter(pk=product_id).values().first()
    sources = sorted(
        ProductSource.objects.filter(product_id=product_id).values_list("source", "source_id")
    )
    attributes = list(
        ProductAttribute.objects.filter(product_id=product_id)
        .order_by("position")
        .values_list("name", "value")
    )
    home = (
        ClusterProduct.objects.filter(product_id=product_id)
        .values_list("cluster_id", flat=True)
        .first()
    )
    return row, sources, attributes, home


def renamed(w: World) -> None:
    assert plain(Product).get(pk=w.victim.pk).name_en == "Taken"


def moved_in(w: World) -> None:
    assert ClusterProduct.objects.get(product=w.victim).cluster_id == w.cluster.pk
    assert plain(Product).get(pk=w.victim.pk).parent_id is None


def renamed_and_moved_in(w: World) -> None:
    renamed(w)
    moved_in(w)


NAMES = [{"language": "EN", "value": "Taken"}]


def url(w: World, template: str) -> str:
    return template.format(
        c=w.cluster.pk,
        o=w.option.pk,
        s=w.spare_option.pk,
        p=w.victim.pk,
        cat=w.other_category.pk,
        home=w.category.pk,
    )


@dataclass(frozen=True)
class Attack:
    """One way of reaching the victim through a route.

    ``item``: where the refusal appears in a bulk answer (a path into ``data``), or None for a
    request refused as a whole (403). ``effect``: what the route does to the victim when the
    token holds products:write too; None when the route never changes it (links, not-a-member
    errors), which is checked as well.
    """

    name: str
    template: str
    body: Callable[[World], Any] | None = None
    refused: bool = True
    item: tuple | None = None
    effect: Callable[[World], None] | None = None
    query: str = ""

    def send(self, client, method: str, w: World):
        target = url(w, self.template) + self.query
        if method == "DELETE":
            return client.delete(target)
        call = client.patch if method == "PATCH" else client.post
        return call(target, self.body(w) if self.body else {})


def _dig(body: dict, path: tuple) -> dict:
    node: Any = body["data"]
    for step in path:
        node = node[step]
    return node


def the_victim(w: World) -> dict:
    return {"products": [{"id": w.victim.pk}]}


CLUSTERS = "/v2/clusters/{lookup_key}/{lookup_value}"
OPTIONS = "/v2/clusteroptions/{lookup_key}/{lookup_value}"
CATEGORIES = "/v2/categories/{lookup_key}/{lookup_value}"

ATTACKS: dict[tuple[str, str], list[Attack]] = {
    ("POST", f"{CATEGORIES}/add-products-clusters"): [
        Attack(
            "secondary link (relationships:write, not a product write)",
            "/v2/categories/id/{cat}/add-products-clusters",
            the_victim,
            refused=False,
        )
    ],
    ("POST", f"{CATEGORIES}/remove-products-clusters"): [
        Attack(
            "unlink from the primary category",
            "/v2/categories/id/{home}/remove-products-clusters",
            the_victim,
            refused=False,
        )
    ],
    ("POST", "/v2/clusters/bulk/{lookupKey}"): [
        Attack(
            "nested product with fields",
            "/v2/clusters/bulk/id",
            lambda w: {
                "clusters": [
                    {"id": w.cluster.pk, "products": [{"id": w.victim.pk, "names": NAMES}]}
                ]
            },
            item=(0, "products", 0),
            effect=renamed_and_moved_in,
        ),
        Attack(
            "nested product, key only (a move)",
            "/v2/clusters/bulk/id",
            lambda w: {"clusters": [{"id": w.cluster.pk, "products": [{"id": w.victim.pk}]}]},
            item=(0, "products", 0),
            effect=moved_in,
        ),
        Attack(
            "new cluster pulling the product in",
            "/v2/clusters/bulk/sourceId",
            lambda w: {
                "clusters": [
                    {
                        "source": "ERP",
                        "sourceId": "C-NEW",
                        "names": [{"language": "EN", "value": "New"}],
                        "clusterConfig": {"id": w.cluster.cluster_config_id},
                        "products": [{"source": "ERP", "sourceId": "V-1"}],
                    }
                ]
            },
            item=(0, "products", 0),
            effect=lambda w: ClusterProduct.objects.get(
                product=w.victim, cluster__sources__source_id="C-NEW"
            ),
        ),
        Attack(
            "nested option product with fields",
            "/v2/clusters/bulk/id",
            lambda w: {
                "clusters": [
                    {
                        "id": w.cluster.pk,
                        "options": [
                            {"id": w.option.pk, "products": [{"id": w.victim.pk, "names": NAMES}]}
                        ],
                    }
                ]
            },
            item=(0, "options", 0, "products", 0),
            effect=renamed,
        ),
        Attack(
            "nested option product removal",
            "/v2/clusters/bulk/id",
            lambda w: {
                "clusters": [
                    {
                        "id": w.cluster.pk,
                        "options": [
                            {
                                "id": w.option.pk,
                                "products": [{"id": w.victim.pk, "action": "remove"}],
                            }
                        ],
                    }
                ]
            },
            refused=False,
        ),
    ],
    ("POST", f"{CLUSTERS}/products/bulk"): [
        Attack(
            "item with fields",
            "/v2/clusters/id/{c}/products/bulk",
            lambda w: {"products": [{"id": w.victim.pk, "names": NAMES}]},
            item=(0,),
            effect=renamed_and_moved_in,
        ),
        Attack(
            "source pair key only (a move)",
            "/v2/clusters/sourceId/C-1/products/bulk",
            lambda w: {"products": [{"source": "ERP", "sourceId": "V-1"}]},
            query="?source=ERP",
            item=(0,),
            effect=moved_in,
        ),
        Attack(
            "removal of a product outside",
            "/v2/clusters/id/{c}/products/bulk",
            lambda w: {"products": [{"id": w.victim.pk, "action": "remove"}]},
            refused=False,
        ),
    ],
    ("POST", f"{CLUSTERS}/options/bulk"): [
        Attack(
            "products nested in an option item",
            "/v2/clusters/id/{c}/options/bulk",
            lambda w: {
                "options": [{"id": w.option.pk, "products": [{"id": w.victim.pk, "names": NAMES}]}]
            },
            refused=False,
        )
    ],
    ("POST", f"{OPTIONS}/products/bulk"): [
        Attack(
            "item with fields",
            "/v2/clusteroptions/id/{o}/products/bulk",
            lambda w: {"products": [{"id": w.victim.pk, "names": NAMES, "status": "P"}]},
            item=(0,),
            effect=renamed,
        ),
        Attack(
            "item with a new source pair",
            "/v2/clusteroptions/id/{s}/products/bulk",
            lambda w: {
                "products": [{"id": w.victim.pk, "sources": [{"source": "X", "sourceId": "1"}]}]
            },
            item=(0,),
            effect=lambda w: ProductSource.objects.get(product=w.victim, source="X"),
        ),
        Attack(
            "removal (unselects, never deletes)",
            "/v2/clusteroptions/id/{o}/products/bulk",
            lambda w: {"products": [{"id": w.victim.pk, "action": "remove"}]},
            refused=False,
        ),
        Attack(
            "key only (selects)",
            "/v2/clusteroptions/id/{s}/products/bulk",
            the_victim,
            refused=False,
        ),
    ],
    ("POST", f"{CLUSTERS}/products"): [
        Attack(
            "create taking the product's source pair",
            "/v2/clusters/id/{c}/products",
            lambda w: {"names": NAMES, "sources": [{"source": "ERP", "sourceId": "V-1"}]},
            refused=False,
        )
    ],
    ("POST", f"{CLUSTERS}/products/assign"): [
        Attack(
            "assign",
            "/v2/clusters/id/{c}/products/assign",
            the_victim,
            effect=moved_in,
        )
    ],
    ("POST", f"{CLUSTERS}/products/unassign"): [
        Attack(
            "unassign of a product outside",
            "/v2/clusters/id/{c}/products/unassign",
            lambda w: {
                "products": [{"id": w.victim.pk}],
                "target": {"category": {"id": w.other_category.pk}},
            },
            refused=False,
        )
    ],
    ("PATCH", f"{CLUSTERS}/products/{{product_id}}"): [
        Attack(
            "patch through the cluster",
            "/v2/clusters/id/{c}/products/{p}",
            lambda w: {"names": NAMES},
            refused=False,
        )
    ],
    ("DELETE", f"{CLUSTERS}/products/{{product_id}}"): [
        Attack(
            "delete through the cluster",
            "/v2/clusters/id/{c}/products/{p}",
            refused=False,
        )
    ],
    ("POST", f"{OPTIONS}/products/assign"): [
        Attack(
            "select",
            "/v2/clusteroptions/id/{s}/products/assign",
            the_victim,
            refused=False,
        )
    ],
    ("POST", f"{OPTIONS}/products/unassign"): [
        Attack(
            "unselect",
            "/v2/clusteroptions/id/{o}/products/unassign",
            the_victim,
            refused=False,
        )
    ],
}


def test_every_route_that_can_touch_a_product_has_an_attack():
    found = product_routes()
    assert found == set(ATTACKS), (
        f"routes without an attack: {sorted(found - set(ATTACKS))}; "
        f"attacks of no route: {sorted(set(ATTACKS) - found)}"
    )


def attacks():
    for (method, path), variants in ATTACKS.items():
        for attack in variants:
            for home in ("category", "other cluster"):
                name = f"{method} {path} · {attack.name} · {home}"
                yield pytest.param(method, attack, home, id=name)


@pytest.mark.parametrize(("method", "attack", "home"), list(attacks()))
def test_a_product_outside_the_cluster_needs_products_write(
    client_with_scopes, method, attack, home
):
    w = build(home)
    before = snapshot(w.victim.pk)

    response = attack.send(client_with_scopes(*WITHOUT), method, w)
    assert response.status_code < 500, response.content
    if attack.refused and attack.item is None:
        error = envelope_error(response, 403, 10002)
        assert "products:write" in error["messages"][0]
    elif attack.refused:
        assert response.status_code == 200, response.content
        outcome = _dig(response.json(), attack.item)
        assert outcome["action"] == "error" and outcome["error"]["code"] == 10002, outcome
        assert "products:write" in outcome["error"]["messages"][0]
    assert snapshot(w.victim.pk) == before, "a token without products:write changed the product"

    response = attack.send(client_with_scopes(*ALL_SCOPES), method, w)
    assert response.status_code < 500, response.content
    if attack.effect is None:
        assert snapshot(w.victim.pk) == before, "this route never changes a product from outside"
        return
    assert response.status_code == 200, response.content
    if attack.item is not None:
        outcome = _dig(response.json(), attack.item)
        assert outcome["success"] is True, outcome
    attack.effect(w)
    after = snapshot(w.victim.pk)
    assert after[0]["version"] > before[0]["version"]


def test_assign_documents_both_scopes(anonymous):
    schema = anonymous.get("/v2/schema/").json()
    assign = schema["paths"]["/v2/clusters/{lookup_key}/{lookup_value}/products/assign"]["post"]
    assert assign["security"] == [{"oauth2": ["clusters:write", "products:write"]}]


def test_the_table_finds_the_cluster_and_option_routes():
    found = {path for _, path in product_routes()}
    assert f"{OPTIONS}/products/bulk" in found
    assert "/v2/clusters/bulk/{lookupKey}" in found
    assert f"{CLUSTERS}/products/{{product_id}}" in found


# --- what clusters:write and cluster-options:write keep reaching ----------------------------------


def test_members_stay_in_reach_of_clusters_write_alone(client_with_scopes):
    """Create inside, PATCH, bulk items and DELETE of the cluster's own members need no
    products:write; a removed member that was the default clears the cluster's default."""
    w = build("category")
    client = client_with_scopes("clusters:write", "bulk:write")
    base = f"/v2/clusters/id/{w.cluster.pk}/products"

    created = client.post(base, {"names": NAMES})
    assert created.status_code == 201, created.content
    new_id = created.json()["data"]["id"]
    assert ClusterProduct.objects.get(product_id=new_id).cluster_id == w.cluster.pk

    patched = client.patch(f"{base}/{w.member.pk}", {"names": [{"language": "EN", "value": "M"}]})
    assert patched.status_code == 200, patched.content
    assert patched.json()["data"]["names"][0]["value"] == "M"

    body = client.post(
        f"{base}/bulk", {"products": [{"id": w.member.pk, "names": NAMES}, {"id": new_id}]}
    ).json()
    assert [o["action"] for o in body["data"]] == ["update", "skip"], body
    nested = client.post(
        "/v2/clusters/bulk/id",
        {"clusters": [{"id": w.cluster.pk, "products": [{"id": w.member.pk, "status": "P"}]}]},
    ).json()
    assert nested["data"][0]["products"][0]["action"] == "update", nested
    assert plain(Product).get(pk=w.member.pk).status == "P"

    w.cluster.default_product_id = new_id
    w.cluster.save()
    version = Cluster.objects.get(pk=w.cluster.pk).version
    removed = client.post(f"{base}/bulk", {"products": [{"id": new_id, "action": "remove"}]})
    assert removed.status_code == 200, removed.content
    assert removed.json()["data"][0]["action"] == "remove"
    assert not Product.objects.filter(pk=new_id).exists()
    cluster = Cluster.objects.get(pk=w.cluster.pk)
    assert cluster.default_product_id is None and cluster.version == version + 1

    deleted = client.delete(f"{base}/{w.member.pk}")
    assert deleted.status_code == 200, deleted.content
    assert not Product.objects.filter(pk=w.member.pk).exists()


def test_option_products_bulk_without_products_write(client_with_scopes):
    """Selecting existing products needs no products:write and leaves them unchanged; items
    creating products or carrying product fields fail with 10002 and write nothing of
    themselves; remove unselects (clearing the option's default) and deletes nothing."""
    w = build("category")
    client = client_with_scopes("cluster-options:write", "bulk:write")
    plain_product, touched = ProductFactory(), ProductFactory()
    ProductSourceFactory(product=plain_product, source="ERP", source_id="S-1")
    before = {p.pk: snapshot(p.pk) for p in (plain_product, touched)}
    option_version = ClusterOption.objects.get(pk=w.option.pk).version
    products = Product.objects.count()

    # the option by its source pair: items are keyed by source pair, so an unmatched one creates
    ClusterOptionSource.objects.create(option=w.option, source="ERP", source_id="O-1")
    response = client.post(
        "/v2/clusteroptions/sourceId/O-1/products/bulk?source=ERP",
        {
            "products": [
                {"source": "ERP", "sourceId": "S-1"},
                {"source": "ERP", "sourceId": "NEW-1", "names": NAMES},
                {"source": "ERP", "sourceId": "V-1", "action": "remove"},
            ]
        },
    )
    assert response.status_code == 200, response.content
    outcomes = response.json()["data"]
    assert [o["action"] for o in outcomes] == ["update", "error", "remove"], outcomes
    assert outcomes[1]["error"]["code"] == 10002
    assert "products:write" in outcomes[1]["error"]["messages"][0]
    assert Product.objects.count() == products  # nothing created, nothing deleted

    response = client.post(
        f"/v2/clusteroptions/id/{w.option.pk}/products/bulk",
        {"products": [{"id": touched.pk, "status": "P"}]},
    )
    outcome = response.json()["data"][0]
    assert outcome["action"] == "error" and outcome["error"]["code"] == 10002, outcome

    selectable = list(
        OptionProduct.objects.filter(option=w.option).values_list("product_id", flat=True)
    )
    assert selectable == [plain_product.pk]  # selected; victim unselected; touched not
    assert {p: snapshot(p) for p in before} == before  # the products themselves unchanged
    assert Product.objects.filter(pk=w.victim.pk).exists()
    option = ClusterOption.objects.get(pk=w.option.pk)
    assert option.default_product_id is None and option.version == option_version + 1


def test_option_products_bulk_with_products_write_changes_and_selects(client_with_scopes):
    w = build("category")
    client = client_with_scopes("cluster-options:write", "bulk:write", "products:write")
    product = ProductFactory()
    response = client.post(
        f"/v2/clusteroptions/id/{w.spare_option.pk}/products/bulk",
        {"products": [{"id": product.pk, "status": "P"}, {"id": w.victim.pk, "action": "remove"}]},
    )
    outcomes = response.json()["data"]
    assert [o["action"] for o in outcomes] == ["update", "error"], outcomes
    assert outcomes[1]["error"]["code"] == 22008  # not selectable there: nothing to unselect
    assert plain(Product).get(pk=product.pk).status == "P"
    assert OptionProduct.objects.filter(option=w.spare_option, product=product).exists()
    removed = client.post(
        f"/v2/clusteroptions/id/{w.option.pk}/products/bulk",
        {"products": [{"id": w.victim.pk, "action": "remove"}]},
    ).json()["data"][0]
    assert removed["action"] == "remove", removed
    assert Product.objects.filter(pk=w.victim.pk).exists()  # never deleted, whatever the scopes


@pytest.mark.parametrize("dry_run", [False, True])
def test_bulk_removal_of_a_default_product_clears_the_defaults(api, dry_run):
    """Was a 500 after 8 retries: the defaults' foreign keys were not cleared before the delete."""
    w = build("category")
    w.cluster.default_product = w.member
    w.cluster.save()
    w.spare_option.default_product = w.member
    w.spare_option.save()
    OptionProductFactory(option=w.spare_option, product=w.member, position=1)
    query = "?dryRun=true" if dry_run else ""
    response = api.post(
        f"/v2/products/bulk/id{query}",
        {
            "products": [
                {"id": w.member.pk, "action": "remove"},
                {"id": w.victim.pk, "action": "remove"},
            ]
        },
    )
    assert response.status_code == 200, response.content
    assert [o["action"] for o in response.json()["data"]] == ["remove", "remove"]
    gone = not Product.objects.filter(pk__in=[w.member.pk, w.victim.pk]).exists()
    assert gone is not dry_run
    cluster = Cluster.objects.get(pk=w.cluster.pk)
    option, spare = (ClusterOption.objects.get(pk=o.pk) for o in (w.option, w.spare_option))
    expected = None if not dry_run else w.member.pk
    assert cluster.default_product_id == expected and spare.default_product_id == expected
    assert option.default_product_id == (None if not dry_run else w.victim.pk)
