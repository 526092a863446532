"""Cluster configs, clusters and cluster options in the back office, and the product list's
cluster filters (SPEC §15, issue 7)."""

from __future__ import annotations

from unittest import mock

import pytest

from catalogue.models import Product
from clusters import services
from clusters.models import (
    Cluster,
    ClusterCategory,
    ClusterConfig,
    ClusterOption,
    ClusterProduct,
    OptionProduct,
)
from tests.admin.conftest import changeform_data
from tests.catalogue.factories import ProductFactory
from tests.clusters.factories import (
    ClusterCategoryFactory,
    ClusterConfigFactory,
    ClusterConfigSettingFactory,
    ClusterFactory,
    ClusterOptionFactory,
    ClusterSourceFactory,
    OptionProductFactory,
    members,
)
from tests.taxonomy.factories import CategoryFactory

pytestmark = pytest.mark.django_db

CONFIGS = "/admin/clusters/clusterconfig/"
CLUSTERS = "/admin/clusters/cluster/"
OPTIONS = "/admin/clusters/clusteroption/"
PRODUCTS = "/admin/catalogue/product/"


def change_url(obj) -> str:
    return f"/admin/clusters/{obj._meta.model_name}/{obj.pk}/change/"


def listed(response) -> list[int]:
    assert response.status_code == 200, response.status_code
    return [row.pk for row in response.context["cl"].result_list]


def form_errors(response) -> dict:
    assert response.status_code == 200, "expected the form back with errors"
    errors = dict(response.context["adminform"].form.errors)
    for inline in response.context["inline_admin_formsets"]:
        for index, form_errors in enumerate(inline.formset.errors):
            for field, messages in form_errors.items():
                errors[f"{inline.formset.prefix}-{index}-{field}"] = messages
        if inline.formset.non_form_errors():
            errors[inline.formset.prefix] = inline.formset.non_form_errors()
    return errors


# -- cluster configs ----------------------------------------------------------------------


def test_config_changelist_search_and_bounded_queries(admin_client, django_assert_max_num_queries):
    shirts = ClusterConfigFactory(name="shirts")
    ClusterConfigSettingFactory(config=shirts, attribute_name="COLOR", display_type="color")
    ClusterConfigSettingFactory(config=shirts, attribute_name="SIZE", priority=1)
    for config in ClusterConfigFactory.create_batch(20):
        ClusterConfigSettingFactory(config=config)
    with django_assert_max_num_queries(10):
        response = admin_client.get(CONFIGS)
    assert len(listed(response)) == 21
    assert "COLOR (color), SIZE (dropdown)" in response.content.decode()
    assert listed(admin_client.get(CONFIGS, {"q": "shir"})) == [shirts.pk]
    assert listed(admin_client.get(CONFIGS, {"q": "size"})) == [shirts.pk]


def test_add_config_with_settings_through_the_service(admin_client):
    add = f"{CONFIGS}add/"
    data = changeform_data(
        admin_client.get(add),
        name="shoes",
        **{
            "settings-TOTAL_FORMS": "2",
            "settings-0-attribute_name": "COLOR",
            "settings-0-display_type": "color",
            "settings-0-priority": "0",
            "settings-1-attribute_name": "SIZE",
            "settings-1-display_type": "dropdown",
            "settings-1-priority": "1",
        },
    )
    with mock.patch(
        "clusters.admin.cluster_config_create", wraps=services.cluster_config_create
    ) as spy:
        response = admin_client.post(add, data)
    assert response.status_code == 302, form_errors(response)
    spy.assert_called_once()
    config = ClusterConfig.objects.get(name="shoes")
    assert list(config.settings.order_by("priority").values_list("attribute_name", flat=True)) == [
        "COLOR",
        "SIZE",
    ]
    assert config.version == 1


@pytest.mark.parametrize(
    ("changes", "error_key"),
    [
        ({"name": "no spaces"}, "name"),
        ({"settings-0-attribute_name": "color"}, "settings-0-attribute_name"),
        ({"settings-1-attribute_name": "COLOR"}, "settings"),
    ],
)
def test_config_rules_are_form_errors(admin_client, changes, error_key):
    add = f"{CONFIGS}add/"
    data = changeform_data(
        admin_client.get(add),
        name="shoes",
        **{
            "settings-TOTAL_FORMS": "2",
            "settings-0-attribute_name": "COLOR",
            "settings-0-display_type": "color",
            "settings-0-priority": "0",
            "settings-1-attribute_name": "SIZE",
            "settings-1-display_type": "dropdown",
            "settings-1-priority": "1",
        },
    )
    data.update(changes)
    errors = form_errors(admin_client.post(add, data))
    assert error_key in errors, errors
    assert not ClusterConfig.objects.exists()


