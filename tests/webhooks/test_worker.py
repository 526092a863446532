"""Delivery by a real Celery worker process (SPEC §20): the write's commit kicks the dispatcher on
the worker; a hanging or failing receiver delays neither the API writes nor other subscriptions."""

from __future__ import annotations

import time

import pytest
from standardwebhooks import Webhook

from tests.webhooks.worker import running_worker
from webhooks.models import Delivery

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
SLOW = 3.0


def name(value):
    return [{"language": "EN", "value": value}]


def subscribe(api, url) -> dict:
    response = api.post("/v2/webhooks", {"url": url, "events": ["product.*"]})
    assert response.status_code == 201, response.content
    return response.json()["data"]


def test_a_slow_and_a_failing_receiver_delay_neither_writes_nor_a_fast_one(
    api, allow_private, make_receiver
):
    fast = make_receiver()
    slow = make_receiver(delay=SLOW)
    failing = make_receiver(status=500)
    for receiver in (fast, slow, failing):
        receiver.tick = None  # the worker's beat and the commits drive delivery here
    fast_hook = subscribe(api, fast.url)
    subscribe(api, slow.url)
    subscribe(api, failing.url)
    with running_worker():
        writes = []
        started = time.monotonic()
        for i in range(10):
            begun = time.monotonic()
            assert api.post("/v2/products", {"names": name(f"P{i}")}).status_code == 201
            writes.append(time.monotonic() - begun)
        got = fast.wait_for(10, seconds=SLOW * 3)
        fast_done = time.monotonic() - started
        assert len(slow.received) < 10 or fast_done < SLOW  # the slow one is still at it
        assert fast_done < SLOW, f"the fast receiver waited {fast_done:.2f} s"
        assert max(writes) < 1.0, writes  # no write waited for any receiver
        payload = Webhook(fast_hook["secret"]).verify(
            got[0].body, {k.lower(): v for k, v in got[0].headers.items()}
        )
        assert payload["type"] == "product.created"
        slow.wait_for(10, seconds=60)  # ... and gets everything in the end
        deadline = time.monotonic() + 30
        while Delivery.objects.filter(subscription__url=slow.url, status="succeeded").count() < 10:
            assert time.monotonic() < deadline
            time.sleep(0.1)
        assert failing.received  # tried, and pending its retries
        assert not Delivery.objects.filter(subscription__url=failing.url, status="succeeded")
