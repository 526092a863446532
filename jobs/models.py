"""Jobs (SPEC §21): an asynchronous bulk request or an import, run in committed batches.

A job's input is a file in Django's default storage (NDJSON: the bulk request's items one a line,
or the uploaded import file as it came). ``cursor`` counts the input records whose batch has
committed, together with their outcomes and the counters, in ONE transaction: a worker that
dies mid-job leaves the job at its last committed batch, and whoever resumes it skips
``cursor`` records and goes on. ``lease`` names the run that may commit the next batch, so two
workers never both write a job.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from oauth2_provider.models import Application


class Job(models.Model):
    class Kind(models.TextChoices):
        BULK = "bulk"
        IMPORT = "import"

    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        SUCCEEDED = "succeeded"
        FAILED = "failed"
        CANCELLED = "cancelled"

    FINISHED = (Status.SUCCEEDED, Status.FAILED, Status.CANCELLED)

    id = models.BigAutoField(primary_key=True)
    kind = models.CharField(max_length=8, choices=Kind.choices)
    #: the API client that submitted it (None: the back office)
    client = models.ForeignKey(
        Application,
        to_field="client_id",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    entity = models.CharField(max_length=32)
    lookup_key = models.CharField(max_length=32)
    #: how the worker rebuilds the bulk resource (``jobs.resources``): route and its arguments
    resource = models.JSONField(default=dict)
    directives = models.JSONField(null=True, blank=True)
    dry_run = models.BooleanField(default=False)
    atomic = models.BooleanField(default=False)
    input = models.FileField(upload_to="jobs/%Y/%m/%d/", max_length=255)
    input_format = models.CharField(max_length=8, default="ndjson")
    input_bytes = models.BigIntegerField(default=0)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    request_id = models.CharField(max_length=128, blank=True, default="")
    submitted_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    #: records in the input (known up front for bulk jobs, at the end for imports)
    total = models.IntegerField(null=True, blank=True)
    #: input records whose batch has committed (the resume point)
    cursor = models.IntegerField(default=0)
    created = models.IntegerField(default=0)
    updated = models.IntegerField(default=0)
    skipped = models.IntegerField(default=0)
    removed = models.IntegerField(default=0)
    failed_items = models.IntegerField(default=0)
    #: the run allowed to commit batches, and when it last did (stale → resumed elsewhere)
    lease = models.CharField(max_length=64, blank=True, default="")
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    attempts = models.IntegerField(default=0)
    #: why the job failed as a whole (a request-level error of a batch, an unreadable file)
    message = models.TextField(blank=True, default="")

    class Meta:
        indexes = [
            models.Index(fields=["client", "-id"], name="job_client_newest"),
            models.Index(fields=["status", "heartbeat_at"], name="job_status_heartbeat"),
        ]
        # the back office's import page: which entities a user may import (``<entity>`` in
        # the codename, ``grant_group_permissions``' ``<action>_<model>`` form)
        permissions = [
            ("import_products_job", "Can import products in the back office"),
            ("import_categories_job", "Can import categories in the back office"),
            ("import_clusters_job", "Can import clusters in the back office"),
        ]

    def __str__(self) -> str:
        return f"Job {self.pk} ({self.kind} {self.entity}, {self.status})"

    @property
    def finished(self) -> bool:
        return self.status in self.FINISHED

    @property
    def one_transaction(self) -> bool:
        """Dry-run and atomic jobs run in one transaction (like ``import_catalogue``)."""
        return self.dry_run or self.atomic

    def progress(self) -> dict[str, int | None]:
        return {
            "total": self.total,
            "processed": self.cursor,
            "create": self.created,
            "update": self.updated,
            "skip": self.skipped,
            "remove": self.removed,
            "error": self.failed_items,
        }


class JobOutcome(models.Model):
    """One input record's outcome: the bulk outcome as the API renders it (``index`` counts
    over the whole job) and, for the error report, the input line it came from."""

    id = models.BigAutoField(primary_key=True)
    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="outcomes")
    index = models.IntegerField()
    action = models.CharField(max_length=8)
    line = models.IntegerField()
    outcome = models.JSONField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["job", "index"], name="job_outcome_once"),
        ]
        indexes = [models.Index(fields=["job", "action", "index"], name="job_outcome_action")]

    def __str__(self) -> str:
        return f"Job {self.job_id} item {self.index}: {self.action}"
