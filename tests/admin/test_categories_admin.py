"""The category back office: the draggable tree, moves and deletes through the locked services,
the form (tabs per language, parent by autocomplete)."""

from __future__ import annotations

import json
import re
from html import unescape
from unittest import mock

import pytest
from django.contrib.admin.models import CHANGE, DELETION, LogEntry
from django.contrib.staticfiles import finders
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalogue.models import ProductCategory
from taxonomy import services
from taxonomy.models import Category, CategorySource
from taxonomy.selectors import tree_problems
from tests.admin.conftest import changeform_data
from tests.catalogue.factories import ProductFactory
from tests.taxonomy.factories import CategoryFactory, CategorySourceFactory, build_tree

pytestmark = pytest.mark.django_db

LIST = "/admin/taxonomy/category/"
ADD = "/admin/taxonomy/category/add/"


def change_url(category) -> str:
    return f"/admin/taxonomy/category/{category.pk}/change/"


def delete_url(category) -> str:
    return f"/admin/taxonomy/category/{category.pk}/delete/"


def listed(response) -> list[int]:
    return [c.pk for c in response.context["cl"].result_list]


def messages_of(response) -> list[tuple[str, str]]:
    return [(m.level_tag, str(m)) for m in response.context["messages"]]


def tree_context(response) -> dict:
    """The JSON the drag-and-drop script reads from its own <script> tag."""
    match = re.search(
        r'<script[^>]*data-context="([^"]*)"[^>]*id="draggable-admin-context"',
        response.content.decode(),
    )
    assert match, "the draggable tree script is missing"
    return json.loads(unescape(match.group(1)))


def shape(*categories) -> list[tuple[int | None, int]]:
    """(parent id, level) of each category, freshly read."""
    for category in categories:
        category.refresh_from_db()
    return [(c.parent_id, c.level) for c in categories]


def in_tree_order() -> list[int]:
    return list(Category.objects.order_by("tree_id", "lft").values_list("pk", flat=True))


# -- the tree change list ------------------------------------------------------------------------


def test_changelist_is_the_indented_draggable_tree(admin_client):
    root = CategoryFactory(name_en="Clothing")
    child = CategoryFactory(name_en="Jackets", parent=root)
    grandchild = CategoryFactory(name_en="Rain Jackets", parent=child)
    other = CategoryFactory(name_en="Shoes")
    response = admin_client.get(LIST)
    assert listed(response) == [root.pk, child.pk, grandchild.pk, other.pk]
    html = response.content.decode()
    assert 'style="text-indent: 20px">Jackets<' in html
    assert 'style="text-indent: 40px">Rain Jackets<' in html
    assert (
        f'<div class="drag-handle"></div><div class="tree-node" data-pk="{child.pk}" data-level="1">'
        in html
    )
    context = tree_context(response)
    assert context["treeStructure"] == {
        "0": [root.pk, other.pk],
        str(root.pk): [child.pk],
        str(child.pk): [grandchild.pk],
    }
    assert context["expandTreeByDefault"] is True


def test_tree_scripts_and_styles_are_served_locally(admin_client):
    CategoryFactory.create_batch(2)
    html = admin_client.get(LIST).content.decode()
    assets = re.findall(r'<(?:script|link)[^>]+(?:src|href)="([^"]+)"', html)
    assert "/static/mptt/draggable-admin.js" in assets
    assert "/static/mptt/draggable-admin.css" in assets
    assert all(asset.startswith("/static/") for asset in assets), assets  # no CDN
    for asset in (
        "mptt/draggable-admin.js",
        "mptt/draggable-admin.css",
        "mptt/arrow-move-black.png",
    ):
        assert finders.find(asset), asset


def test_changelist_costs_the_same_for_a_big_tree(admin_client):
    """The page and the script's tree structure come from the page's rows: no query reads the
    whole tree (mptt's own admin reads every (pk, parent) for the script)."""
    build_tree(12, fanout=3, max_level=3)
    with CaptureQueriesContext(connection) as small:
        assert admin_client.get(LIST).status_code == 200
    build_tree(1200, fanout=4, max_level=6)
    with CaptureQueriesContext(connection) as big:
        response = admin_client.get(LIST)
    assert len(big) == len(small) <= 12
    page = response.context["cl"].result_list
    assert len(page) == 250
    assert sum(len(ids) for ids in tree_context(response)["treeStructure"].values()) == 250
    # rows are only ever read a page at a time (counts and the planner's estimate read none)
    assert all(
        "LIMIT" in q["sql"]
        for q in big
        if 'FROM "taxonomy_category"' in q["sql"]
        and not q["sql"].startswith(("SELECT COUNT", "EXPLAIN"))
    )


