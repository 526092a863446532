"""Delivery rules (SPEC §20) against real receivers: retries with backoff and jitter, failure
after the retry window, deactivation, order per record, redirects, timeouts, SSRF at delivery.

Time is controlled by moving the stored times back (a retry "becomes due", the first attempt "was
25 hours ago"), then draining as a worker would."""

from __future__ import annotations

from datetime import timedelta

import orjson
import pytest
from django.utils import timezone

from integrations.models import ClientProfile
from tests.webhooks.conftest import until
from webhooks import delivery, services
from webhooks.models import Delivery, Subscription
from webhooks.tasks import prune_deliveries, sweep

pytestmark = pytest.mark.django_db(transaction=True)


def name(value):
    return [{"language": "EN", "value": value}]


@pytest.fixture
def hook(api, allow_private, receiver):
    subscription, _ = services.subscription_create(
        client_id=api.client_id,
        data={"url": receiver.url, "events": ["product.*"]},
        granted=["products:read"],
    )
    return subscription


def product(api, label: str) -> int:
    response = api.post("/v2/products", {"names": name(label)})
    assert response.status_code == 201, response.content
    return response.json()["data"]["id"]


def rename(api, pk: int, label: str) -> None:
    assert api.patch(f"/v2/products/id/{pk}", {"names": name(label)}).status_code == 200


def attempted(count: int = 1) -> None:
    until(lambda: Delivery.objects.filter(attempts__gte=1).count() >= count)


def make_due(**extra) -> None:
    Delivery.objects.filter(status="pending").update(next_attempt_at=timezone.now(), **extra)


def types_and_records(requests) -> list[tuple[str, int]]:
    bodies = [orjson.loads(r.body) for r in requests]
    return [(b["type"], b["data"]["recordId"]) for b in bodies]


def test_backoff_grows_exponentially_with_jitter_up_to_the_cap(settings):
    settings.WEBHOOK_RETRY_BASE_SECONDS, settings.WEBHOOK_RETRY_MAX_SECONDS = 5, 3600
    for attempt in range(1, 15):
        full = min(5 * 2 ** (attempt - 1), 3600)
        waits = {delivery.backoff_seconds(attempt) for _ in range(20)}
        assert all(full * 0.5 <= w <= full for w in waits), (attempt, waits)
        assert len(waits) > 1  # jitter


def test_a_failing_receiver_is_retried_until_it_answers(api, hook, receiver):
    receiver.status = 500
    product(api, "A")  # the first attempt runs in-process (eager Celery)
    attempted()
    first = Delivery.objects.get()
    assert (first.status, first.attempts, first.last_status_code) == ("pending", 1, 500)
    assert first.last_error == "HTTP 500"
    assert first.next_attempt_at and first.last_attempt_at
    wait = (first.next_attempt_at - first.last_attempt_at).total_seconds()
    assert 2.5 <= wait <= 5
    hook.refresh_from_db()
    assert hook.failing_since is not None
    assert delivery.drain(hook.pk) == (0, False)  # not due yet: nothing sent
    make_due()
    delivery.drain(hook.pk)
    second = Delivery.objects.get()
    assert second.attempts == 2
    assert second.next_attempt_at and second.last_attempt_at
    assert 5 <= (second.next_attempt_at - second.last_attempt_at).total_seconds() <= 10
    receiver.status = 204
    make_due()
    sweep()  # beat's sweep starts the drainer of due retries
    done = Delivery.objects.get()
    assert (done.status, done.attempts, done.last_status_code) == ("succeeded", 3, 204)
    assert len(receiver.received) == 3
    assert len({r.headers["webhook-id"] for r in receiver.received}) == 1  # same message
    hook.refresh_from_db()
    assert hook.failing_since is None


def test_after_the_retry_window_the_delivery_is_failed(api, hook, receiver):
    receiver.status = 503
    product(api, "A")
    attempted()
    make_due(first_attempt_at=timezone.now() - timedelta(hours=24, seconds=1))
    delivery.drain(hook.pk)
    failed = Delivery.objects.get()
    assert (failed.status, failed.attempts, failed.next_attempt_at) == ("failed", 2, None)
    assert delivery.drain(hook.pk) == (0, False)


def test_a_subscription_failing_for_three_days_is_deactivated(api, hook, receiver):
    receiver.status = 500
    product(api, "A")
    attempted()
    Subscription.objects.update(failing_since=timezone.now() - timedelta(days=3, seconds=1))
    make_due()
    delivery.drain(hook.pk)
    hook.refresh_from_db()
    assert hook.active is False and hook.deactivated_at is not None
    assert "3 days" in hook.deactivated_reason
    product(api, "B")  # an inactive subscription gets no new deliveries
    sweep()
    assert Delivery.objects.count() == 1
    receiver.status = 204
    response = api.patch(f"/v2/webhooks/{hook.pk}", {"active": True})
    assert response.status_code == 200
    assert response.json()["data"]["deactivatedAt"] is None
    make_due()
    sweep()
    assert Delivery.objects.get().status == "succeeded"


