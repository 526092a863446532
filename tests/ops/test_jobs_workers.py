"""Jobs on real Celery workers (SPEC §21), PostgreSQL only: a worker killed with ``kill -9``
mid-job leaves the job to a second worker, which resumes after the last committed batch — no
item lost or written twice, outcomes complete; several jobs run on several workers at once.

The workers use this test's database (committed rows: ``transaction=True``), a Redis broker on
the jobs' own db index (``JOBS_TEST_REDIS_URL``, default ``redis://127.0.0.1:6379/3``) and a
shared media directory; they are started and stopped by PID here.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis
from celery import Celery
from django.db import connection

from catalogue.bulk import PRODUCTS
from catalogue.models import Product
from changes.models import ChangeEvent
from jobs import resources, services
from jobs.models import Job, JobOutcome
from tests.ops.conftest import ROOT, fresh_env

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
BROKER = os.environ.get("JOBS_TEST_REDIS_URL", "redis://127.0.0.1:6379/3")


def _redis_up() -> bool:
    try:
        return bool(redis.Redis.from_url(BROKER, socket_timeout=1).ping())
    except redis.RedisError:
        return False


@pytest.fixture
def media(tmp_path, settings):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return tmp_path


@pytest.fixture
def broker(monkeypatch):
    """Jobs submitted here go to the workers' Redis queue (this process has no broker)."""
    if not _redis_up():
        pytest.skip(f"no Redis at {BROKER}")
    redis.Redis.from_url(BROKER).flushdb()  # our own db index: stale test messages only
    # not the current app: shared tasks sent later in this process (webhooks) stay on ours
    sender = Celery("jobs-test", broker=BROKER, set_as_current=False)
    monkeypatch.setattr(
        services, "enqueue", lambda job_id: sender.send_task("jobs.tasks.run_job", args=[job_id])
    )
    yield sender
    redis.Redis.from_url(BROKER).flushdb()


class Worker:
    def __init__(self, name: str, tmp: Path, *, beat: bool = False, **env: str) -> None:
        db = connection.settings_dict
        self.log = tmp / f"{name}.log"
        environment = fresh_env(
            DJANGO_SETTINGS_MODULE="config.settings_test",
            DATABASE_URL=f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
            CELERY_BROKER_URL=BROKER,
            MEDIA_ROOT=str(tmp / "media"),
            JOBS_BATCH_SIZE="100",
            JOBS_STALE_SECONDS="3",
            JOBS_RESUME_INTERVAL_SECONDS="1",
            **env,
        )
        command = [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=solo",
                   "-l", "INFO", "-n", f"{name}@%h"]  # fmt: skip
        if beat:
            command += ["-B", "-s", str(tmp / f"{name}-beat")]
        self.process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=environment,
            stdout=self.log.open("wb"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while "ready." not in self.text():
            assert self.process.poll() is None, self.text()[-3000:]
            assert time.monotonic() < deadline, self.text()[-3000:]
            time.sleep(0.2)

    def kill(self) -> None:
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.kill()


def submit(count: int, prefix: str) -> Job:
    items = [
        {
            "source": "ERP",
            "sourceId": f"{prefix}-{n}",
            "names": [{"language": "EN", "value": f"Product {prefix} {n}"}],
            "sku": f"{prefix}{n}",
        }
        for n in range(count)
    ]
    return services.submit_bulk(
        PRODUCTS,
        {"products": items},
        route=resources.spec("products"),
        lookup_key="sourceId",
        dry_run=False,
        atomic=False,
        client_id=None,
        request_id=f"test-{prefix}",
    )


def wait_until(check, timeout: float, what: str, *workers: Worker):
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            logs = "\n".join(w.text()[-2000:] for w in workers)
            raise AssertionError(f"timed out waiting for {what}\n{logs}")
        time.sleep(0.1)


def assert_complete(job: Job, count: int, prefix: str) -> None:
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED, job.message
    assert job.progress() == {
        "total": count, "processed": count, "create": count, "update": 0, "skip": 0,
        "remove": 0, "error": 0,
    }  # fmt: skip
    products = Product.objects.filter(sku__startswith=prefix)
    assert products.count() == count  # none lost
    assert not products.exclude(version=1).exists()  # none written twice
    outcomes = JobOutcome.objects.filter(job=job)
    assert outcomes.count() == count
    assert set(outcomes.values_list("index", flat=True)) == set(range(count))
    assert set(outcomes.values_list("action", flat=True)) == {"create"}
    created = ChangeEvent.objects.filter(entity="product", action="created", job_id=job.pk)
    assert created.count() == count
    assert ChangeEvent.objects.filter(entity="job", record_id=job.pk).count() == 1


def test_a_killed_worker_leaves_the_job_to_another_that_resumes_it(media, broker):
    count = 3000
    first = Worker("first", media)
    second = None
    try:
        first.wait_ready()
        job = submit(count, "K")
        # mid-job: some batches committed, more to come
        wait_until(
            lambda: Job.objects.get(pk=job.pk).cursor >= 600, 120, "the first batches", first
        )
        first.kill()
        killed_at = Job.objects.get(pk=job.pk)
        assert killed_at.status == Job.Status.RUNNING
        assert 600 <= killed_at.cursor < count, killed_at.cursor
        # the second worker's beat finds the job stale (no heartbeat for 3 s) and resumes it
        second = Worker("second", media, beat=True)
        second.wait_ready()
        wait_until(
            lambda: Job.objects.get(pk=job.pk).finished, 180, "the resumed job", first, second
        )
        assert_complete(job, count, "K")
        job.refresh_from_db()
        assert job.attempts == 2
        print(
            f"\nkill -9 at {killed_at.cursor}/{count} committed; resumed by a second worker: "
            f"{Product.objects.filter(sku__startswith='K').count()} products, "
            f"{JobOutcome.objects.filter(job=job).count()} outcomes, status {job.status}"
        )
    finally:
        first.kill()
        if second is not None:
            second.stop()


def test_several_jobs_run_at_once_on_several_workers(media, broker):
    workers = [Worker(f"w{n}", media) for n in range(2)]
    try:
        for worker in workers:
            worker.wait_ready()
        jobs = [submit(400, f"M{n}-") for n in range(4)]
        wait_until(
            lambda: all(Job.objects.get(pk=j.pk).finished for j in jobs),
            180,
            "every job",
            *workers,
        )
        for n, job in enumerate(jobs):
            assert_complete(job, 400, f"M{n}-")
        for worker in workers:  # both workers ran jobs
            assert "jobs.tasks.run_job" in worker.text() and "succeeded" in worker.text()
        done = Job.objects.filter(pk__in=[j.pk for j in jobs])
        starts = sorted(start for start in done.values_list("started_at", flat=True) if start)
        ends = sorted(end for end in done.values_list("finished_at", flat=True) if end)
        assert len(starts) == len(ends) == 4
        assert starts[1] < ends[0]  # two ran at the same time
    finally:
        for worker in workers:
            worker.stop()
