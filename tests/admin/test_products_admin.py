from __future__ import annotations

from unittest import mock

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.admin.templatetags.admin_list import result_headers
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalogue import services
from catalogue.models import Product, ProductAttribute, ProductSource
from config.api import errors
from tests.admin.conftest import INLINE_EDIT, changeform_data
from tests.catalogue.factories import ProductFactory, ProductSourceFactory
from tests.taxonomy.factories import CategoryFactory

pytestmark = pytest.mark.django_db

LIST = "/admin/catalogue/product/"
ADD = "/admin/catalogue/product/add/"


def change_url(product) -> str:
    return f"/admin/catalogue/product/{product.pk}/change/"


def listed(response) -> list[int]:
    return [p.pk for p in response.context["cl"].result_list]


def add_form(admin_client, **changes) -> dict:
    data = changeform_data(admin_client.get(ADD))
    data.update(
        {
            "name_en": "Crème Jacket",
            "name_nl": "Jas",
            "sku": "J-1",
            "ean_code": "4006381333931",
            "sources-TOTAL_FORMS": "1",
            "sources-0-source": "ERP",
            "sources-0-source_id": "A-17",
            "attributes-TOTAL_FORMS": "2",
            "attributes-0-name": "COLOR",
            "attributes-0-value": "red",
            "attributes-1-name": "SIZE",
            "attributes-1-value": "42",
        }
    )
    data.update(changes)
    return data


# -- change list ---------------------------------------------------------------------------------


def test_changelist_lists_products_with_bounded_queries(
    admin_client, django_assert_max_num_queries
):
    category = CategoryFactory()
    ProductFactory.create_batch(30, parent=category)
    with django_assert_max_num_queries(12):
        response = admin_client.get(LIST)
    assert response.status_code == 200
    assert len(listed(response)) == 30
    assert response.context["cl"].full_result_count is None  # show_full_result_count = False
    assert "30 products" in response.content.decode()


def test_changelist_paginates_by_50(admin_client):
    ProductFactory.create_batch(55)
    first = admin_client.get(LIST)
    second = admin_client.get(LIST, {"p": 2})
    assert len(listed(first)) == 50 and len(listed(second)) == 5
    assert set(listed(first)).isdisjoint(listed(second))


@pytest.mark.parametrize(
    ("term", "field"),
    [
        ("jas", "name_nl"),
        ("HANDSCHUH", "name_de"),
        ("SKU-ZZ", "sku"),
        ("4006381333931", "ean_code"),
    ],
)
def test_search_finds_names_in_any_language_and_codes(admin_client, term, field):
    values = {
        "name_nl": "Rode jas",
        "name_de": "Handschuh",
        "sku": "SKU-ZZ9",
        "ean_code": "4006381333931",
    }
    match = ProductFactory(**{field: values[field]})
    ProductFactory.create_batch(3)
    response = admin_client.get(LIST, {"q": term})
    assert listed(response) == [match.pk]


def test_search_by_source_id_is_exact_and_words_combine(admin_client):
    linked = ProductSourceFactory(source_id="ERP-777").product
    ProductSourceFactory(source_id="ERP-7770")
    assert listed(admin_client.get(LIST, {"q": "ERP-777"})) == [linked.pk]
    both = ProductFactory(name_en="Navy Storm Jacket")
    ProductFactory(name_en="Navy Cap")
    assert listed(admin_client.get(LIST, {"q": "navy jacket"})) == [both.pk]


def test_filters_status_hidden_and_source(admin_client):
    available = ProductFactory(status="A")
    phase_out = ProductFactory(status="P", hidden=True)
    ProductSourceFactory(product=phase_out, source="PIM")
    ProductSourceFactory(product=available, source="ERP")
    assert listed(admin_client.get(LIST, {"status__exact": "P"})) == [phase_out.pk]
    assert listed(admin_client.get(LIST, {"hidden__exact": "1"})) == [phase_out.pk]
    assert listed(admin_client.get(LIST, {"source": "ERP"})) == [available.pk]
    sidebar = admin_client.get(LIST).content.decode()
    assert "?source=ERP" in sidebar and "?source=PIM" in sidebar


