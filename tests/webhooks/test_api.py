"""``/v2/webhooks`` over HTTP with real tokens (SPEC §20, §3), delivering in-process (eager
Celery, as ``make run``'s demo) to real receivers; signatures checked by ``standardwebhooks``."""

from __future__ import annotations

import socket

import orjson
import pytest
from django.utils import timezone
from standardwebhooks import Webhook

from config.api.scopes import ALL_SCOPES
from tests.changes.helpers import events
from tests.conftest import envelope_error
from webhooks import signing, targets
from webhooks.models import Delivery, Subscription

pytestmark = pytest.mark.django_db(transaction=True)
NOT_FOUND, REFUSED, SCOPE = 10028, 10029, 10002


def name(value):
    return [{"language": "EN", "value": value}]


def subscribe(client, url, events=("product.*",), **extra):
    response = client.post("/v2/webhooks", {"url": url, "events": list(events), **extra})
    assert response.status_code == 201, response.content
    return response.json()["data"]


def verify(secret: str, request) -> dict:
    """The independent implementation's verdict (raises on a bad signature)."""
    headers = {k.lower(): v for k, v in request.headers.items()}
    return Webhook(secret).verify(request.body, headers)


def test_create_shows_the_secret_once_and_stores_it_encrypted(api, allow_private, receiver):
    made = subscribe(api, receiver.url, description="ERP sync")
    assert made["secret"].startswith("whsec_") and made["active"] is True
    assert made["events"] == ["product.*"] and made["description"] == "ERP sync"
    shown = api.get(f"/v2/webhooks/{made['id']}").json()["data"]
    assert "secret" not in shown and shown["url"] == receiver.url
    assert [w["id"] for w in api.get("/v2/webhooks").json()["data"]] == [made["id"]]
    row = Subscription.objects.get(pk=made["id"])
    assert made["secret"] not in row.secret_encrypted
    assert made["secret"].removeprefix("whsec_") not in row.secret_encrypted
    assert signing.decrypt(row.secret_encrypted) == made["secret"]


def test_a_write_is_delivered_signed_with_the_feed_event(api, allow_private, receiver):
    made = subscribe(api, receiver.url, events=("product.created", "category.*"))
    product = api.post("/v2/products", {"names": name("Boot"), "sku": "B-1"})
    assert product.status_code == 201
    api.post("/v2/clusterconfigs", {"name": "Sizes"})  # not subscribed
    (request,) = receiver.wait_for(1)
    payload = verify(made["secret"], request)
    (event,) = events(api, entity="product")
    assert payload == {
        "id": event["id"],
        "type": "product.created",
        "timestamp": event["at"],
        "data": event,
    }
    assert request.headers["webhook-id"] == event["id"]
    assert request.headers["Content-Type"] == "application/json"
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("succeeded", 1, 204)


def test_a_tampered_body_fails_the_independent_check(api, allow_private, receiver):
    made = subscribe(api, receiver.url)
    api.post(f"/v2/webhooks/{made['id']}/test")
    (request,) = receiver.wait_for(1)
    request.body = request.body.replace(b"webhook.test", b"webhook.tset")
    with pytest.raises(Exception, match="(?i)signature"):
        verify(made["secret"], request)


def test_the_test_route_sends_a_webhook_test_event(api, allow_private, receiver):
    made = subscribe(api, receiver.url)
    response = api.post(f"/v2/webhooks/{made['id']}/test")
    assert response.status_code == 202
    (request,) = receiver.wait_for(1)
    payload = verify(made["secret"], request)
    assert payload["type"] == "webhook.test"
    assert payload["data"]["subscriptionId"] == made["id"]
    log = api.get(f"/v2/webhooks/{made['id']}/deliveries").json()["data"]
    assert [(d["type"], d["status"], d["attempt"], d["statusCode"]) for d in log] == [
        ("webhook.test", "succeeded", 1, 204)
    ]
    assert log[0]["durationMs"] >= 0 and log[0]["nextRetryAt"] is None


def test_deliveries_are_paged_and_a_failed_one_is_replayed(api, allow_private, receiver):
    made = subscribe(api, receiver.url)
    for i in range(3):
        api.post("/v2/products", {"names": name(f"P{i}")})
    receiver.wait_for(3)
    page = api.get(f"/v2/webhooks/{made['id']}/deliveries", {"pageSize": 2}).json()
    assert len(page["data"]) == 2 and page["pagination"]["nextCursor"]
    rest = api.get(
        f"/v2/webhooks/{made['id']}/deliveries", {"cursor": page["pagination"]["nextCursor"]}
    ).json()["data"]
    assert len(rest) == 1
    first = Delivery.objects.order_by("id")[0]
    Delivery.objects.filter(pk=first.pk).update(status="failed", last_error="HTTP 500")
    path = f"/v2/webhooks/{made['id']}/deliveries/{first.pk}/replay"
    response = api.post(path)
    assert response.status_code == 202, response.content
    requests = receiver.wait_for(4)
    assert requests[-1].headers["webhook-id"] == first.event_id
    first.refresh_from_db()
    assert first.status == "succeeded"
    failed = api.get(f"/v2/webhooks/{made['id']}/deliveries", {"status": "failed"}).json()
    assert failed["data"] == []