def test_config_name_is_read_only_and_settings_replace_the_list(admin_client):
    config = ClusterConfigFactory(name="shirts")
    ClusterConfigSettingFactory(config=config, attribute_name="COLOR")
    page = admin_client.get(change_url(config))
    assert "name" not in page.context["adminform"].form.fields
    data = changeform_data(
        page,
        **{
            "settings-0-DELETE": "on",
            "settings-TOTAL_FORMS": "2",
            "settings-1-attribute_name": "FIT",
            "settings-1-display_type": "radio",
            "settings-1-priority": "2",
        },
    )
    assert admin_client.post(change_url(config), data).status_code == 302
    config.refresh_from_db()
    assert list(config.settings.values_list("attribute_name", "display_type")) == [("FIT", "radio")]
    assert (config.name, config.version) == ("shirts", 2)
    # an unchanged save keeps the version
    assert (
        admin_client.post(
            change_url(config), changeform_data(admin_client.get(change_url(config)))
        ).status_code
        == 302
    )
    config.refresh_from_db()
    assert config.version == 2


def test_a_config_in_use_cannot_be_deleted(admin_client):
    used, unused = ClusterConfigFactory(), ClusterConfigFactory()
    ClusterFactory(cluster_config=used)
    assert admin_client.get(f"{CONFIGS}{used.pk}/delete/").status_code == 403
    assert "deletelink" not in admin_client.get(change_url(used)).content.decode()
    response = admin_client.post(f"{CONFIGS}{unused.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert list(ClusterConfig.objects.values_list("pk", flat=True)) == [used.pk]


# -- clusters: list -----------------------------------------------------------------------


def test_cluster_changelist_with_bounded_queries(admin_client, django_assert_max_num_queries):
    category = CategoryFactory()
    config = ClusterConfigFactory()
    ClusterFactory.create_batch(25, cluster_config=config, parent=category)
    with django_assert_max_num_queries(12):
        response = admin_client.get(CLUSTERS)
    assert len(listed(response)) == 25
    assert response.context["cl"].full_result_count is None
    assert config.name in response.content.decode()


def test_cluster_search_by_name_code_and_source_id(admin_client):
    by_name = ClusterFactory(name_nl="Rode hemden")
    by_code = ClusterFactory(code="OX-77")
    by_source = ClusterSourceFactory(source_id="ERP-CL-9").cluster
    ClusterFactory.create_batch(2)
    assert listed(admin_client.get(CLUSTERS, {"q": "hemden"})) == [by_name.pk]
    assert listed(admin_client.get(CLUSTERS, {"q": "ox-77"})) == [by_code.pk]
    assert listed(admin_client.get(CLUSTERS, {"q": "ERP-CL-9"})) == [by_source.pk]


def test_cluster_filters(admin_client):
    root = CategoryFactory()
    child = CategoryFactory(parent=root)
    shirts, shoes = ClusterConfigFactory(name="shirts"), ClusterConfigFactory(name="shoes")
    a = ClusterFactory(cluster_config=shirts, parent=child, hidden=True)
    b = ClusterFactory(cluster_config=shoes, parent=root)
    c = ClusterFactory(cluster_config=shirts)
    ClusterSourceFactory(cluster=c, source="PIM")
    assert sorted(listed(admin_client.get(CLUSTERS, {"config": shirts.pk}))) == [a.pk, c.pk]
    assert sorted(listed(admin_client.get(CLUSTERS, {"category": root.pk}))) == [a.pk, b.pk]
    assert listed(admin_client.get(CLUSTERS, {"hidden__exact": "1"})) == [a.pk]
    assert listed(admin_client.get(CLUSTERS, {"source": "PIM"})) == [c.pk]
    html = admin_client.get(CLUSTERS, {"config": shirts.pk}).content.decode()
    assert 'data-field-name="cluster_config"' in html and "shirts" in html
    assert "shoes" not in html.split('id="changelist-filter"')[1]
    bad = admin_client.get(CLUSTERS, {"config": "x"})
    assert bad.status_code == 302 and "e=1" in bad["Location"]


# -- clusters: change form ----------------------------------------------------------------


@pytest.fixture
def stocked():
    category = CategoryFactory(name_en="Shirts")
    config = ClusterConfigFactory(name="shirts")
    cluster = ClusterFactory(cluster_config=config, parent=category, code="OX-1")
    variants = members(cluster, 2)
    cluster.default_product = variants[0]
    cluster.save()
    option = ClusterOptionFactory(cluster=cluster, name_en="Gift wrap")
    return {
        "category": category,
        "config": config,
        "cluster": cluster,
        "variants": variants,
        "option": option,
    }


def test_cluster_change_form_shows_tabs_and_every_inline(admin_client, stocked):
    cluster = stocked["cluster"]
    elsewhere = ProductFactory()
    response = admin_client.get(change_url(cluster))
    assert response.status_code == 200
    form = response.context["adminform"].form
    assert form.fields["name_en"].required and not form.fields["name_nl"].required
    assert set(form.fields["default_product"].queryset) == set(stocked["variants"])
    assert elsewhere not in form.fields["default_product"].queryset
    prefixes = {inline.formset.prefix for inline in response.context["inline_admin_formsets"]}
    assert prefixes == {"sources", "memberships", "options", "category_links"}
    html = response.content.decode()
    assert "mt-field-name-en" in html and 'name="options-0-name_nl"' in html
    assert 'data-field-name="product"' in html and 'data-field-name="category"' in html
    assert stocked["variants"][0].sku in html
    # the default product is picked among the variants, never added from here
    assert 'id="add_id_default_product"' not in html and 'id="add_id_parent"' in html


def test_create_a_cluster_with_products_options_and_categories(admin_client, stocked):
    other_cluster = stocked["cluster"]
    moved = stocked["variants"][1]
    homeless = ProductFactory(parent=CategoryFactory())
    secondary = CategoryFactory(name_en="Sale")
    add = f"{CLUSTERS}add/"
    data = changeform_data(
        admin_client.get(add),
        name_en="Oxford Shirt",
        name_nl="Oxford hemd",
        cluster_config=str(stocked["config"].pk),
        code="OX-2",
        parent=str(stocked["category"].pk),
        **{
            "sources-TOTAL_FORMS": "1",
            "sources-0-source": "ERP",
            "sources-0-source_id": "CL-2",
            "memberships-TOTAL_FORMS": "2",
            "memberships-0-product": str(moved.pk),
            "memberships-1-product": str(homeless.pk),
            "options-TOTAL_FORMS": "1",
            "options-0-name_en": "Laces",
            "options-0-priority": "1",
            "category_links-TOTAL_FORMS": "1",
            "category_links-0-category": str(secondary.pk),
        },
    )
    response = admin_client.post(add, data)
    assert response.status_code == 302, form_errors(response)
    cluster = Cluster.objects.get(code="OX-2")
    assert (cluster.slug_en, cluster.slug_nl, cluster.version) == ("oxford-shirt", "oxford-hemd", 1)
    assert list(cluster.sources.values_list("source", "source_id")) == [("ERP", "CL-2")]
    assert set(cluster.memberships.values_list("product_id", flat=True)) == {moved.pk, homeless.pk}
    homeless.refresh_from_db()
    assert homeless.parent_id is None  # the cluster is its primary home now
    assert list(other_cluster.memberships.values_list("product_id", flat=True)) == [
        stocked["variants"][0].pk
    ]
    assert list(cluster.options.values_list("name_en", flat=True)) == ["Laces"]
    assert list(
        ClusterCategory.objects.filter(cluster=cluster).values_list("category_id", flat=True)
    ) == [secondary.pk]


def test_removed_products_move_to_the_chosen_category(admin_client, stocked):
    cluster = stocked["cluster"]
    first, second = stocked["variants"]
    target = CategoryFactory()
    page = admin_client.get(change_url(cluster))
    data = changeform_data(page, removed_products_category=str(target.pk))
    index = next(i for i in range(2) if data[f"memberships-{i}-product"] == str(first.pk))
    data[f"memberships-{index}-DELETE"] = "on"
    response = admin_client.post(change_url(cluster), data)
    assert response.status_code == 302, form_errors(response)
    first.refresh_from_db()
    cluster.refresh_from_db()
    assert first.parent_id == target.pk
    assert not ClusterProduct.objects.filter(product=first).exists()
    assert cluster.default_product_id is None  # it pointed at the product that left
    assert list(cluster.memberships.values_list("product_id", flat=True)) == [second.pk]


def test_removed_products_go_to_the_cluster_category_or_need_one(admin_client, stocked):
    cluster = stocked["cluster"]
    first, second = stocked["variants"]
    data = changeform_data(admin_client.get(change_url(cluster)))
    data["memberships-0-DELETE"] = "on"
    assert admin_client.post(change_url(cluster), data).status_code == 302
    leaving = Product.objects.get(pk=int(data["memberships-0-product"]))
    assert leaving.parent_id == stocked["category"].pk

    data = changeform_data(admin_client.get(change_url(cluster)), parent="")
    data["memberships-0-DELETE"] = "on"
    errors = form_errors(admin_client.post(change_url(cluster), data))
    assert "need a new primary home" in errors["removed_products_category"][0]
    cluster.refresh_from_db()
    assert cluster.parent_id == stocked["category"].pk  # nothing was written
    assert cluster.memberships.count() == 1


def test_cluster_rules_show_on_the_form(admin_client, stocked):
    cluster = stocked["cluster"]
    ClusterFactory(code="TAKEN")
    page = admin_client.get(change_url(cluster))
    errors = form_errors(
        admin_client.post(change_url(cluster), changeform_data(page, code="TAKEN"))
    )
    assert "already exists" in errors["code"][0]
    # the primary category cannot also be a secondary one (30010)
    data = changeform_data(
        page,
        **{
            "category_links-TOTAL_FORMS": "1",
            "category_links-0-category": str(stocked["category"].pk),
        },
    )
    response = admin_client.post(change_url(cluster), data)
    assert "as its primary category" in response.content.decode()
    assert not ClusterCategory.objects.exists()
    cluster.refresh_from_db()
    assert (cluster.code, cluster.version) == ("OX-1", 1)


def test_option_inline_edits_and_deletes_through_the_services(admin_client, stocked):
    cluster, option = stocked["cluster"], stocked["option"]
    data = changeform_data(
        admin_client.get(change_url(cluster)), **{"options-0-name_nl": "Inpakken"}
    )
    assert admin_client.post(change_url(cluster), data).status_code == 302
    option.refresh_from_db()
    assert (option.name_nl, option.version) == ("Inpakken", 2)
    cluster.refresh_from_db()
    assert cluster.version == 1  # the cluster itself did not change
    data = changeform_data(admin_client.get(change_url(cluster)), **{"options-0-DELETE": "on"})
    assert admin_client.post(change_url(cluster), data).status_code == 302
    assert not ClusterOption.objects.exists()


def test_unchanged_cluster_save_keeps_every_version(admin_client, stocked):
    cluster = stocked["cluster"]
    ClusterSourceFactory(cluster=cluster)
    ClusterCategoryFactory(cluster=cluster)
    data = changeform_data(admin_client.get(change_url(cluster)))
    assert admin_client.post(change_url(cluster), data).status_code == 302
    cluster.refresh_from_db()
    stocked["option"].refresh_from_db()
    assert (cluster.version, stocked["option"].version) == (1, 1)
    assert cluster.memberships.count() == 2 and ClusterCategory.objects.count() == 1


def test_delete_cluster_keeps_its_products(admin_client, stocked):
    cluster = stocked["cluster"]
    url = f"{CLUSTERS}{cluster.pk}/delete/"
    assert admin_client.get(url).status_code == 200
    with mock.patch("clusters.admin.cluster_delete", wraps=services.cluster_delete) as spy:
        assert admin_client.post(url, {"post": "yes"}).status_code == 302
    spy.assert_called_once_with(cluster_id=cluster.pk)
    assert not Cluster.objects.exists() and not ClusterOption.objects.exists()
    assert Product.objects.filter(pk__in=[p.pk for p in stocked["variants"]]).count() == 2


# -- cluster options ------------------------------------------------------------------------


def test_option_changelist_filters_and_search(admin_client, stocked):
    option = stocked["option"]
    other = ClusterOptionFactory(is_required=True, name_en="Insurance")
    assert sorted(listed(admin_client.get(OPTIONS))) == sorted([option.pk, other.pk])
    assert listed(admin_client.get(OPTIONS, {"cluster": stocked["cluster"].pk})) == [option.pk]
    assert listed(admin_client.get(OPTIONS, {"is_required__exact": "1"})) == [other.pk]
    assert listed(admin_client.get(OPTIONS, {"q": "insurance"})) == [other.pk]


def test_option_products_are_ordered_and_saved_through_the_service(admin_client, stocked):
    option = stocked["option"]
    a, b, c = ProductFactory.create_batch(3)
    OptionProductFactory(option=option, product=a, position=1)
    OptionProductFactory(option=option, product=b, position=2)
    option.default_product = b
    option.save()
    page = admin_client.get(change_url(option))
    form = page.context["adminform"].form
    assert set(form.fields["default_product"].queryset) == {a, b}
    assert "cluster" not in form.fields  # read-only after create
    data = changeform_data(page)
    assert [data["product_links-0-product"], data["product_links-1-product"]] == [
        str(a.pk),
        str(b.pk),
    ]
    data.update(
        {
            "product_links-0-position": "3",  # a goes last
            "product_links-TOTAL_FORMS": "3",
            "product_links-2-product": str(c.pk),
            "product_links-2-position": "1",
        }
    )
    with mock.patch(
        "clusters.admin.option_products_set", wraps=services.option_products_set
    ) as spy:
        response = admin_client.post(change_url(option), data)
    assert response.status_code == 302, form_errors(response)
    spy.assert_called_once_with(option_id=option.pk, product_ids=[c.pk, b.pk, a.pk])
    links = OptionProduct.objects.filter(option=option).order_by("position")
    assert [(link.product_id, link.position) for link in links] == [
        (c.pk, 1),
        (b.pk, 2),
        (a.pk, 3),
    ]
    option.refresh_from_db()
    assert option.default_product_id == b.pk
    # removing the default product clears the default
    data = changeform_data(admin_client.get(change_url(option)), default_product="")
    data["product_links-1-DELETE"] = "on"
    assert admin_client.post(change_url(option), data).status_code == 302
    option.refresh_from_db()
    assert option.default_product_id is None
    assert list(
        OptionProduct.objects.filter(option=option)
        .order_by("position")
        .values_list("product_id", flat=True)
    ) == [c.pk, a.pk]


def test_add_option_to_a_cluster(admin_client, stocked):
    product = ProductFactory()
    add = f"{OPTIONS}add/"
    data = changeform_data(
        admin_client.get(add),
        name_en="Insurance",
        cluster=str(stocked["cluster"].pk),
        is_required="on",
        **{
            "sources-TOTAL_FORMS": "1",
            "sources-0-source": "ERP",
            "sources-0-source_id": "OPT-1",
            "product_links-TOTAL_FORMS": "1",
            "product_links-0-product": str(product.pk),
        },
    )
    response = admin_client.post(add, data)
    assert response.status_code == 302, form_errors(response)
    option = ClusterOption.objects.get(name_en="Insurance")
    assert (option.cluster_id, option.is_required, option.version) == (
        stocked["cluster"].pk,
        True,
        1,
    )
    assert list(option.product_links.values_list("product_id", "position")) == [(product.pk, 1)]
    assert list(option.sources.values_list("source_id", flat=True)) == ["OPT-1"]


# -- the product list's cluster filters -----------------------------------------------------


def test_product_list_filters_by_cluster_and_cluster_config(admin_client, stocked):
    shirts = stocked["cluster"]
    other = ClusterFactory(cluster_config=ClusterConfigFactory(name="shoes"))
    in_other = members(other, 1)
    ProductFactory()
    variants = sorted(p.pk for p in stocked["variants"])
    assert sorted(listed(admin_client.get(PRODUCTS, {"cluster": shirts.pk}))) == variants
    response = admin_client.get(PRODUCTS, {"cluster_config": stocked["config"].pk})
    assert sorted(listed(response)) == variants
    assert listed(admin_client.get(PRODUCTS, {"cluster_config": other.cluster_config_id})) == [
        in_other[0].pk
    ]
    assert listed(admin_client.get(PRODUCTS, {"cluster": 999999})) == []
    html = admin_client.get(PRODUCTS, {"cluster": shirts.pk}).content.decode()
    sidebar = html.split('id="changelist-filter"')[1]
    assert 'data-field-name="cluster"' in sidebar and 'data-field-name="cluster_config"' in sidebar
    assert str(shirts) in sidebar and str(other) not in sidebar  # never a list of clusters
    bad = admin_client.get(PRODUCTS, {"cluster": "abc"})
    assert bad.status_code == 302 and "e=1" in bad["Location"]


def test_cluster_autocomplete_serves_the_product_filter(admin_client, stocked):
    ClusterFactory(name_en="Denim Jacket")
    response = admin_client.get(
        "/admin/autocomplete/",
        {
            "term": "denim",
            "app_label": "clusters",
            "model_name": "clusterproduct",
            "field_name": "cluster",
        },
    )
    assert response.status_code == 200
    assert [r["text"] for r in response.json()["results"]] == ["Denim Jacket"]
    configs = admin_client.get(
        "/admin/autocomplete/",
        {
            "term": "shi",
            "app_label": "clusters",
            "model_name": "cluster",
            "field_name": "cluster_config",
        },
    )
    assert [r["text"] for r in configs.json()["results"]] == ["shirts"]
