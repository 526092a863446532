"""Secondary category links in the back office: the product inline and the link/unlink bulk
actions, both through the category relationship service (SPEC §10.1)."""

from __future__ import annotations

from unittest import mock

import pytest

from catalogue import admin as catalogue_admin
from catalogue import services
from catalogue.models import Product, ProductCategory
from taxonomy import relationships
from tests.admin.conftest import changeform_data
from tests.catalogue.factories import ProductFactory, ProductSourceFactory
from tests.taxonomy.factories import CategoryFactory

pytestmark = pytest.mark.django_db

LIST = "/admin/catalogue/product/"
ADD = "/admin/catalogue/product/add/"


def change_url(product) -> str:
    return f"/admin/catalogue/product/{product.pk}/change/"


def links() -> set[tuple[int, int]]:
    return set(ProductCategory.objects.values_list("product_id", "category_id"))


def messages_of(response) -> list[tuple[str, str]]:
    return [(m.level_tag, str(m)) for m in response.context["messages"]]


def run_action(client, action, ids, **extra):
    return client.post(
        LIST, {"action": action, "_selected_action": [str(i) for i in ids], "index": "0", **extra}
    )


# -- bulk actions ----------------------------------------------------------------------------------


def test_link_action_asks_for_the_category_with_an_autocomplete(admin_client):
    products = ProductFactory.create_batch(3)
    page = run_action(admin_client, "link_to_category", [p.pk for p in products])
    assert page.status_code == 200
    html = page.content.decode()
    assert "Link <strong>3</strong> selected products to a secondary category." in html
    assert html.count('name="_selected_action"') == 3
    assert 'value="link_to_category"' in html
    # the category is typed, never picked from a list of every category
    assert 'class="admin-autocomplete' in html
    assert 'data-model-name="productcategory"' in html and 'data-field-name="category"' in html
    assert "/static/admin/js/autocomplete.js" in html
    assert "<option value=" not in html.split('name="category"')[1].split("</select>")[0]


def test_category_autocomplete_of_the_action_searches_names_in_any_language(admin_client):
    CategoryFactory(name_en="Jackets", name_nl="Jassen")
    CategoryFactory(name_en="Shoes")
    response = admin_client.get(
        "/admin/autocomplete/",
        {
            "term": "jass",
            "app_label": "catalogue",
            "model_name": "productcategory",
            "field_name": "category",
        },
    )
    assert response.status_code == 200
    assert [r["text"] for r in response.json()["results"]] == ["Jackets"]


def test_link_action_links_and_reports_each_refused_product(admin_client):
    jackets = CategoryFactory(name_en="Jackets")
    fresh = ProductFactory.create_batch(2)
    already = ProductFactory()
    ProductCategory.objects.create(product=already, category=jackets)
    primary = ProductFactory(parent=jackets)
    ids = [p.pk for p in (*fresh, already, primary)]
    with mock.patch(
        "catalogue.services.category_link_items", wraps=relationships.category_link_items
    ) as spy:
        response = run_action(
            admin_client, "link_to_category", ids, apply="1", category=str(jackets.pk)
        )
    assert response.status_code == 302
    spy.assert_called_once()
    assert spy.call_args.kwargs["action"] == "add"
    assert links() == {(p.pk, jackets.pk) for p in (*fresh, already)}
    assert messages_of(admin_client.get(LIST)) == [
        ("success", "2 product(s) linked to “Jackets”."),
        ("warning", f"Product [{already.pk}] is already linked to category [{jackets.pk}]."),
        (
            "warning",
            f"Product [{primary.pk}] already has category [{jackets.pk}] as its primary category.",
        ),
    ]
    # links are not product changes: versions stay (as with the API's link endpoints)
    assert set(Product.objects.values_list("version", flat=True)) == {1}


