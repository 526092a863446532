"""Jobs over HTTP (SPEC §21): Prefer: respond-async on bulk routes, /v2/imports, the jobs
routes, outcomes, errors, cancel; jobs run in-process (no broker) once the request commits."""

from __future__ import annotations

import orjson
import pytest

from catalogue.models import Product, ProductSource
from changes.models import ChangeEvent
from jobs.models import Job, JobOutcome
from jobs.runner import run
from tests.api.documents import check_response
from tests.conftest import envelope_error
from tests.taxonomy.factories import CategoryFactory

pytestmark = pytest.mark.django_db
ASYNC = {"Prefer": "respond-async"}


def product(source_id: str, name: str = "Shirt", **fields) -> dict:
    return {
        "source": "ERP",
        "sourceId": source_id,
        "names": [{"language": "EN", "value": name}],
        **fields,
    }


def submit(api, url, body, run_now, headers=None):
    with run_now(execute=True):
        response = api.post(url, body, headers={**ASYNC, **(headers or {})})
    return response


def test_async_bulk_answers_202_and_the_job_writes_every_item(
    api, django_capture_on_commit_callbacks
):
    items = [product(f"P-{n}", f"Shirt {n}") for n in range(25)]
    items.append({"source": "ERP", "sourceId": "BAD", "names": "not a list"})
    response = submit(
        api, "/v2/products/bulk/sourceId", {"products": items}, django_capture_on_commit_callbacks
    )
    assert response.status_code == 202, response.content
    assert response["Preference-Applied"] == "respond-async"
    job = response.json()["data"]
    assert response["Location"].endswith(f"/v2/jobs/{job['id']}")
    assert job["kind"] == "bulk" and job["entity"] == "products"
    assert job["progress"]["total"] == 26

    done = api.get(f"/v2/jobs/{job['id']}").json()["data"]
    assert done["status"] == "succeeded", done
    assert done["progress"] == {
        "total": 26,
        "processed": 26,
        "create": 25,
        "update": 0,
        "skip": 0,
        "remove": 0,
        "error": 1,
    }
    assert Product.objects.count() == 25
    # the writes carry the job's id and the client as actor (SPEC §19)
    events = ChangeEvent.objects.filter(entity="product")
    assert events.count() == 25
    assert set(events.values_list("job_id", flat=True)) == {job["id"]}
    assert set(events.values_list("actor_id", flat=True)) == {api.client_id}
    finished = ChangeEvent.objects.get(entity="job", record_id=job["id"])
    assert finished.action == "finished" and finished.job_id == job["id"]
    assert finished.changes["status"]["after"] == "succeeded"

    outcomes = api.get(f"/v2/jobs/{job['id']}/outcomes", {"pageSize": 10}).json()
    assert [o["index"] for o in outcomes["data"]] == list(range(10))
    assert outcomes["data"][0]["action"] == "create" and outcomes["data"][0]["success"] is True
    page2 = api.get(outcomes["pagination"]["next"]).json()
    assert [o["index"] for o in page2["data"]] == list(range(10, 20))
    failed = api.get(f"/v2/jobs/{job['id']}/outcomes", {"action": "error"}).json()["data"]
    assert [(o["index"], o["error"]["code"]) for o in failed] == [(25, 10007)]

    report = api.get(f"/v2/jobs/{job['id']}/errors")
    assert report["Content-Type"] == "text/plain; charset=utf-8"
    lines = [orjson.loads(line) for line in b"".join(report.streaming_content).splitlines()]
    assert len(lines) == 1
    assert lines[0]["record"] == 26 and lines[0]["key"] == "BAD"
    assert lines[0]["error"]["code"] == 10007


