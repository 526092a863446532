"""Idempotency records in the database of record, and one transaction per write (SPEC §18)."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import override_settings
from django.utils import timezone

from catalogue.models import Product
from config.api.models import IdempotencyRecord
from config.api.renderers import FastJSONRenderer
from config.api.tasks import prune_idempotency_records
from tests.conftest import envelope_error

pytestmark = pytest.mark.django_db
BODY = {"names": [{"language": "EN", "value": "Shoe"}], "source": "ERP", "sourceId": "S-1"}
BULK = {"products": [{"source": "ERP", "sourceId": "B-1", "names": BODY["names"]}]}


def failing_render(monkeypatch, times: int = 1) -> list[int]:
    """Make the next ``times`` renders raise: a failure after the write, before the answer."""
    original, calls = FastJSONRenderer.render, []

    def render(self, data, *args, **kwargs):
        calls.append(1)
        if len(calls) <= times:
            raise RuntimeError("renderer crashed after the write")
        return original(self, data, *args, **kwargs)

    monkeypatch.setattr(FastJSONRenderer, "render", render)
    return calls


def test_answer_is_kept_in_the_database_and_replayed_with_its_headers(api):
    headers = {"Idempotency-Key": "db-1"}
    first = api.post("/v2/products", BODY, headers=headers)
    assert first.status_code == 201
    record = IdempotencyRecord.objects.get(key="db-1")
    assert record.client_id == api.client_id and record.status == 201
    assert bytes(record.content) == first.content
    second = api.post("/v2/products", BODY, headers=headers)
    assert (second.status_code, second.content) == (201, first.content)
    for name in ("Content-Type", "Location", "ETag"):
        assert second[name] == first[name], name
    assert second["Idempotent-Replayed"] == "true" and "Idempotent-Replayed" not in first
    assert Product.objects.count() == 1


def test_a_client_error_is_kept_and_replayed_too(api):
    headers = {"Idempotency-Key": "err-1"}
    first = api.post("/v2/products", {"source": "ERP", "sourceId": "X"}, headers=headers)
    envelope_error(first, 400, 10007)
    second = api.post("/v2/products", {"source": "ERP", "sourceId": "X"}, headers=headers)
    assert (second.status_code, second.content) == (400, first.content)


def test_query_string_is_part_of_the_request(api):
    """A real write after ``?dryRun=true`` with the same key is another request (issue 15)."""
    headers = {"Idempotency-Key": "dry-1"}
    dry = api.post("/v2/products/bulk/sourceId?dryRun=true", BULK, headers=headers)
    assert dry.status_code == 200 and not Product.objects.exists()
    real = api.post("/v2/products/bulk/sourceId", BULK, headers=headers)
    envelope_error(real, 422, 10023)
    assert not Product.objects.exists()
    other_path = api.post("/v2/categories", BODY, headers={"Idempotency-Key": "dry-1"})
    envelope_error(other_path, 422, 10023)


def test_failure_between_write_and_answer_writes_nothing_and_the_retry_writes_once(
    api, monkeypatch
):
    api.http.raise_request_exception = False
    failing_render(monkeypatch)
    headers = {"Idempotency-Key": "crash-1"}
    crashed = api.post("/v2/products", BODY, headers=headers)
    envelope_error(crashed, 500, 10021)
    assert not Product.objects.exists() and not IdempotencyRecord.objects.exists()
    retry = api.post("/v2/products", BODY, headers=headers)
    assert retry.status_code == 201 and "Idempotent-Replayed" not in retry
    again = api.post("/v2/products", BODY, headers=headers)
    assert again.content == retry.content and again["Idempotent-Replayed"] == "true"
    assert Product.objects.count() == 1


def test_every_write_that_answers_5xx_has_written_nothing(api, monkeypatch):
    product = api.post("/v2/products", BODY).json()["data"]
    url = f"/v2/products/id/{product['id']}"
    api.http.raise_request_exception = False
    failing_render(monkeypatch, times=3)
    patched = api.patch(url, {"names": [{"language": "EN", "value": "Boot"}]})
    envelope_error(patched, 500, 10021)
    bulk = api.post("/v2/products/bulk/sourceId", BULK)
    envelope_error(bulk, 500, 10021)
    deleted = api.delete(url)
    assert deleted.status_code == 500
    assert list(Product.objects.values_list("name_en", flat=True)) == ["Shoe"]
    assert Product.objects.get().version == 1


def test_records_are_pruned_after_their_time(api, capsys):
    api.post("/v2/products", BODY, headers={"Idempotency-Key": "old"})
    api.post("/v2/products", {**BODY, "sourceId": "S-2"}, headers={"Idempotency-Key": "new"})
    IdempotencyRecord.objects.filter(key="old").update(
        created_at=timezone.now() - timedelta(hours=25)
    )
    call_command("prune_idempotency_records")
    assert "Deleted 1 idempotency record(s)." in capsys.readouterr().out
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["new"]
    IdempotencyRecord.objects.update(created_at=timezone.now() - timedelta(days=2))
    assert prune_idempotency_records.delay().get() == 1  # the beat task (eager in tests)
    assert not IdempotencyRecord.objects.exists()


def test_an_expired_record_not_yet_pruned_is_not_replayed(api):
    headers = {"Idempotency-Key": "stale"}
    first = api.post("/v2/products", BODY, headers=headers)
    IdempotencyRecord.objects.update(created_at=timezone.now() - timedelta(hours=25))
    second = api.post("/v2/products", {**BODY, "sourceId": "S-2"}, headers=headers)
    assert second.status_code == 201 and second.content != first.content
    assert Product.objects.count() == 2


def slow_create(monkeypatch, hold: float):
    from catalogue import services

    original, started, calls = services.product_create, threading.Event(), []

    def create(**kwargs):
        calls.append(1)
        started.set()
        time.sleep(hold)
        return original(**kwargs)

    monkeypatch.setattr(services, "product_create", create)
    return started, calls


def in_thread(fn) -> tuple[threading.Thread, dict]:
    result: dict = {}

    def run():
        try:
            result["response"] = fn()
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread, result


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_duplicate_waits_for_the_first_and_replays(api, monkeypatch):
    started, calls = slow_create(monkeypatch, hold=0.5)
    headers = {"Idempotency-Key": "wait-1"}
    thread, first = in_thread(lambda: api.post("/v2/products", BODY, headers=headers))
    assert started.wait(5)
    second = api.post("/v2/products", BODY, headers=headers)
    thread.join(10)
    assert len(calls) == 1 and Product.objects.count() == 1
    assert first["response"].status_code == 201
    assert second.content == first["response"].content
    assert second["Idempotent-Replayed"] == "true"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@override_settings(IDEMPOTENCY_WAIT_SECONDS=0.3)
def test_a_duplicate_waits_a_bounded_time_then_409(api, monkeypatch):
    started, calls = slow_create(monkeypatch, hold=1.5)
    headers = {"Idempotency-Key": "wait-2"}
    thread, first = in_thread(lambda: api.post("/v2/products", BODY, headers=headers))
    assert started.wait(5)
    began = time.monotonic()
    second = api.post("/v2/products", BODY, headers=headers)
    waited = time.monotonic() - began
    envelope_error(second, 409, 10022)
    assert 0.25 < waited < 1.2
    thread.join(10)
    assert first["response"].status_code == 201 and len(calls) == 1
    third = api.post("/v2/products", BODY, headers=headers)
    assert third.content == first["response"].content
    assert Product.objects.count() == 1
