"""The Merchandiser group (data migration) and superuser-only API clients (SPEC §15)."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import Group, User
from django.test import Client

from catalogue.models import Product
from config.permissions import MERCHANDISER
from integrations.oauth import create_api_client
from tests.admin.conftest import changeform_data
from tests.catalogue.factories import ProductFactory
from tests.taxonomy.factories import CategoryFactory

pytestmark = pytest.mark.django_db


def test_the_migration_creates_the_merchandiser_group():
    group = Group.objects.get(name=MERCHANDISER)
    granted = set(group.permissions.values_list("content_type__app_label", "codename"))
    assert granted == {
        ("catalogue", "view_product"),
        ("catalogue", "add_product"),
        ("catalogue", "change_product"),
        *(
            ("catalogue", f"{action}_{model}")
            for model in ("productsource", "productattribute", "productcategory")
            for action in ("view", "add", "change", "delete")
        ),
        ("taxonomy", "view_category"),
        ("taxonomy", "add_category"),
        ("taxonomy", "change_category"),
        *(("taxonomy", f"{a}_categorysource") for a in ("view", "add", "change", "delete")),
        *(
            ("clusters", f"{action}_{model}")
            for model in ("clusterconfig", "cluster", "clusteroption")
            for action in ("view", "add", "change")
        ),
        *(
            ("clusters", f"{action}_{model}")
            for model in (
                "clusterconfigsetting",
                "clustersource",
                "clusterproduct",
                "clustercategory",
                "clusteroptionsource",
                "optionproduct",
            )
            for action in ("view", "add", "change", "delete")
        ),
        # the back office's import page (SPEC §21): products and categories, not clusters
        *(("jobs", f"{a}_job") for a in ("view", "add", "import_products", "import_categories")),
    }


def test_merchandiser_sees_catalogue_but_not_clients_or_users(merchandiser_client):
    index = merchandiser_client.get("/admin/")
    assert index.status_code == 200
    apps = {
        app["app_label"]: {m["object_name"] for m in app["models"]}
        for app in index.context["app_list"]
    }
    assert apps == {
        "catalogue": {"Product"},
        "taxonomy": {"Category"},
        "clusters": {"ClusterConfig", "Cluster", "ClusterOption"},
        "jobs": {"Job"},
    }
    for url in (
        "/admin/oauth2_provider/application/",
        "/admin/oauth2_provider/accesstoken/",
        "/admin/auth/user/",
        "/admin/auth/group/",
    ):
        assert merchandiser_client.get(url).status_code == 403, url


def test_merchandiser_edits_products_and_runs_actions(merchandiser_client):
    product = ProductFactory(parent=CategoryFactory())
    url = f"/admin/catalogue/product/{product.pk}/change/"
    assert merchandiser_client.get("/admin/catalogue/product/").status_code == 200
    data = changeform_data(merchandiser_client.get(url), name_de="Jacke")
    assert merchandiser_client.post(url, data).status_code == 302
    product.refresh_from_db()
    assert (product.name_de, product.version) == ("Jacke", 2)
    response = merchandiser_client.post(
        "/admin/catalogue/product/",
        {"action": "hide_products", "_selected_action": [str(product.pk)], "index": "0"},
    )
    assert response.status_code == 302
    product.refresh_from_db()
    assert product.hidden
    # the category autocomplete works for them too
    autocomplete = merchandiser_client.get(
        "/admin/autocomplete/",
        {"term": "", "app_label": "catalogue", "model_name": "product", "field_name": "parent"},
    )
    assert autocomplete.status_code == 200 and autocomplete.json()["results"]


def test_merchandiser_cannot_delete_products(merchandiser_client):
    product = ProductFactory()
    response = merchandiser_client.post(
        f"/admin/catalogue/product/{product.pk}/delete/", {"post": "yes"}
    )
    assert response.status_code == 403
    assert Product.objects.filter(pk=product.pk).exists()


def test_staff_without_a_group_sees_nothing(db):
    user = User.objects.create_user("nobody", password="pw", is_staff=True)
    client = Client()
    client.force_login(user)
    assert client.get("/admin/").context["app_list"] == []
    assert client.get("/admin/catalogue/product/").status_code == 403


def test_api_clients_are_superuser_only_even_with_model_permissions(db):
    from django.contrib.auth.models import Permission

    user = User.objects.create_user("almost", password="pw", is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(content_type__app_label="oauth2_provider"))
    client = Client()
    client.force_login(user)
    assert client.get("/admin/oauth2_provider/application/").status_code == 403
    assert client.get("/admin/oauth2_provider/application/add/").status_code == 403


def test_superuser_manages_api_clients_with_scope_checkboxes(admin_client):
    application, _ = create_api_client(name="erp", scopes=["products:read"])
    listing = admin_client.get("/admin/oauth2_provider/application/")
    assert listing.status_code == 200 and "erp" in listing.content.decode()
    url = f"/admin/oauth2_provider/application/{application.pk}/change/"
    page = admin_client.get(url)
    html = page.content.decode()
    assert 'type="checkbox" name="profile-0-scopes" value="products:write"' in html
    assert re.search(r'value="products:read"[^>]*checked', html)
    assert not re.search(r'value="products:write"[^>]*checked', html)
    data = changeform_data(page)
    data["profile-0-scopes"] = ["products:read", "categories:write"]
    response = admin_client.post(url, data)
    assert response.status_code == 302, page.context["adminform"].form.errors
    application.profile.refresh_from_db()
    assert application.profile.scope_list == ["products:read", "categories:write"]


def test_merchandiser_works_on_clusters_but_deletes_none(merchandiser_client):
    from clusters.models import Cluster, ClusterConfig, ClusterOption
    from tests.clusters.factories import ClusterFactory, ClusterOptionFactory, members

    cluster = ClusterFactory(parent=CategoryFactory())
    variant, leaving = members(cluster, 2)
    option = ClusterOptionFactory(cluster=cluster)
    for url in (
        "/admin/clusters/cluster/",
        "/admin/clusters/clusterconfig/",
        "/admin/clusters/clusteroption/",
        f"/admin/clusters/clusterconfig/{cluster.cluster_config_id}/change/",
        f"/admin/clusters/clusteroption/{option.pk}/change/",
        "/admin/clusters/cluster/add/",
        f"/admin/catalogue/product/?cluster={cluster.pk}",
    ):
        assert merchandiser_client.get(url).status_code == 200, url
    url = f"/admin/clusters/cluster/{cluster.pk}/change/"
    page = merchandiser_client.get(url)
    html = page.content.decode()
    assert 'name="options-0-DELETE"' not in html  # options are not theirs to delete
    data = changeform_data(page, name_nl="Hemden")
    index = 0 if data["memberships-0-product"] == str(leaving.pk) else 1
    data[f"memberships-{index}-DELETE"] = "on"  # memberships are
    assert merchandiser_client.post(url, data).status_code == 302
    cluster.refresh_from_db()
    assert (cluster.name_nl, cluster.version) == ("Hemden", 2)
    assert list(cluster.memberships.values_list("product_id", flat=True)) == [variant.pk]
    for model, pk in (
        ("cluster", cluster.pk),
        ("clusterconfig", cluster.cluster_config_id),
        ("clusteroption", option.pk),
    ):
        response = merchandiser_client.post(
            f"/admin/clusters/{model}/{pk}/delete/", {"post": "yes"}
        )
        assert response.status_code == 403, model
    assert Cluster.objects.exists() and ClusterConfig.objects.exists()
    assert ClusterOption.objects.exists()
    autocomplete = merchandiser_client.get(
        "/admin/autocomplete/",
        {
            "term": "",
            "app_label": "clusters",
            "model_name": "clusterproduct",
            "field_name": "cluster",
        },
    )
    assert autocomplete.status_code == 200 and autocomplete.json()["results"]