def test_category_filter_covers_the_subtree_with_an_autocomplete(admin_client):
    root = CategoryFactory()
    child = CategoryFactory(parent=root)
    other = CategoryFactory()
    in_root, in_child = ProductFactory(parent=root), ProductFactory(parent=child)
    ProductFactory(parent=other)
    ProductFactory(parent=None)
    response = admin_client.get(LIST, {"category": root.pk})
    assert sorted(listed(response)) == sorted([in_root.pk, in_child.pk])
    assert listed(admin_client.get(LIST, {"category": child.pk})) == [in_child.pk]
    assert listed(admin_client.get(LIST, {"category": 999999})) == []
    html = response.content.decode()
    assert 'class="admin-autocomplete' in html and "select2" in html
    assert str(root) in html
    # the sidebar does not list categories: only the chosen one is rendered
    assert str(other) not in html


def test_category_filter_with_a_bad_value_does_not_crash(admin_client):
    response = admin_client.get(LIST, {"category": "abc"})
    assert response.status_code == 302 and "e=1" in response["Location"]


@pytest.mark.parametrize(
    ("column", "key"),
    [(1, lambda p: p.sort_name), (3, lambda p: p.sku), (8, lambda p: p.priority)],
)
def test_sortable_columns(admin_client, column, key):
    ProductFactory(name_en="b", sort_name="b", sku="S-2", priority=5)
    ProductFactory(name_en="a", sort_name="a", sku="S-3", priority=1)
    ProductFactory(name_en="c", sort_name="c", sku="S-1", priority=3)
    ascending = admin_client.get(LIST, {"o": str(column)})
    descending = admin_client.get(LIST, {"o": f"-{column}"})
    products = list(Product.objects.all())
    expected = [p.pk for p in sorted(products, key=key)]
    assert listed(ascending) == expected
    assert listed(descending) == expected[::-1]


def test_only_indexed_columns_are_sortable(admin_client):
    ProductFactory()
    cl = admin_client.get(LIST).context["cl"]
    headers = [h for h in result_headers(cl) if "action-toggle" not in str(h["text"])]
    sortable = {str(h["text"]): h["sortable"] for h in headers}
    assert sortable == {
        "name": True,
        "ID": True,
        "SKU": True,
        "EAN": True,
        "status": True,
        "hidden": False,
        "category": False,
        "priority": True,
        "last modified at": True,
    }


# -- change form ---------------------------------------------------------------------------------


def test_change_form_has_language_tabs_and_a_required_default_name(admin_client):
    product = ProductFactory(name_nl="Jas")
    response = admin_client.get(change_url(product))
    assert response.status_code == 200
    form = response.context["adminform"].form
    assert form.fields["name_en"].required and not form.fields["name_nl"].required
    html = response.content.decode()
    for language in ("en", "nl", "de", "fr"):
        assert f'name="name_{language}"' in html
    assert "mt-field-name-en" in html and "mt-default" in html
    assert "modeltranslation/js/tabbed_translation_fields.js" in html
    assert "jquery-ui/jquery-ui.min.js" in html and "googleapis" not in html


def test_required_name_follows_the_record_language(admin_client):
    product = ProductFactory(language="nl", name_nl="Jas", name_en=None, sort_name="jas")
    form = admin_client.get(change_url(product)).context["adminform"].form
    assert form.fields["name_nl"].required and not form.fields["name_en"].required


def test_change_form_does_not_load_every_category(admin_client):
    categories = CategoryFactory.create_batch(5)
    product = ProductFactory(parent=categories[2])
    with CaptureQueriesContext(connection) as queries:
        response = admin_client.get(change_url(product))
    assert response.status_code == 200
    category_queries = [q["sql"] for q in queries if '"taxonomy_category"' in q["sql"]]
    assert category_queries, "the chosen parent is rendered"
    assert all("WHERE" in sql for sql in category_queries), category_queries
    html = response.content.decode()
    assert str(categories[2]) in html and str(categories[0]) not in html
    assert 'data-field-name="parent"' in html  # autocomplete widget


def test_add_product_goes_through_the_service(admin_client):
    response = admin_client.post(ADD, add_form(admin_client))
    assert response.status_code == 302, response.context["adminform"].form.errors
    product = Product.objects.get(sku="J-1")
    assert product.version == 1
    assert (product.slug_en, product.slug_nl) == ("creme-jacket", "jas")
    assert product.sort_name == "crème jacket"
    assert list(product.sources.values_list("source", "source_id")) == [("ERP", "A-17")]
    assert [(a.name, a.value, a.position) for a in product.attributes.all()] == [
        ("COLOR", "red", 0),
        ("SIZE", 42, 1),
    ]
    assert LogEntry.objects.filter(object_id=str(product.pk)).exists()


