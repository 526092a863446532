"""Finished jobs are kept ``JOBS_RETENTION_DAYS``, then pruned with their outcomes and stored
inputs; queued and running jobs stay whatever their age."""

from __future__ import annotations

from datetime import timedelta

import orjson
import pytest
from django.conf import settings
from django.core.files.storage import default_storage
from django.utils import timezone

from jobs.models import Job, JobOutcome
from jobs.services import prune
from jobs.tasks import prune_jobs
from tests.conftest import envelope_error
from tests.jobs.test_jobs_api import post_import, product

pytestmark = pytest.mark.django_db


def import_job(api, capture, keys: list[str]) -> Job:
    body = b"\n".join(orjson.dumps(product(key)) for key in keys) + b"\n"
    with capture(execute=True):
        response = post_import(
            api, "entity=products&lookupKey=sourceId", body, "application/x-ndjson"
        )
    assert response.status_code == 202, response.content
    job = Job.objects.get(pk=response.json()["data"]["id"])
    assert job.status == Job.Status.SUCCEEDED and default_storage.exists(job.input.name)
    return job


def test_jobs_finished_before_the_retention_go_with_outcomes_and_inputs(
    api, django_capture_on_commit_callbacks
):
    old = import_job(api, django_capture_on_commit_callbacks, ["A", "B"])
    recent = import_job(api, django_capture_on_commit_callbacks, ["C"])
    running = import_job(api, django_capture_on_commit_callbacks, ["D"])
    days = settings.JOBS_RETENTION_DAYS
    long_ago = timezone.now() - timedelta(days=days, minutes=1)
    Job.objects.filter(pk=old.pk).update(finished_at=long_ago)
    Job.objects.filter(pk=recent.pk).update(finished_at=long_ago + timedelta(minutes=2))
    Job.objects.filter(pk=running.pk).update(
        status=Job.Status.RUNNING, finished_at=None, submitted_at=long_ago
    )
    assert JobOutcome.objects.filter(job=old).count() == 2

    with django_capture_on_commit_callbacks(execute=True):
        assert prune() == 1
    assert set(Job.objects.values_list("pk", flat=True)) == {recent.pk, running.pk}
    assert not JobOutcome.objects.filter(job_id=old.pk).exists()
    assert not default_storage.exists(old.input.name)
    assert default_storage.exists(recent.input.name)
    envelope_error(api.get(f"/v2/jobs/{old.pk}"), 404, 10026)

    with django_capture_on_commit_callbacks(execute=True):
        assert prune(now=timezone.now() + timedelta(minutes=5)) == 1  # now the recent one
    assert not default_storage.exists(recent.input.name)
    assert list(Job.objects.values_list("pk", flat=True)) == [running.pk]


def test_an_input_already_gone_does_not_stop_the_prune(api, django_capture_on_commit_callbacks):
    jobs = [import_job(api, django_capture_on_commit_callbacks, [key]) for key in ("E", "F")]
    default_storage.delete(jobs[0].input.name)
    Job.objects.update(
        finished_at=timezone.now() - timedelta(days=settings.JOBS_RETENTION_DAYS + 1)
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert prune(chunk=1) == 2  # one transaction per chunk
    assert not Job.objects.exists() and not default_storage.exists(jobs[1].input.name)


def test_the_periodic_task_prunes_and_is_scheduled(api, django_capture_on_commit_callbacks):
    job = import_job(api, django_capture_on_commit_callbacks, ["G"])
    Job.objects.update(
        finished_at=timezone.now() - timedelta(days=settings.JOBS_RETENTION_DAYS + 1)
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert prune_jobs.delay().get() == 1
    assert not Job.objects.filter(pk=job.pk).exists()
    entry = settings.CELERY_BEAT_SCHEDULE["prune-jobs"]
    assert entry["task"] == prune_jobs.name and 0 < entry["schedule"] <= 3600
