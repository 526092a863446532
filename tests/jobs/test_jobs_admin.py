"""The back office's import page, job list and job page (SPEC §21), with Django's test client."""

from __future__ import annotations

import orjson
import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from catalogue.models import Product
from jobs.models import Job
from taxonomy.models import Category

pytestmark = pytest.mark.django_db
IMPORT = "/admin/jobs/job/import/"


def ndjson(*records: dict) -> bytes:
    return b"".join(orjson.dumps(r) + b"\n" for r in records)


def product(source_id: str, name: str) -> dict:
    return {"source": "ERP", "sourceId": source_id, "names": [{"language": "EN", "value": name}]}


def upload(client, content: bytes, name="products.ndjson", **fields):
    data = {"entity": "products", "lookup_key": "sourceId", "directives": "", **fields}
    data["file"] = SimpleUploadedFile(name, content)
    return client.post(IMPORT, data)


def test_merchandiser_dry_runs_then_imports_products(
    merchandiser_client,
    django_capture_on_commit_callbacks,
):
    page = merchandiser_client.get(IMPORT)
    assert page.status_code == 200
    choices = [value for value, _ in page.context["form"].fields["entity"].choices]
    assert choices == ["products", "categories"]  # clusters: not the Merchandiser's
    assert page.context["form"].fields["dry_run"].initial is True

    content = ndjson(product("A", "Chair"), product("B", "Table"), {"source": "ERP"})
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(merchandiser_client, content, dry_run="on")
    job = Job.objects.get()
    assert response.status_code == 302 and response["Location"].endswith(f"/{job.pk}/change/")
    assert job.status == "succeeded" and job.dry_run and job.created == 2 and job.failed_items == 1
    assert Product.objects.count() == 0

    detail = merchandiser_client.get(response["Location"])
    assert detail.status_code == 200
    text = detail.content.decode()
    assert "2 created" in text and "1 failed" in text
    assert 'http-equiv="refresh"' not in text  # finished: no more polling
    report = merchandiser_client.get(f"/admin/jobs/job/{job.pk}/errors/")
    assert report.status_code == 200
    assert "attachment" in report["Content-Disposition"]
    (line,) = [orjson.loads(x) for x in b"".join(report.streaming_content).splitlines()]
    assert line["line"] == 3 and line["error"]["code"] == 10016

    with django_capture_on_commit_callbacks(execute=True):
        upload(merchandiser_client, content)
    assert Product.objects.count() == 2
    listing = merchandiser_client.get("/admin/jobs/job/")
    assert listing.status_code == 200
    assert listing.context["cl"].result_count == 2
    assert b"Import a file" in listing.content


def test_a_running_job_page_refreshes_itself(merchandiser_client, merchandiser):
    content = ndjson(product("A", "Chair"))
    upload(merchandiser_client, content)  # the test's transaction: it stays queued
    job = Job.objects.get()
    assert job.status == "queued" and job.created_by == merchandiser
    text = merchandiser_client.get(f"/admin/jobs/job/{job.pk}/change/").content.decode()
    assert 'http-equiv="refresh"' in text and "queued" in text


def test_csv_categories_and_form_errors(merchandiser_client, django_capture_on_commit_callbacks):
    csv = b"source,sourceId,names.EN\nERP,C-1,Shoes\n"
    with django_capture_on_commit_callbacks(execute=True):
        upload(merchandiser_client, csv, name="cats.csv", entity="categories")
    assert Category.objects.filter(name_en="Shoes").exists()
    bad_key = upload(
        merchandiser_client, csv, name="cats.csv", entity="categories", lookup_key="sku"
    )
    assert bad_key.status_code == 200
    assert "not supported" in str(bad_key.context["form"].non_field_errors())
    bad_directives = upload(merchandiser_client, csv, directives="{nope")
    assert "Not JSON" in str(bad_directives.context["form"].errors["directives"])
    clusters = upload(merchandiser_client, csv, entity="clusters")
    assert "entity" in clusters.context["form"].errors


def test_others_jobs_and_users_without_the_permission(merchandiser_client):
    other = User.objects.create_user("other", password="pw", is_staff=True)
    job = Job.objects.create(kind="import", entity="products", lookup_key="sourceId",
                             input="x.ndjson", created_by=other)  # fmt: skip
    assert merchandiser_client.get(f"/admin/jobs/job/{job.pk}/change/").status_code == 404
    assert merchandiser_client.get(f"/admin/jobs/job/{job.pk}/errors/").status_code == 404
    plain = Client()
    plain.force_login(other)
    assert plain.get(IMPORT).status_code == 403
