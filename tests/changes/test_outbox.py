"""The outbox helper: events in the writing transaction, nothing for a write that changes nothing."""

from __future__ import annotations

import pytest
from django.db import transaction

from changes import outbox
from changes.context import Actor, acting_as
from changes.models import ChangeEvent
from tests.catalogue.factories import ProductFactory


@pytest.mark.django_db(transaction=True)
def test_events_roll_back_with_their_write():
    product = ProductFactory()
    with pytest.raises(RuntimeError), transaction.atomic():
        watch = outbox.watch(product)
        product.sku = "NEW"
        product.save()
        watch.record()
        assert ChangeEvent.objects.count() == 1
        raise RuntimeError
    assert ChangeEvent.objects.count() == 0


@pytest.mark.django_db
def test_an_unchanged_record_appends_nothing():
    product = ProductFactory()
    watch = outbox.watch(product)
    product.save()
    assert watch.record() is False
    assert not ChangeEvent.objects.exists()


@pytest.mark.django_db
def test_update_event_describes_fields_in_api_words():
    product = ProductFactory(sku="A-17", name_en="Shirt")
    watch = outbox.watch(product)
    product.sku, product.name_nl = "A17", "Hemd"
    product.version += 1
    product.save()
    with acting_as(Actor("user", "merch")):
        watch.record()
    event = ChangeEvent.objects.get()
    assert event.action == "updated" and event.entity == "product"
    assert event.record_id == product.pk and event.version == product.version
    assert sorted(event.changed_fields) == ["names", "sku"]
    assert event.changes["sku"] == {"before": "A-17", "after": "A17"}
    assert event.changes["names"]["after"] == [
        {"language": "EN", "value": "Shirt"},
        {"language": "NL", "value": "Hemd"},
    ]
    assert event.keys == {"sources": [], "sku": "A17"}
    assert (event.actor_kind, event.actor_id) == ("user", "merch")


@pytest.mark.django_db
def test_deleted_event_is_a_tombstone_with_the_last_keys():
    product = ProductFactory(sku="S1")
    product.sources.create(source="ERP", source_id="A-1")
    outbox.deleted(product)
    event = ChangeEvent.objects.get()
    assert event.action == "deleted"
    assert event.keys == {"sources": [{"source": "ERP", "sourceId": "A-1"}], "sku": "S1"}
    assert event.sources == "|ERP|"
    assert event.changes["sku"] == {"before": "S1", "after": None}
    assert (event.actor_kind, event.actor_id) == ("system", "")