def test_unlink_action_unlinks_and_reports_each_refused_product(admin_client):
    jackets = CategoryFactory(name_en="Jackets")
    linked = ProductFactory.create_batch(2)
    for product in linked:
        ProductCategory.objects.create(product=product, category=jackets)
    other = ProductFactory()
    ProductCategory.objects.create(product=other, category=CategoryFactory())
    primary = ProductFactory(parent=jackets)
    ids = [p.pk for p in (*linked, other, primary)]
    page = run_action(admin_client, "unlink_from_category", ids)
    assert "Unlink <strong>4</strong> selected products from a secondary category." in (
        page.content.decode()
    )
    response = run_action(
        admin_client, "unlink_from_category", ids, apply="1", category=str(jackets.pk)
    )
    assert response.status_code == 302
    assert links() == {(other.pk, other.category_links.get().category_id)}
    assert messages_of(admin_client.get(LIST)) == [
        ("success", "2 product(s) unlinked from “Jackets”."),
        ("warning", f"Product [{other.pk}] is not linked to category [{jackets.pk}]."),
        (
            "warning",
            f"Category [{jackets.pk}] is the primary category of Product [{primary.pk}]; "
            "change the item's parent instead.",
        ),
    ]


def test_link_action_without_a_category_shows_the_form_again(admin_client):
    product = ProductFactory()
    response = run_action(admin_client, "link_to_category", [product.pk], apply="1", category="")
    assert response.status_code == 200
    assert "This field is required." in response.content.decode()
    missing = run_action(
        admin_client, "link_to_category", [product.pk], apply="1", category="999999"
    )
    assert missing.status_code == 200 and "Select a valid choice" in missing.content.decode()
    assert links() == set()


def test_link_all_matching_the_filter_in_slices_of_the_service_limit(admin_client):
    jackets = CategoryFactory(name_en="Jackets")
    erp = [ProductSourceFactory(source="ERP").product for _ in range(5)]
    ProductFactory()  # not from ERP
    with (
        mock.patch("catalogue.services.MAX_LINK_ITEMS", 2),
        mock.patch(
            "catalogue.services.category_link_items", wraps=relationships.category_link_items
        ) as spy,
    ):
        response = admin_client.post(
            f"{LIST}?source=ERP",
            {
                "action": "link_to_category",
                "select_across": "1",
                "index": "0",
                "_selected_action": [str(erp[0].pk)],
                "apply": "1",
                "category": str(jackets.pk),
            },
        )
    assert response.status_code == 302
    assert [len(call.kwargs["items"]["products"]) for call in spy.call_args_list] == [2, 2, 1]
    assert links() == {(p.pk, jackets.pk) for p in erp}


def test_too_many_products_for_one_run_are_refused_whole(admin_client):
    jackets = CategoryFactory()
    products = ProductFactory.create_batch(3)
    with mock.patch.object(catalogue_admin, "MAX_LINKED_PER_ACTION", 2):
        run_action(
            admin_client,
            "link_to_category",
            [p.pk for p in products],
            apply="1",
            category=str(jackets.pk),
        )
    assert links() == set()
    assert messages_of(admin_client.get(LIST)) == [
        ("error", "Select at most 2 products to link at once; nothing was changed.")
    ]


def test_many_failures_are_summed_up(admin_client):
    jackets = CategoryFactory()
    products = ProductFactory.create_batch(4, parent=jackets)
    with mock.patch.object(catalogue_admin, "MAX_FAILURE_MESSAGES", 2):
        run_action(
            admin_client,
            "link_to_category",
            [p.pk for p in products],
            apply="1",
            category=str(jackets.pk),
        )
    shown = messages_of(admin_client.get(LIST))
    assert shown[0] == ("warning", f"0 product(s) linked to “{jackets}”.")
    assert len(shown) == 4 and shown[-1] == ("warning", "… and 2 more product(s) not linked.")


def test_merchandiser_links_products_to_a_category(merchandiser_client):
    jackets = CategoryFactory()
    product = ProductFactory()
    response = run_action(
        merchandiser_client,
        "link_to_category",
        [product.pk],
        apply="1",
        category=str(jackets.pk),
    )
    assert response.status_code == 302
    assert links() == {(product.pk, jackets.pk)}


# -- the secondary categories inline ----------------------------------------------------------------


def inline(page, **rows) -> dict:
    """The product form's POST with the secondary-category rows replaced by ``rows``."""
    return changeform_data(page, **rows)


