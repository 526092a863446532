from __future__ import annotations

import pytest

from taxonomy.models import Category, CategorySource
from tests.admin.conftest import changeform_data
from tests.taxonomy.factories import CategoryFactory

pytestmark = pytest.mark.django_db

LIST = "/admin/taxonomy/category/"
ADD = "/admin/taxonomy/category/add/"


def change_url(category) -> str:
    return f"/admin/taxonomy/category/{category.pk}/change/"


def test_changelist_shows_the_tree_in_order_with_bounded_queries(
    admin_client, django_assert_max_num_queries
):
    root = CategoryFactory(name_en="Clothing")
    child = CategoryFactory(name_en="Jackets", parent=root)
    other = CategoryFactory(name_en="Shoes")
    with django_assert_max_num_queries(10):
        response = admin_client.get(LIST)
    assert [c.pk for c in response.context["cl"].result_list] == [root.pk, child.pk, other.pk]
    assert 'padding-left: 1.5em">Jackets' in response.content.decode()


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


def test_categories_are_not_deleted_from_the_admin(admin_client):
    category = CategoryFactory()
    assert admin_client.get(f"/admin/taxonomy/category/{category.pk}/delete/").status_code == 403