def test_patch_and_delete(api, allow_private, receiver):
    made = subscribe(api, receiver.url)
    path = f"/v2/webhooks/{made['id']}"
    changed = api.patch(path, {"events": ["category.moved"], "active": False}).json()["data"]
    assert changed["events"] == ["category.moved"] and changed["active"] is False
    assert api.delete(path).status_code == 200
    envelope_error(api.get(path), 404, NOT_FOUND)


def test_another_clients_subscription_is_not_found(
    api, client_with_scopes, allow_private, receiver
):
    made = subscribe(api, receiver.url)
    other = client_with_scopes(*ALL_SCOPES)
    base = f"/v2/webhooks/{made['id']}"
    assert other.get("/v2/webhooks").json()["data"] == []
    envelope_error(other.get(base), 404, NOT_FOUND)
    envelope_error(other.patch(base, {"active": False}), 404, NOT_FOUND)
    envelope_error(other.delete(base), 404, NOT_FOUND)
    envelope_error(other.post(f"{base}/test"), 404, NOT_FOUND)
    envelope_error(other.get(f"{base}/deliveries"), 404, NOT_FOUND)
    api.post(f"{base}/test")
    delivery = Delivery.objects.get()
    envelope_error(other.post(f"{base}/deliveries/{delivery.pk}/replay"), 404, NOT_FOUND)
    assert Subscription.objects.get().active is True


def test_scopes(client_with_scopes, allow_private, receiver):
    reader = client_with_scopes("webhooks:read", "products:read")
    envelope_error(
        reader.post("/v2/webhooks", {"url": receiver.url, "events": ["product.*"]}), 403, SCOPE
    )
    assert reader.get("/v2/webhooks").status_code == 200
    no_read = client_with_scopes("products:read")
    envelope_error(no_read.get("/v2/webhooks"), 403, SCOPE)
    writer = client_with_scopes("webhooks:write", "webhooks:read", "products:read")
    error = envelope_error(
        writer.post(
            "/v2/webhooks", {"url": receiver.url, "events": ["product.*", "category.moved"]}
        ),
        403,
        SCOPE,
    )
    assert "categories:read" in error["messages"][0]
    assert subscribe(writer, receiver.url, events=["product.updated"])["events"] == [
        "product.updated"
    ]
    made = Subscription.objects.get()
    error = envelope_error(
        writer.patch(f"/v2/webhooks/{made.pk}", {"events": ["cluster.*"]}), 403, SCOPE
    )
    assert "clusters:read" in error["messages"][0]


def test_unknown_event_types_are_refused(api, allow_private, receiver):
    response = api.post("/v2/webhooks", {"url": receiver.url, "events": ["product.exploded"]})
    envelope_error(response, 400, 10007)
    envelope_error(api.post("/v2/webhooks", {"url": receiver.url, "events": []}), 400, 10007)


@pytest.mark.parametrize(
    "url",
    [
        "http://example.com/hook",  # not https
        "ftp://example.com/hook",
        "https://localhost/hook",
        "https://127.0.0.1/hook",
        "https://10.1.2.3/hook",
        "https://192.168.0.10/hook",
        "https://169.254.169.254/latest/meta-data",
        "https://[::1]/hook",
        "https://[::ffff:127.0.0.1]/hook",
        "https://[fe80::1]/hook",
        "https://0.0.0.0/hook",
        "https://user:pw@example.com/hook",
    ],
)
def test_urls_that_are_not_public_https_are_refused(api, url):
    envelope_error(api.post("/v2/webhooks", {"url": url, "events": ["product.*"]}), 422, REFUSED)


@pytest.mark.parametrize("address", ["127.0.0.1", "10.0.0.7", "169.254.169.254", "fd00::1"])
def test_a_name_resolving_to_a_private_address_is_refused(api, monkeypatch, address):
    """Resolution, not the spelling, decides: a public-looking name that resolves inward."""
    real = socket.getaddrinfo

    def fake(host, *args, **kwargs):
        if host == "hooks.example.test":
            family = socket.AF_INET6 if ":" in address else socket.AF_INET
            return [(family, socket.SOCK_STREAM, 6, "", (address, 443))]
        return real(host, *args, **kwargs)

    monkeypatch.setattr(targets.socket, "getaddrinfo", fake)
    body = {"url": "https://hooks.example.test/in", "events": ["product.*"]}
    error = envelope_error(api.post("/v2/webhooks", body), 422, REFUSED)
    assert address in error["messages"][0]