def test_dry_run_and_atomic_jobs_behave_like_the_request(api, django_capture_on_commit_callbacks):
    CategoryFactory()
    items = [product("P-1"), product("P-2"), {"source": "ERP", "sourceId": "P-3", "names": 5}]
    url = "/v2/products/bulk/sourceId"
    dry = submit(
        api, url + "?dryRun=true", {"products": items[:2]}, django_capture_on_commit_callbacks
    )
    job = Job.objects.get(pk=dry.json()["data"]["id"])
    assert job.status == "succeeded" and job.created == 2
    assert Product.objects.count() == 0
    outcomes = list(job.outcomes.order_by("index").values_list("outcome", flat=True))
    assert [(o["action"], o["id"], o["success"]) for o in outcomes] == [
        ("create", None, True),
        ("create", None, True),
    ]
    atomic = submit(
        api, url + "?atomic=true", {"products": items}, django_capture_on_commit_callbacks
    )
    job = Job.objects.get(pk=atomic.json()["data"]["id"])
    assert job.status == "failed" and job.failed_items == 1
    assert Product.objects.count() == 0
    outcomes = list(job.outcomes.order_by("index").values_list("outcome", flat=True))
    assert [(o["action"], o["success"], o.get("reason")) for o in outcomes] == [
        ("create", False, "rolledBack"),
        ("create", False, "rolledBack"),
        ("error", False, None),
    ]


def test_async_validates_the_request_like_the_synchronous_route(api, settings):
    url = "/v2/products/bulk/sourceId"
    envelope_error(
        api.post("/v2/products/bulk/nope", {"products": [product("A")]}, ASYNC), 400, 10006
    )
    envelope_error(api.post(url, {"products": []}, ASYNC), 400, 10007)
    envelope_error(
        api.post(url, {"products": [product("A")], "directives": {"nope": True}}, ASYNC), 400, 10007
    )
    settings.ASYNC_BULK_MAX_ITEMS = 3
    envelope_error(
        api.post(url, {"products": [product(str(n)) for n in range(4)]}, ASYNC), 413, 10013
    )
    # the synchronous limit does not apply to a job: 2001 items are accepted
    settings.ASYNC_BULK_MAX_ITEMS = 100_000
    big = {"products": [product(f"B-{n}") for n in range(2001)]}
    envelope_error(api.post(url, big), 413, 10013)
    response = api.post(url, big, ASYNC)
    assert response.status_code == 202
    assert Job.objects.get().total == 2001
    assert Product.objects.count() == 0  # nothing ran: the request's transaction is the test's


def test_a_client_sees_only_its_own_jobs(
    api, client_with_scopes, django_capture_on_commit_callbacks
):
    mine = submit(
        api,
        "/v2/products/bulk/sourceId",
        {"products": [product("A")]},
        django_capture_on_commit_callbacks,
    )
    mine_id = mine.json()["data"]["id"]
    other = client_with_scopes("bulk:write", "products:write")
    envelope_error(other.get(f"/v2/jobs/{mine_id}"), 404, 10026)
    envelope_error(other.get(f"/v2/jobs/{mine_id}/outcomes"), 404, 10026)
    envelope_error(other.get(f"/v2/jobs/{mine_id}/errors"), 404, 10026)
    envelope_error(other.delete(f"/v2/jobs/{mine_id}"), 404, 10026)
    assert other.get("/v2/jobs").json()["data"] == []
    second = submit(
        api,
        "/v2/products/bulk/sourceId",
        {"products": [product("B")]},
        django_capture_on_commit_callbacks,
    )
    listed = api.get("/v2/jobs").json()["data"]
    assert [j["id"] for j in listed] == [second.json()["data"]["id"], mine_id]  # newest first


def test_cancel_a_queued_job_and_409_once_finished(api, django_capture_on_commit_callbacks):
    queued = api.post("/v2/products/bulk/sourceId", {"products": [product("A")]}, ASYNC)
    job_id = queued.json()["data"]["id"]
    cancelled = api.delete(f"/v2/jobs/{job_id}")
    assert cancelled.status_code == 200
    assert cancelled.json()["data"]["status"] == "cancelled"
    run(job_id)  # a late delivery finds it cancelled and writes nothing
    assert Product.objects.count() == 0
    assert ChangeEvent.objects.filter(entity="job", record_id=job_id).count() == 1
    envelope_error(api.delete(f"/v2/jobs/{job_id}"), 409, 10027)