def test_change_form_shows_secondary_categories_with_an_autocomplete(
    admin_client, django_assert_max_num_queries
):
    product = ProductFactory(parent=CategoryFactory())
    for name in ("Rain Gear", "Sale"):
        ProductCategory.objects.create(product=product, category=CategoryFactory(name_en=name))
    others = [CategoryFactory(name_en=f"Unrelated {n}") for n in range(20)]
    with django_assert_max_num_queries(25):
        page = admin_client.get(change_url(product))
    html = page.content.decode()
    assert "Secondary categories" in html
    assert 'name="category_links-TOTAL_FORMS" value="2"' in html
    assert 'data-model-name="productcategory"' in html
    # only the linked categories are rendered as options; the others are found by typing
    assert "Rain Gear</option>" in html and "Sale</option>" in html
    assert not any(c.name_en in html for c in others)


def test_inline_adds_changes_and_removes_links_through_the_service(admin_client):
    product = ProductFactory(parent=CategoryFactory())
    keep, drop, swap_from, swap_to, new = CategoryFactory.create_batch(5)
    for category in (keep, drop, swap_from):
        ProductCategory.objects.create(product=product, category=category)
    page = admin_client.get(change_url(product))
    forms = page.context["inline_admin_formsets"][2].formset.forms
    row = {form.instance.category_id: index for index, form in enumerate(forms)}
    data = inline(
        page,
        **{
            f"category_links-{row[drop.pk]}-DELETE": "on",
            f"category_links-{row[swap_from.pk]}-category": str(swap_to.pk),
            "category_links-TOTAL_FORMS": "4",
            "category_links-3-category": str(new.pk),
        },
    )
    with mock.patch(
        "catalogue.admin.product_set_categories", wraps=services.product_set_categories
    ) as spy:
        response = admin_client.post(change_url(product), data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    spy.assert_called_once()
    assert links() == {(product.pk, c.pk) for c in (keep, swap_to, new)}
    product.refresh_from_db()
    assert product.version == 1  # links only: the product itself did not change


def test_inline_refuses_the_primary_category_as_a_secondary_one(admin_client):
    primary = CategoryFactory(name_en="Jackets")
    product = ProductFactory(parent=primary)
    data = inline(
        admin_client.get(change_url(product)),
        name_nl="Jas",
        **{"category_links-TOTAL_FORMS": "1", "category_links-0-category": str(primary.pk)},
    )
    response = admin_client.post(change_url(product), data)
    assert response.status_code == 200
    assert (
        f"Product [{product.pk}] already has category [{primary.pk}] as its primary category."
        in response.content.decode()
    )
    product.refresh_from_db()
    assert (links(), product.name_nl, product.version) == (set(), None, 1)  # all rolled back


def test_inline_refuses_the_same_category_twice(admin_client):
    product = ProductFactory()
    category = CategoryFactory()
    data = inline(
        admin_client.get(change_url(product)),
        **{
            "category_links-TOTAL_FORMS": "2",
            "category_links-0-category": str(category.pk),
            "category_links-1-category": str(category.pk),
        },
    )
    response = admin_client.post(change_url(product), data)
    assert response.status_code == 200
    assert "Please correct the duplicate data" in response.content.decode()
    assert links() == set()


def test_new_product_with_a_secondary_category(admin_client):
    primary, secondary = CategoryFactory.create_batch(2)
    data = inline(
        admin_client.get(ADD),
        name_en="Storm Jacket",
        parent=str(primary.pk),
        **{"category_links-TOTAL_FORMS": "1", "category_links-0-category": str(secondary.pk)},
    )
    response = admin_client.post(ADD, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    product = Product.objects.get(name_en="Storm Jacket")
    assert (product.parent_id, links()) == (primary.pk, {(product.pk, secondary.pk)})


def test_merchandiser_edits_secondary_categories(merchandiser_client):
    product = ProductFactory()
    category = CategoryFactory()
    data = inline(
        merchandiser_client.get(change_url(product)),
        **{"category_links-TOTAL_FORMS": "1", "category_links-0-category": str(category.pk)},
    )
    assert merchandiser_client.post(change_url(product), data).status_code == 302
    assert links() == {(product.pk, category.pk)}