def test_editing_a_translation_bumps_the_version_once(admin_client):
    product = ProductFactory(name_nl=None)
    ProductSourceFactory(product=product)
    data = changeform_data(admin_client.get(change_url(product)), name_nl="Rode jas")
    response = admin_client.post(change_url(product), data)
    assert response.status_code == 302
    product.refresh_from_db()
    assert (product.name_nl, product.slug_nl, product.version) == ("Rode jas", "rode-jas", 2)
    assert product.sources.count() == 1


def test_saving_an_unchanged_form_keeps_version_and_timestamp(admin_client):
    product = ProductFactory(name_nl="Jas", slug_nl="jas")
    ProductSourceFactory(product=product)
    ProductAttribute.objects.create(product=product, position=0, name="SIZE", value="42")
    ProductAttribute.objects.create(product=product, position=1, name="TAGS", value=["a", "b"])
    before = product.last_modified_at
    data = changeform_data(admin_client.get(change_url(product)))
    assert data["attributes-0-value"] == '"42"'  # a string that looks like a number stays one
    assert admin_client.post(change_url(product), data).status_code == 302
    product.refresh_from_db()
    assert (product.version, product.last_modified_at) == (1, before)
    assert [a.value for a in product.attributes.all()] == ["42", ["a", "b"]]


def test_inline_edits_replace_sources_and_attributes(admin_client):
    product = ProductFactory()
    ProductSourceFactory(product=product, source="ERP", source_id="1")
    data = changeform_data(admin_client.get(change_url(product)))
    data.update(INLINE_EDIT)
    assert admin_client.post(change_url(product), data).status_code == 302
    product.refresh_from_db()
    assert list(product.sources.values_list("source", "source_id")) == [("PIM", "9")]
    assert [(a.name, a.value) for a in product.attributes.all()] == [("SIZES", ["S", "M"])]
    assert product.version == 2


def test_missing_default_name_is_a_form_error(admin_client):
    response = admin_client.post(ADD, add_form(admin_client, name_en=""))
    assert response.status_code == 200
    assert "name_en" in response.context["adminform"].form.errors
    assert not Product.objects.exists()


def test_default_name_in_another_language_is_checked_by_the_service(admin_client):
    # The form marks the chosen language's name required; the service holds the same rule.
    response = admin_client.post(ADD, add_form(admin_client, language="de"))
    assert response.status_code == 200
    assert "name_de" in response.context["adminform"].form.errors
    assert not Product.objects.exists()


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"ean_code": "4006381333932"}, "ean_code"),
        ({"slug_en": "Not A Slug"}, "slug_en"),
        ({"metadata_canonical_url_en": "ftp://x"}, "metadata_canonical_url_en"),
    ],
)
def test_api_field_rules_apply_to_the_form(admin_client, changes, field):
    response = admin_client.post(ADD, add_form(admin_client, **changes))
    assert response.status_code == 200
    assert field in response.context["adminform"].form.errors
    assert not Product.objects.exists()


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"attributes-0-name": "color"}, "A-Z0-9_"),
        ({"attributes-0-value": '{"a": 1}'}, "string, number, boolean or array of strings"),
        ({"attributes-1-name": "COLOR"}, "duplicate data for name"),
    ],
)
def test_attribute_rules_are_inline_errors(admin_client, changes, message):
    response = admin_client.post(ADD, add_form(admin_client, **changes))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Product.objects.exists()


def test_source_pair_of_another_product_is_refused(admin_client):
    ProductSourceFactory(source="ERP", source_id="A-17")
    response = admin_client.post(ADD, add_form(admin_client))
    assert response.status_code == 200
    assert "already exists" in response.content.decode()
    assert Product.objects.count() == 1


def test_duplicate_slug_is_refused(admin_client):
    ProductFactory(slug_en="taken")
    response = admin_client.post(ADD, add_form(admin_client, slug_en="taken"))
    assert response.status_code == 200
    assert "slug_en" in response.context["adminform"].form.errors


def test_a_service_error_at_save_time_is_shown_on_the_form(admin_client):
    """A rule the form cannot see (here a race on a source pair) re-displays the form."""
    product = ProductFactory()
    data = changeform_data(admin_client.get(change_url(product)), name_nl="Jas")
    race = errors.ProductExists("Product with sourceId [A-17] and source [ERP] already exists.")
    with mock.patch("catalogue.admin.product_update", side_effect=race):
        response = admin_client.post(change_url(product), data)
    assert response.status_code == 200
    assert (
        "Product with sourceId [A-17] and source [ERP] already exists." in response.content.decode()
    )
    assert response.context["adminform"].form.non_field_errors()
    product.refresh_from_db()
    assert (product.name_nl, product.version) == (None, 1)