def test_cancel_stops_a_running_job_at_the_next_batch(api, settings, monkeypatch):
    settings.JOBS_BATCH_SIZE = 2
    response = api.post(
        "/v2/products/bulk/sourceId", {"products": [product(f"P-{n}") for n in range(6)]}, ASYNC
    )
    job_id = response.json()["data"]["id"]
    from jobs import runner

    batches = runner._batches

    def cancelled_after_the_first(records, size):
        for number, batch in enumerate(batches(records, size)):
            if number == 1:  # the first batch has committed: the client cancels now
                assert api.delete(f"/v2/jobs/{job_id}").json()["data"]["status"] == "cancelled"
            yield batch

    monkeypatch.setattr(runner, "_batches", cancelled_after_the_first)
    run(job_id)
    job = Job.objects.get(pk=job_id)
    assert job.status == "cancelled" and job.cursor == 2 and job.created == 2
    assert Product.objects.count() == 2
    assert job.outcomes.count() == 2


def test_scopes(client_with_scopes):
    reader = client_with_scopes("products:write")
    envelope_error(reader.get("/v2/jobs"), 403, 10002)
    no_bulk = client_with_scopes("products:write")
    envelope_error(
        no_bulk.post("/v2/products/bulk/sourceId", {"products": [product("A")]}, ASYNC), 403, 10002
    )


def post_import(api, query, body: bytes, content_type: str, headers=None):
    response = api.http.post(
        f"/v2/imports?{query}", body, content_type=content_type, headers=api._headers(headers)
    )
    check_response("post", response)
    return response


def test_import_ndjson_through_the_api(api, django_capture_on_commit_callbacks):
    lines = [orjson.dumps(product(f"I-{n}", f"Imported {n}")) for n in range(30)]
    lines.insert(3, b"{not json")
    body = b"\n".join(lines) + b"\n"
    with django_capture_on_commit_callbacks(execute=True):
        response = post_import(
            api, "entity=products&lookupKey=sourceId", body, "application/x-ndjson"
        )
    assert response.status_code == 202, response.content
    assert "Preference-Applied" not in response
    job = api.get(response["Location"]).json()["data"]
    assert job["kind"] == "import" and job["status"] == "succeeded", job
    assert job["progress"]["total"] == 31 and job["progress"]["create"] == 30
    assert job["progress"]["error"] == 1
    assert ProductSource.objects.filter(source="ERP").count() == 30
    report = api.get(f"/v2/jobs/{job['id']}/errors")
    (line,) = [orjson.loads(x) for x in b"".join(report.streaming_content).splitlines()]
    assert line["line"] == 4 and line["record"] == 4 and line["error"]["code"] == 10005
    assert JobOutcome.objects.filter(job_id=job["id"]).count() == 31


def test_import_csv_with_directives(api, django_capture_on_commit_callbacks):
    csv = b"source,sourceId,names.EN,sku\nERP,C-1,Chair,SKU-1\nERP,C-2,Table,SKU-2\n"
    with django_capture_on_commit_callbacks(execute=True):
        response = post_import(
            api,
            'entity=products&directives={"skipCreate":true}',
            csv,
            "text/csv",
        )
    assert response.status_code == 202, response.content
    job = Job.objects.get(pk=response.json()["data"]["id"])
    assert job.status == "succeeded" and job.skipped == 2
    assert Product.objects.count() == 0
    with django_capture_on_commit_callbacks(execute=True):
        response = post_import(api, "entity=products", csv, "text/csv; charset=utf-8")
    assert Job.objects.get(pk=response.json()["data"]["id"]).created == 2
    assert set(Product.objects.values_list("sku", flat=True)) == {"SKU-1", "SKU-2"}


def test_import_as_octet_stream_with_format(api, django_capture_on_commit_callbacks):
    csv = b"source,sourceId,names.EN\nERP,O-1,Lamp\n"
    with django_capture_on_commit_callbacks(execute=True):
        response = post_import(api, "entity=products&format=csv", csv, "application/octet-stream")
    assert response.status_code == 202, response.content
    assert Job.objects.get().created == 1
    ndjson = orjson.dumps(product("O-2")) + b"\n"
    with django_capture_on_commit_callbacks(execute=True):
        response = post_import(api, "entity=products", ndjson, "application/octet-stream")
    assert response.status_code == 202, response.content
    assert Product.objects.count() == 2
    clash = post_import(api, "entity=products&format=csv", ndjson, "application/x-ndjson")
    envelope_error(clash, 400, 10007)