def test_changelist_stays_in_tree_order_whatever_the_sort_parameter(admin_client):
    b = CategoryFactory(name_en="B", priority=1)
    a = CategoryFactory(name_en="A", parent=b, priority=9)
    response = admin_client.get(LIST, {"o": "-6"})
    assert listed(response) == [b.pk, a.pk]
    assert (
        "sortable"
        not in response.content.decode().split('id="result_list"')[1].split("</thead>")[0]
    )


def test_subtree_filter_and_search(admin_client):
    root = CategoryFactory()
    child = CategoryFactory(parent=root, name_nl="Jassen")
    CategoryFactory()
    response = admin_client.get(LIST, {"category": root.pk})
    assert [c.pk for c in response.context["cl"].result_list] == [root.pk, child.pk]
    response = admin_client.get(LIST, {"q": "jassen"})
    assert [c.pk for c in response.context["cl"].result_list] == [child.pk]


def test_create_a_category_with_names_in_two_languages(admin_client):
    parent = CategoryFactory()
    data = changeform_data(
        admin_client.get(ADD),
        name_en="Rain Jackets",
        name_nl="Regenjassen",
        parent=str(parent.pk),
        **{
            "sources-TOTAL_FORMS": "1",
            "sources-0-source": "PIM",
            "sources-0-source_id": "C-1",
        },
    )
    response = admin_client.post(ADD, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    category = Category.objects.get(name_en="Rain Jackets")
    assert (category.name_nl, category.slug_en, category.slug_nl) == (
        "Regenjassen",
        "rain-jackets",
        "regenjassen",
    )
    assert (category.parent_id, category.level, category.version) == (parent.pk, 1, 1)
    assert list(CategorySource.objects.values_list("source", "source_id")) == [("PIM", "C-1")]


def test_moving_a_category_through_the_form_keeps_the_tree_valid(admin_client):
    a, b = CategoryFactory(), CategoryFactory()
    child = CategoryFactory(parent=a)
    data = changeform_data(admin_client.get(change_url(a)), parent=str(b.pk))
    assert admin_client.post(change_url(a), data).status_code == 302
    a.refresh_from_db()
    child.refresh_from_db()
    b.refresh_from_db()
    assert (a.parent_id, a.version, a.level, child.level) == (b.pk, 2, 1, 2)
    assert b.lft < a.lft < child.lft < child.rght < a.rght < b.rght


def test_moving_under_a_descendant_is_a_form_error(admin_client):
    root = CategoryFactory()
    child = CategoryFactory(parent=root)
    data = changeform_data(admin_client.get(change_url(root)), parent=str(child.pk))
    response = admin_client.post(change_url(root), data)
    assert response.status_code == 200
    assert "itself or one of its descendants" in response.content.decode()
    root.refresh_from_db()
    assert root.parent_id is None and root.version == 1


def test_unchanged_save_keeps_the_version(admin_client):
    category = CategoryFactory()
    data = changeform_data(admin_client.get(change_url(category)))
    assert admin_client.post(change_url(category), data).status_code == 302
    category.refresh_from_db()
    assert category.version == 1


def test_parent_autocomplete_searches_names_in_any_language(admin_client):
    CategoryFactory(name_en="Boots", name_de="Stiefel")
    CategoryFactory(name_en="Caps")
    response = admin_client.get(
        "/admin/autocomplete/",
        {
            "term": "stief",
            "app_label": "catalogue",
            "model_name": "product",
            "field_name": "parent",
        },
    )
    assert response.status_code == 200
    assert [r["text"] for r in response.json()["results"]] == ["Boots"]


# -- drag and drop: cmd=move_node through category_move ------------------------------------------


def drop(client, category, target, position):
    """What draggable-admin.js posts when a row is dropped."""
    return client.post(
        LIST,
        {
            "cmd": "move_node",
            "cut_item": str(category.pk),
            "pasted_on": str(target.pk),
            "position": position,
        },
    )


@pytest.fixture
def forest():
    """clothing(jackets(rain), shirts), shoes"""
    clothing = CategoryFactory(name_en="Clothing")
    jackets = CategoryFactory(name_en="Jackets", parent=clothing)
    rain = CategoryFactory(name_en="Rain", parent=jackets)
    shirts = CategoryFactory(name_en="Shirts", parent=clothing)
    shoes = CategoryFactory(name_en="Shoes")
    return clothing, jackets, rain, shirts, shoes


def test_drop_inside_a_category_moves_the_subtree_under_it(admin_client, forest):
    clothing, jackets, rain, shirts, shoes = forest
    with mock.patch("taxonomy.admin.category_move", wraps=services.category_move) as spy:
        response = drop(admin_client, jackets, shoes, "last-child")
    assert response.status_code == 200
    assert response.json() == {"id": jackets.pk, "parentId": shoes.pk, "level": 1, "moved": True}
    spy.assert_called_once_with(
        category_id=jackets.pk, target={"id": shoes.pk}, position="last-child"
    )
    assert shape(jackets, rain) == [(shoes.pk, 1), (jackets.pk, 2)]
    assert in_tree_order() == [clothing.pk, shirts.pk, shoes.pk, jackets.pk, rain.pk]
    assert tree_problems() == []
    jackets.refresh_from_db()
    assert jackets.version == 2
    entry = LogEntry.objects.get()
    assert (entry.action_flag, entry.object_id) == (CHANGE, str(jackets.pk))
    assert entry.get_change_message() == "Changed parent."
    # the script reloads the page: the outcome is an admin message there
    assert messages_of(admin_client.get(LIST)) == [("success", "“Jackets” moved under “Shoes”.")]


@pytest.mark.parametrize(
    ("position", "target", "expected_order", "expected_parent"),
    [
        # mptt's positions are the service's: left = before the row, right = after it
        ("left", "jackets", ["clothing", "shirts", "jackets", "rain", "shoes"], "clothing"),
        ("right", "rain", ["clothing", "jackets", "rain", "shirts", "shoes"], "jackets"),
        ("first-child", "jackets", ["clothing", "jackets", "shirts", "rain", "shoes"], "jackets"),
        ("left", "clothing", ["shirts", "clothing", "jackets", "rain", "shoes"], None),
        ("right", "shoes", ["clothing", "jackets", "rain", "shoes", "shirts"], None),
    ],
)
def test_drop_positions_map_onto_the_service(
    admin_client, forest, position, target, expected_order, expected_parent
):
    by_name = dict(zip(["clothing", "jackets", "rain", "shirts", "shoes"], forest, strict=True))
    shirts = by_name["shirts"]
    assert drop(admin_client, shirts, by_name[target], position).status_code == 200
    names = {c.pk: name for name, c in by_name.items()}
    assert [names[pk] for pk in in_tree_order()] == expected_order
    shirts.refresh_from_db()
    assert shirts.parent_id == (by_name[expected_parent].pk if expected_parent else None)
    assert tree_problems() == []
    change = "Changed parent." if expected_parent != "clothing" else "Changed position."
    assert LogEntry.objects.get().get_change_message() == change


def test_drop_into_its_own_subtree_is_refused_with_the_service_error(admin_client, forest):
    clothing, jackets, rain, *_ = forest
    before = in_tree_order()
    response = drop(admin_client, clothing, rain, "last-child")
    assert response.status_code == 422
    body = response.json()
    assert body["moved"] is False and body["code"] == 30009
    assert "cannot be moved under category" in body["messages"][0]
    assert in_tree_order() == before and shape(clothing) == [(None, 0)]
    clothing.refresh_from_db()
    assert clothing.version == 1
    assert not LogEntry.objects.exists()
    assert messages_of(admin_client.get(LIST)) == [("error", body["messages"][0])]


@pytest.mark.parametrize(
    ("data", "status", "message"),
    [
        ({"position": "inside"}, 400, "Unknown position 'inside'"),
        ({"cut_item": "x"}, 400, "Say which category moves"),
        ({"pasted_on": "999999"}, 404, "Category with id [999999] not found."),
        ({"cut_item": "999999"}, 404, "Category with id [999999] not found."),
    ],
)
def test_bad_drops_are_refused_without_touching_the_tree(
    admin_client, forest, data, status, message
):
    clothing, jackets, *_ = forest
    before = in_tree_order()
    body = {
        "cmd": "move_node",
        "cut_item": str(jackets.pk),
        "pasted_on": str(clothing.pk),
        "position": "right",
        **data,
    }
    response = admin_client.post(LIST, body)
    assert response.status_code == status, response.content
    assert message in response.json()["messages"][0]
    assert in_tree_order() == before


def test_merchandiser_may_drag_categories(merchandiser_client, forest):
    clothing, jackets, rain, shirts, shoes = forest
    assert drop(merchandiser_client, shoes, clothing, "last-child").status_code == 200
    assert shape(shoes) == [(clothing.pk, 1)]


def test_staff_without_change_permission_cannot_drag(db, forest):
    from django.contrib.auth.models import Permission, User
    from django.test import Client

    user = User.objects.create_user("viewer", password="pw", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_category"))
    client = Client()
    client.force_login(user)
    clothing, jackets, *_ = forest
    response = drop(client, jackets, clothing, "left")
    assert response.status_code == 403
    assert shape(jackets) == [(clothing.pk, 1)]


@pytest.mark.postgres
def test_drop_takes_the_tree_lock_before_writing(admin_client, forest):
    """The same advisory lock as the API's moves, taken before mptt reads or writes positions."""
    clothing, jackets, *_ = forest
    with CaptureQueriesContext(connection) as queries:
        assert drop(admin_client, jackets, clothing, "left").status_code == 200
    sql = [q["sql"] for q in queries]
    lock = next(i for i, q in enumerate(sql) if "pg_advisory_xact_lock" in q)
    assert str(services.TREE_LOCK_KEY) in sql[lock]
    writes = [i for i, q in enumerate(sql) if q.startswith('UPDATE "taxonomy_category"')]
    reads = [i for i, q in enumerate(sql) if "FOR UPDATE" in q and "taxonomy_category" in q]
    assert writes and reads and lock < min(reads) < min(writes)


def test_parent_change_in_the_form_goes_through_category_update(admin_client, forest):
    clothing, jackets, rain, shirts, shoes = forest
    data = changeform_data(admin_client.get(change_url(jackets)), parent=str(shoes.pk))
    with mock.patch("taxonomy.admin.category_update", wraps=services.category_update) as spy:
        assert admin_client.post(change_url(jackets), data).status_code == 302
    assert spy.call_args.kwargs["data"]["parent"] == {"id": shoes.pk}
    assert shape(jackets, rain) == [(shoes.pk, 1), (jackets.pk, 2)]
    assert tree_problems() == []


# -- delete through category_delete --------------------------------------------------------------


def test_superuser_deletes_an_empty_category_through_the_service(
    admin_client, django_assert_max_num_queries
):
    category = CategoryFactory(name_en="Old")
    CategorySourceFactory(category=category, source="PIM", source_id="C-9")
    with django_assert_max_num_queries(12):
        page = admin_client.get(delete_url(category))
    assert page.status_code == 200
    html = page.content.decode()
    assert "Source link: PIM C-9" in html and 'type="submit"' in html
    with mock.patch("taxonomy.admin.category_delete", wraps=services.category_delete) as spy:
        response = admin_client.post(delete_url(category), {"post": "yes"})
    assert response.status_code == 302 and response.url == LIST
    spy.assert_called_once_with(category_id=category.pk)
    assert not Category.objects.exists() and not CategorySource.objects.exists()
    assert LogEntry.objects.get().action_flag == DELETION


@pytest.mark.parametrize(
    ("content", "held"),
    [
        ("child", "1 child, 0 products and 0 clusters"),
        ("product", "0 children, 1 products and 0 clusters"),
        ("secondary", "0 children, 1 products and 0 clusters"),
    ],
)
def test_a_category_that_holds_something_is_not_deleted(admin_client, content, held):
    category = CategoryFactory(name_en="Busy")
    if content == "child":
        CategoryFactory(parent=category)
    elif content == "product":
        ProductFactory(parent=category)
    else:
        ProductCategory.objects.create(product=ProductFactory(), category=category)
    message = f"Category [{category.pk}] cannot be deleted: it holds {held}."

    # asked before the confirmation page: straight back to the form with the 30008 message
    page = admin_client.get(delete_url(category), follow=True)
    assert page.redirect_chain == [(change_url(category), 302)]
    assert messages_of(page) == [("error", message)]

    # a delete confirmed anyway (another tab, a race) is refused by the service itself
    with mock.patch("taxonomy.admin.category_delete", wraps=services.category_delete) as spy:
        response = admin_client.post(delete_url(category), {"post": "yes"}, follow=True)
    spy.assert_called_once_with(category_id=category.pk)
    assert response.redirect_chain == [(change_url(category), 302)]
    assert messages_of(response) == [("error", message)]
    assert Category.objects.filter(pk=category.pk).exists()
    assert not LogEntry.objects.filter(action_flag=DELETION).exists()


def test_delete_of_a_missing_category_goes_back_to_the_list(admin_client):
    response = admin_client.get("/admin/taxonomy/category/999999/delete/", follow=True)
    assert response.status_code == 200
    assert response.redirect_chain[-1][0] in ("/admin/", LIST)


def test_merchandiser_cannot_delete_categories(merchandiser_client):
    category = CategoryFactory()
    assert merchandiser_client.get(delete_url(category)).status_code == 403
    assert merchandiser_client.post(delete_url(category), {"post": "yes"}).status_code == 403
    assert Category.objects.filter(pk=category.pk).exists()
    change = merchandiser_client.get(change_url(category)).content.decode()
    assert "deletelink" not in change


def test_no_bulk_delete_but_the_page_keeps_its_csrf_token_for_the_drops(admin_client):
    CategoryFactory.create_batch(2)
    response = admin_client.get(LIST)
    assert response.context["action_form"] is None  # the stock delete_selected is gone
    assert 'name="csrfmiddlewaretoken"' in response.content.decode()