def test_a_later_event_of_a_record_waits_for_the_earlier_one(api, hook, receiver):
    receiver.status = 500
    first = product(api, "A")  # fails, retry later
    receiver.status = 204
    rename(api, first, "A2")  # same record: waits
    other = product(api, "B")  # another record: goes now
    receiver.wait_for(2)
    assert types_and_records(receiver.received) == [
        ("product.created", first),
        ("product.created", other),
    ]
    make_due()
    delivery.drain(hook.pk)
    assert types_and_records(receiver.received)[2:] == [
        ("product.created", first),
        ("product.updated", first),
    ]
    assert set(Delivery.objects.values_list("status", flat=True)) == {"succeeded"}


def test_redirects_are_not_followed(api, hook, receiver, make_receiver):
    elsewhere = make_receiver()
    receiver.status, receiver.headers = 307, {"Location": elsewhere.url}
    product(api, "A")
    attempted()
    assert elsewhere.received == []
    sent = Delivery.objects.get()
    assert (sent.status, sent.last_status_code, sent.last_error) == ("pending", 307, "HTTP 307")


def test_a_receiver_slower_than_the_timeout_fails_the_attempt(api, hook, receiver, settings):
    settings.WEBHOOK_TIMEOUT_SECONDS = 0.5
    receiver.delay = 2
    product(api, "A")
    attempted()
    sent = Delivery.objects.get()
    assert sent.status == "pending" and sent.last_status_code is None
    assert "timeout" in sent.last_error.lower() or "timed out" in sent.last_error.lower()
    assert sent.last_duration_ms is not None and sent.last_duration_ms < 1500


def test_the_address_is_checked_again_at_delivery(api, hook, receiver, settings):
    settings.WEBHOOK_ALLOW_PRIVATE = False  # the receiver is on loopback
    product(api, "A")
    attempted()
    sent = Delivery.objects.get()
    assert sent.attempts == 1 and sent.last_error.startswith("refused:")
    assert receiver.received == []


def test_a_client_that_lost_the_read_scope_stops_receiving(api, hook, receiver):
    profile = ClientProfile.objects.get(application__client_id=api.client_id)
    profile.scopes = " ".join(s for s in profile.scope_list if s != "products:read")
    profile.save()
    with pytest.raises(AssertionError):  # the token still writes; nothing is delivered
        product(api, "A")
        receiver.wait_for(1, seconds=0.5)
    sweep()
    assert Delivery.objects.count() == 0


def test_events_before_the_subscription_are_not_delivered(api, allow_private, receiver):
    product(api, "old")
    services.subscription_create(
        client_id=api.client_id,
        data={"url": receiver.url, "events": ["product.created"]},
        granted=["products:read"],
    )
    new = product(api, "new")
    receiver.wait_for(1)
    assert types_and_records(receiver.received) == [("product.created", new)]


def test_finished_deliveries_are_pruned_after_the_retention(api, hook, receiver, settings):
    settings.WEBHOOK_DELIVERY_RETENTION_DAYS = 30
    old = timezone.now() - timedelta(days=31)
    rows = [
        Delivery(
            subscription=hook, event_id=f"e{status}{age}", event_type="product.created",
            record_key=f"product:{status}{age}", payload="{}", status=status,
            created_at=old if age == "old" else timezone.now(),
            next_attempt_at=timezone.now() + timedelta(days=1),
        )
        for status in ("succeeded", "failed", "pending")
        for age in ("old", "new")
    ]  # fmt: skip
    Delivery.objects.bulk_create(rows)
    assert prune_deliveries.delay().get() == 2
    left = set(Delivery.objects.values_list("status", "created_at"))
    assert ("pending", old) in left and len(left) == 4


def test_job_finished_reaches_the_jobs_client_only(
    api, client_with_scopes, allow_private, receiver, make_receiver
):
    """A job's end (SPEC §21) is the outbox's ``job.finished`` event: delivered to the
    subscriptions of the job's own client, never to another client's."""
    other = client_with_scopes("products:read", "webhooks:write", "webhooks:read")
    theirs = make_receiver()
    for client, url in ((api, receiver.url), (other, theirs.url)):
        response = client.post("/v2/webhooks", {"url": url, "events": ["job.finished"]})
        assert response.status_code == 201, response.content
    body = {"products": [{"source": "ERP", "sourceId": "J1", "names": name("From a job")}]}
    response = api.post("/v2/products/bulk/sourceId", body, headers={"Prefer": "respond-async"})
    assert response.status_code == 202, response.content
    job = response.json()["data"]["id"]
    [sent] = [orjson.loads(r.body) for r in receiver.wait_for(1)]
    assert sent["type"] == "job.finished"
    assert sent["data"]["recordId"] == job and sent["data"]["jobId"] == job
    assert sent["data"]["changes"]["status"]["after"] == "succeeded"
    sweep()
    assert theirs.received == []