def test_delete_goes_through_the_service(admin_client):
    product = ProductFactory()
    ProductSourceFactory(product=product)
    url = f"/admin/catalogue/product/{product.pk}/delete/"
    assert admin_client.get(url).status_code == 200
    with mock.patch("catalogue.admin.product_delete", wraps=services.product_delete) as spy:
        response = admin_client.post(url, {"post": "yes"})
    assert response.status_code == 302
    spy.assert_called_once_with(product_id=product.pk)
    assert not Product.objects.exists() and not ProductSource.objects.exists()


# -- bulk actions --------------------------------------------------------------------------------


def run_action(client, action, ids, **extra):
    return client.post(
        LIST, {"action": action, "_selected_action": [str(i) for i in ids], "index": "0", **extra}
    )


def test_hide_and_show_bump_only_the_rows_that_change(admin_client):
    visible, hidden, untouched = ProductFactory(), ProductFactory(hidden=True), ProductFactory()
    response = run_action(admin_client, "hide_products", [visible.pk, hidden.pk])
    assert response.status_code == 302
    for product in (visible, hidden, untouched):
        product.refresh_from_db()
    assert (visible.hidden, visible.version) == (True, 2)
    assert (hidden.hidden, hidden.version) == (True, 1)
    assert (untouched.hidden, untouched.version) == (False, 1)
    messages = [str(m) for m in admin_client.get(LIST).context["messages"]]
    assert messages == ["1 product(s) hidden."]

    run_action(admin_client, "show_products", [visible.pk, untouched.pk])
    visible.refresh_from_db()
    untouched.refresh_from_db()
    assert (visible.hidden, visible.version) == (False, 3)
    assert untouched.version == 1


def test_hide_all_matching_the_filter(admin_client):
    erp = [ProductSourceFactory(source="ERP").product for _ in range(3)]
    other = ProductFactory()
    response = admin_client.post(
        f"{LIST}?source=ERP",
        {
            "action": "hide_products",
            "select_across": "1",
            "index": "0",
            "_selected_action": [str(erp[0].pk)],
        },
    )
    assert response.status_code == 302
    assert set(Product.objects.filter(hidden=True).values_list("pk", flat=True)) == {
        p.pk for p in erp
    }
    other.refresh_from_db()
    assert not other.hidden


def test_set_status_asks_for_the_status_then_applies_it(admin_client):
    products = ProductFactory.create_batch(3, status="A")
    already = ProductFactory(status="P")
    ids = [p.pk for p in products[:2]] + [already.pk]
    page = run_action(admin_client, "set_status", ids)
    assert page.status_code == 200
    html = page.content.decode()
    assert "Set the status of <strong>3</strong> selected products" in html
    assert html.count('name="_selected_action"') == 3

    bad = run_action(admin_client, "set_status", ids, apply="1", status="X")
    assert bad.status_code == 200 and "Select a valid choice" in bad.content.decode()

    done = run_action(admin_client, "set_status", ids, apply="1", status="P")
    assert done.status_code == 302
    versions = dict(Product.objects.values_list("pk", "version"))
    statuses = dict(Product.objects.values_list("pk", "status"))
    assert [statuses[i] for i in ids] == ["P", "P", "P"]
    assert [versions[i] for i in ids] == [2, 2, 1]
    assert statuses[products[2].pk] == "A" and versions[products[2].pk] == 1


def test_stock_bulk_delete_is_not_offered(admin_client):
    ProductFactory()
    actions = dict(admin_client.get(LIST).context["action_form"].fields["action"].choices)
    assert "delete_selected" not in actions
    assert {"hide_products", "show_products", "set_status"} <= set(actions)


def test_changing_an_attribute_value_type_is_a_change(admin_client):
    product = ProductFactory()
    ProductAttribute.objects.create(product=product, position=0, name="WATERPROOF", value=1)
    data = changeform_data(admin_client.get(change_url(product)), **{"attributes-0-value": "true"})
    assert admin_client.post(change_url(product), data).status_code == 302
    product.refresh_from_db()
    assert product.attributes.get().value is True
    assert product.version == 2
