"""Celery tasks of jobs (SPEC §21): run one job; resume jobs whose worker died; prune old ones."""

from __future__ import annotations

from celery import shared_task
from django.db.models import Q
from django.utils import timezone

from jobs import runner, services
from jobs.models import Job


@shared_task(name="jobs.tasks.run_job")
def run_job(job_id: int) -> None:
    """Run or resume a job (a duplicate delivery, or a second worker, finds it taken)."""
    runner.run(job_id)


@shared_task(name="jobs.tasks.resume_stale_jobs")
def resume_stale_jobs() -> int:
    """Send the task again for every job whose run stopped beating (its worker was killed or
    lost) and every job still queued after as long (its message was lost): the next run
    resumes after the last committed batch. Returns how many were sent."""
    cutoff = timezone.now() - runner.stale_after()
    stale = list(
        Job.objects.filter(
            Q(status=Job.Status.RUNNING, heartbeat_at__lt=cutoff)
            | Q(status=Job.Status.QUEUED, submitted_at__lt=cutoff)
        ).values_list("pk", flat=True)[:1000]
    )
    for job_id in stale:
        run_job.delay(job_id)
    return len(stale)


@shared_task(name="jobs.tasks.prune_jobs")
def prune_jobs() -> int:
    """Delete jobs finished more than ``JOBS_RETENTION_DAYS`` ago, outcomes and inputs (hourly)."""
    return services.prune()
