"""The back office of webhooks (SPEC §20): superusers see subscriptions and deliveries (status,
attempts, last error) and replay finished deliveries; merchandisers see none of it."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, User
from django.test import Client
from django.utils import timezone

from config.permissions import MERCHANDISER
from webhooks import signing
from webhooks.models import Delivery, Subscription

pytestmark = pytest.mark.django_db


@pytest.fixture
def failed_delivery():
    subscription = Subscription.objects.create(
        client_id="client-1",
        url="https://hooks.example.com/in",
        events=["product.*"],
        secret_encrypted=signing.encrypt(signing.new_secret()),
    )
    return Delivery.objects.create(
        subscription=subscription,
        event_id="0000000000000001",
        event_type="product.updated",
        record_key="product:1",
        payload="{}",
        status="failed",
        attempts=17,
        last_status_code=503,
        last_error="HTTP 503",
        first_attempt_at=timezone.now(),
    )


def test_superusers_see_subscriptions_and_deliveries(admin_client, failed_delivery):
    listing = admin_client.get("/admin/webhooks/subscription/")
    assert listing.status_code == 200
    assert b"https://hooks.example.com/in" in listing.content
    log = admin_client.get(
        f"/admin/webhooks/delivery/?subscription__id__exact={failed_delivery.subscription_id}"
    )
    assert log.status_code == 200
    for shown in (b"product.updated", b"failed", b"17", b"HTTP 503"):
        assert shown in log.content
    page = admin_client.get(f"/admin/webhooks/delivery/{failed_delivery.pk}/change/")
    assert page.status_code == 200
    assert signing.decrypt(failed_delivery.subscription.secret_encrypted).encode() not in (
        admin_client.get(
            f"/admin/webhooks/subscription/{failed_delivery.subscription_id}/change/"
        ).content
    )


def test_the_replay_action_queues_a_failed_delivery_again(admin_client, failed_delivery):
    response = admin_client.post(
        "/admin/webhooks/delivery/",
        {"action": "replay", "_selected_action": [failed_delivery.pk]},
        follow=True,
    )
    assert response.status_code == 200
    assert b"1 deliveries queued again" in response.content
    failed_delivery.refresh_from_db()
    assert (failed_delivery.status, failed_delivery.attempts) == ("pending", 0)
    assert failed_delivery.next_attempt_at is not None


def test_merchandisers_see_no_webhooks(failed_delivery):
    user = User.objects.create_user("merch", password="pw", is_staff=True)
    user.groups.add(Group.objects.get(name=MERCHANDISER))
    client = Client()
    client.force_login(user)
    assert client.get("/admin/webhooks/subscription/").status_code == 403
    assert client.get("/admin/webhooks/delivery/").status_code == 403
    assert b"webhooks" not in client.get("/admin/").content.lower()