def test_import_refusals(api, client_with_scopes, settings):
    body = orjson.dumps(product("X")) + b"\n"
    categories_only = client_with_scopes("bulk:write", "categories:write")
    envelope_error(post_import(api, "entity=products", body, "application/json"), 415, 10004)
    envelope_error(post_import(api, "entity=widgets", body, "application/x-ndjson"), 400, 10007)
    envelope_error(post_import(api, "lookupKey=sourceId", body, "application/x-ndjson"), 400, 10007)
    envelope_error(
        post_import(api, "entity=products&lookupKey=code", body, "application/x-ndjson"), 400, 10006
    )
    envelope_error(post_import(api, "entity=products", b"", "application/x-ndjson"), 400, 10007)
    settings.MAX_IMPORT_BYTES = 10
    envelope_error(post_import(api, "entity=products", body, "application/x-ndjson"), 413, 10011)
    settings.MAX_IMPORT_BYTES = 1 << 30
    settings.MAX_REQUEST_BYTES = 10  # the JSON body limit is not the import's
    assert post_import(api, "entity=products", body, "application/x-ndjson").status_code == 202
    envelope_error(
        post_import(categories_only, "entity=products", body, "application/x-ndjson"), 403, 10002
    )


def test_import_idempotency_key_replays(api):
    body = orjson.dumps(product("X")) + b"\n"
    key = {"Idempotency-Key": "import-1"}
    first = post_import(api, "entity=products", body, "application/x-ndjson", key)
    again = post_import(api, "entity=products", body, "application/x-ndjson", key)
    assert first.status_code == again.status_code == 202
    assert first.content == again.content
    assert Job.objects.count() == 1
    other = post_import(api, "entity=products", body + body, "application/x-ndjson", key)
    envelope_error(other, 422, 10023)


def test_sub_resource_bulk_as_a_job(api, django_capture_on_commit_callbacks):
    config = api.post("/v2/clusterconfigs", {"name": "Shoes"}).json()["data"]
    cluster = api.post(
        "/v2/clusters",
        {
            "code": "C1",
            "names": [{"language": "EN", "value": "C1"}],
            "clusterConfig": {"id": config["id"]},
        },
    )
    assert cluster.status_code == 201, cluster.content
    cluster_id = cluster.json()["data"]["id"]
    response = submit(
        api,
        "/v2/clusters/code/C1/products/bulk",  # nested items keyed by sourceId
        {"products": [product("CP-1"), product("CP-2")]},
        django_capture_on_commit_callbacks,
    )
    assert response.status_code == 202, response.content
    job = Job.objects.get(pk=response.json()["data"]["id"])
    assert job.status == "succeeded", job.message
    assert job.created == 2
    assert Product.objects.filter(cluster_membership__cluster_id=cluster_id).count() == 2


def test_a_key_repeated_in_a_later_batch_fails_as_in_one_request(
    api, settings, django_capture_on_commit_callbacks
):
    settings.JOBS_BATCH_SIZE = 2
    items = [product("A"), product("B"), product("C"), product("A", "Again"), product("B")]
    response = submit(
        api, "/v2/products/bulk/sourceId", {"products": items}, django_capture_on_commit_callbacks
    )
    job_id = response.json()["data"]["id"]
    failed = api.get(f"/v2/jobs/{job_id}/outcomes", {"action": "error"}).json()["data"]
    assert [(o["index"], o["key"], o["error"]["code"]) for o in failed] == [
        (3, "A", 10020),
        (4, "B", 10020),
    ]
    assert "item 0 " in failed[0]["error"]["messages"][0]
    assert Product.objects.count() == 3
    assert Product.objects.filter(name_en="Again").count() == 0