def test_a_public_name_passes(api, monkeypatch):
    monkeypatch.setattr(
        targets.socket,
        "getaddrinfo",
        lambda host, *a, **k: [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.215.14", 443))],
    )
    made = subscribe(api, "https://hooks.example.test/in")
    assert made["url"] == "https://hooks.example.test/in"


def test_allow_private_lifts_both_rules(api, allow_private):
    assert subscribe(api, "http://127.0.0.1:18599/hook")["active"] is True


def test_the_delivered_body_is_the_stored_one(api, allow_private, receiver):
    made = subscribe(api, receiver.url)
    api.post("/v2/products", {"names": name("X")})
    (request,) = receiver.wait_for(1)
    assert request.body == Delivery.objects.get().payload.encode()
    assert orjson.loads(request.body)["data"]["entity"] == "product"
    assert made["id"] == Delivery.objects.get().subscription_id


def test_a_replayed_create_does_not_keep_the_secret_in_clear(api, allow_private, receiver):
    from config.api.models import IdempotencyRecord

    body = {"url": receiver.url, "events": ["product.*"]}
    headers = {"Idempotency-Key": "create-hook-1"}
    first = api.post("/v2/webhooks", body, headers=headers)
    again = api.post("/v2/webhooks", body, headers=headers)
    assert first.status_code == again.status_code == 201
    secret = first.json()["data"]["secret"]
    assert secret.startswith("whsec_")
    assert again.json()["data"] == {**first.json()["data"], "secret": None}
    assert again["Location"] == first["Location"]
    assert Subscription.objects.count() == 1
    stored = bytes(IdempotencyRecord.objects.get().content)
    assert secret.encode() not in stored and secret[6:].encode() not in stored


def test_a_rotated_secret_signs_beside_the_old_one_until_the_overlap_ends(
    api, client_with_scopes, allow_private, receiver
):
    made = subscribe(api, receiver.url)
    path = f"/v2/webhooks/{made['id']}/rotate-secret"
    rotated = api.post(path)
    assert rotated.status_code == 200, rotated.content
    new = rotated.json()["data"]["secret"]
    assert new.startswith("whsec_") and new != made["secret"]
    assert rotated.json()["data"]["previousSecretExpiresAt"] is not None
    assert "secret" not in api.get(f"/v2/webhooks/{made['id']}").json()["data"]

    api.post(f"/v2/webhooks/{made['id']}/test")
    (request,) = receiver.wait_for(1)
    assert len(request.headers["webhook-signature"].split(" ")) == 2
    assert verify(new, request)["type"] == "webhook.test"  # the receiver may switch now…
    assert verify(made["secret"], request)["type"] == "webhook.test"  # …or later

    Subscription.objects.filter(pk=made["id"]).update(previous_secret_until=timezone.now())
    assert api.get(f"/v2/webhooks/{made['id']}").json()["data"]["previousSecretExpiresAt"] is None
    api.post(f"/v2/webhooks/{made['id']}/test")
    request = receiver.wait_for(2)[-1]
    assert verify(new, request)["type"] == "webhook.test"
    with pytest.raises(Exception, match="(?i)signature"):
        verify(made["secret"], request)  # the overlap is over: the old secret no longer signs

    envelope_error(client_with_scopes(*ALL_SCOPES).post(path), 404, NOT_FOUND)
    envelope_error(api.post(path, {"secret": "mine"}), 400, 10007)


def test_a_second_rotation_drops_the_first_secret_and_a_replay_shows_no_secret(
    api, allow_private, receiver
):
    from config.api.models import IdempotencyRecord

    made = subscribe(api, receiver.url)
    path = f"/v2/webhooks/{made['id']}/rotate-secret"
    second = api.post(path).json()["data"]["secret"]
    headers = {"Idempotency-Key": "rotate-1"}
    first_try, retry = api.post(path, headers=headers), api.post(path, headers=headers)
    third = first_try.json()["data"]["secret"]
    assert retry.json()["data"] == {**first_try.json()["data"], "secret": None}
    stored = bytes(IdempotencyRecord.objects.get().content)
    assert third.encode() not in stored and third[6:].encode() not in stored
    api.post(f"/v2/webhooks/{made['id']}/test")
    (request,) = receiver.wait_for(1)
    assert len(request.headers["webhook-signature"].split(" ")) == 2
    verify(third, request)
    verify(second, request)  # the retry rotated nothing
    with pytest.raises(Exception, match="(?i)signature"):
        verify(made["secret"], request)
