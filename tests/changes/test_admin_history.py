"""The back office writes change events as its user, and shows them (SPEC §19)."""

from __future__ import annotations

import pytest

from changes.models import ChangeEvent
from tests.admin.conftest import INLINE_EDIT, changeform_data
from tests.admin.test_categories_admin import drop
from tests.catalogue.factories import ProductFactory
from tests.taxonomy.factories import CategoryFactory

pytestmark = pytest.mark.django_db


def change_url(product) -> str:
    return f"/admin/catalogue/product/{product.pk}/change/"


def test_admin_change_form_writes_an_event_as_its_user(admin_client, admin_user):
    product = ProductFactory(name_nl=None)
    data = changeform_data(admin_client.get(change_url(product)), name_nl="Rode jas")
    assert admin_client.post(change_url(product), data).status_code == 302
    event = ChangeEvent.objects.get()
    assert (event.action, event.actor_kind, event.actor_id) == ("updated", "user", "admin")
    assert event.changes["names"]["after"][-1] == {"language": "NL", "value": "Rode jas"}
    page = admin_client.get(change_url(product)).content.decode()
    assert "Latest changes" in page and "Rode jas" in page
    history = admin_client.get(f"/admin/catalogue/product/{product.pk}/history/")
    assert history.status_code == 200 and "Rode jas" in history.content.decode()


def test_admin_bulk_action_writes_an_event_per_changed_product(admin_client):
    shown, hidden = ProductFactory(), ProductFactory(hidden=True)
    response = admin_client.post(
        "/admin/catalogue/product/",
        {"action": "hide_products", "_selected_action": [shown.pk, hidden.pk]},
    )
    assert response.status_code == 302
    event = ChangeEvent.objects.get()
    assert (event.record_id, event.actor_kind) == (shown.pk, "user")
    assert event.changes == {"hidden": {"before": False, "after": True}}


def test_admin_drag_and_drop_is_a_move(admin_client):
    root, other = CategoryFactory(), CategoryFactory()
    leaf = CategoryFactory(parent=root)
    response = drop(admin_client, leaf, other, "last-child")
    assert response.status_code == 200, response.content
    event = ChangeEvent.objects.get()
    assert (event.action, event.record_id, event.actor_kind) == ("moved", leaf.pk, "user")


def test_import_catalogue_writes_events_as_system(tmp_path):
    from django.core.management import call_command

    path = tmp_path / "products.ndjson"
    path.write_text(
        '{"sourceId": "I1", "source": "ERP", "names": [{"language": "EN", "value": "I"}]}\n'
    )
    call_command("import_catalogue", str(path), "--entity", "products", "--lookup-key", "sourceId")
    event = ChangeEvent.objects.get()
    assert (event.action, event.actor_kind, event.entity) == ("created", "system", "product")


def test_admin_inlines_write_one_event_with_sources_and_attributes(admin_client):
    """The change form's inlines are part of the record's write: one event, as its user."""
    product = ProductFactory()
    product.sources.create(source="ERP", source_id="1")
    data = changeform_data(admin_client.get(change_url(product)))
    data.update(INLINE_EDIT)
    assert admin_client.post(change_url(product), data).status_code == 302
    event = ChangeEvent.objects.get()
    assert (event.action, event.actor_kind, event.version) == ("updated", "user", 2)
    assert event.changes["sources"] == {
        "before": [{"source": "ERP", "sourceId": "1"}],
        "after": [{"source": "PIM", "sourceId": "9"}],
    }
    assert event.changes["attributes"]["after"] == [{"name": "SIZES", "value": ["S", "M"]}]
    assert event.keys["sources"] == [{"source": "PIM", "sourceId": "9"}]


def test_admin_category_links_inline_is_linked_and_unlinked(admin_client):
    from catalogue.models import ProductCategory

    product = ProductFactory(parent=CategoryFactory())
    dropped, added = CategoryFactory(), CategoryFactory()
    ProductCategory.objects.create(product=product, category=dropped)
    page = admin_client.get(change_url(product))
    data = changeform_data(page)
    data.update(
        {
            "category_links-0-DELETE": "on",
            "category_links-TOTAL_FORMS": "2",
            "category_links-1-category": str(added.pk),
        }
    )
    response = admin_client.post(change_url(product), data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    found = {(e.action, e.record_id, e.actor_kind): e.changes for e in ChangeEvent.objects.all()}
    assert found == {
        ("unlinked", product.pk, "user"): {
            "categories": {"before": {"id": dropped.pk}, "after": None}
        },
        ("linked", product.pk, "user"): {"categories": {"before": None, "after": {"id": added.pk}}},
    }
