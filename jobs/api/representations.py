"""A job and its error report as the API shows them (SPEC §21)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from jobs.models import Job, JobOutcome
from records.components import component
from records.rules import timestamp

STATUSES = [s.value for s in Job.Status]
COUNTS = ("total", "processed", "create", "update", "skip", "remove", "error")
_TIME = {"type": ["string", "null"], "format": "date-time"}


@component("Job")
def job_schema() -> dict[str, Any]:
    return {
        "type": "object",
        "required": [
            "id", "kind", "entity", "lookupKey", "status", "submittedAt", "startedAt",
            "finishedAt", "progress", "dryRun", "atomic", "requestId", "message", "outcomes",
            "errors",
        ],
        "properties": {
            "id": {"type": "integer"},
            "kind": {"type": "string", "enum": [k.value for k in Job.Kind]},
            "entity": {"type": "string", "description": "What the items are: products, "
                       "categories, clusters or options."},
            "lookupKey": {"type": "string", "description": "The key the items are matched on."},
            "status": {"type": "string", "enum": STATUSES},
            "submittedAt": {"type": "string", "format": "date-time"},
            "startedAt": _TIME,
            "finishedAt": _TIME,
            "progress": {
                "type": "object",
                "required": list(COUNTS),
                "properties": {
                    "total": {"type": ["integer", "null"], "minimum": 0,
                              "description": "Items in the input (imports: once read to the end)."},
                    **{name: {"type": "integer", "minimum": 0} for name in COUNTS[1:]},
                },
                "additionalProperties": False,
            },
            "dryRun": {"type": "boolean"},
            "atomic": {"type": "boolean"},
            "requestId": {"type": ["string", "null"]},
            "message": {"type": ["string", "null"],
                        "description": "Why the job failed as a whole, or a note on its end."},
            "outcomes": {"type": "string", "format": "uri"},
            "errors": {"type": "string", "format": "uri"},
        },
        "additionalProperties": False,
    }  # fmt: skip


def job_representation(job: Job, request: HttpRequest | None) -> dict[str, Any]:
    base = f"/v2/jobs/{job.pk}"

    def url(path: str) -> str:
        return request.build_absolute_uri(path) if request is not None else path

    return {
        "id": job.pk,
        "kind": job.kind,
        "entity": job.entity,
        "lookupKey": job.lookup_key,
        "status": job.status,
        "submittedAt": timestamp(job.submitted_at),
        "startedAt": timestamp(job.started_at) if job.started_at else None,
        "finishedAt": timestamp(job.finished_at) if job.finished_at else None,
        "progress": job.progress(),
        "dryRun": job.dry_run,
        "atomic": job.atomic,
        "requestId": job.request_id or None,
        "message": job.message or None,
        "outcomes": url(f"{base}/outcomes"),
        "errors": url(f"{base}/errors"),
    }


@component("JobErrorLine")
def error_line_schema() -> dict[str, Any]:
    """One line of ``/v2/jobs/{id}/errors``: as ``import_catalogue --errors`` writes it."""
    from config.api.outcomes import item_error_schema

    return {
        "type": "object",
        "required": ["line", "record", "lookupKey", "key", "error"],
        "properties": {
            "line": {"type": "integer", "description": "The input line the record starts on."},
            "record": {"type": "integer", "description": "The record's number (1-based)."},
            "lookupKey": {"type": "string"},
            "key": {"description": "The lookup value as sent (null when none)."},
            "error": item_error_schema(),
        },
        "additionalProperties": False,
    }


def error_line(job: Job, outcome: JobOutcome) -> dict[str, Any]:
    return {
        "line": outcome.line,
        "record": outcome.index + 1,
        "lookupKey": job.lookup_key,
        "key": outcome.outcome.get("key"),
        "error": outcome.outcome.get("error"),
    }
