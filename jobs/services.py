"""Submitting, cancelling and pruning jobs (SPEC §21): the only writes of ``Job`` besides the
runner.

A job is validated like the synchronous request it stands for (lookup key, body shape, item
limit, directives: the same 400 / 413 answers) before it is stored; item-level validation
happens in the batches, exactly as in the synchronous request. The input goes to Django's
default storage (local files under ``MEDIA_ROOT`` by default) and the task is sent when the
submitting transaction commits (in-process at that point when there is no broker).
"""

from __future__ import annotations

import functools
import hashlib
import logging
import uuid
from datetime import datetime, timedelta
from typing import Any, BinaryIO

import orjson
from django.conf import settings
from django.core.files.base import ContentFile, File
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from config.api import errors
from integrations.catalogue_io import format_for_content_type
from jobs import resources
from jobs.models import Job
from jobs.runner import finish
from records.bulk import BulkResource, entities, parse_body, parse_directives

logger = logging.getLogger("jobs")

#: import entity → the bulk route its records go through
IMPORT_ROUTES = {"products": "products", "categories": "categories", "clusters": "clusters"}
#: the scope an import of each entity needs beside ``bulk:write``
IMPORT_SCOPES = {
    "products": "products:write",
    "categories": "categories:write",
    "clusters": "clusters:write",
}


def _input_name(job_kind: str, fmt: str) -> str:
    day = timezone.now().strftime("%Y/%m/%d")
    return f"jobs/{day}/{job_kind}-{uuid.uuid4().hex}.{'csv' if fmt == 'csv' else 'ndjson'}"


def submit_bulk(
    resource: BulkResource,
    body: Any,
    *,
    route: dict[str, Any],
    lookup_key: str,
    dry_run: bool,
    atomic: bool,
    client_id: str | None,
    request_id: str,
) -> Job:
    """A bulk request to run later (``Prefer: respond-async``): validated like the request,
    with ``ASYNC_BULK_MAX_ITEMS`` as the item limit; the items are stored one a line."""
    key = resource.key(lookup_key)
    raw_items, _ = parse_body(body, resource, max_items=settings.ASYNC_BULK_MAX_ITEMS)
    content = b"".join(orjson.dumps(item) + b"\n" for item in raw_items)
    name = default_storage.save(_input_name("bulk", "ndjson"), ContentFile(content))
    job = Job.objects.create(
        kind=Job.Kind.BULK,
        client_id=client_id,
        entity=resources.ROUTE_ENTITIES[route["route"]],
        lookup_key=key.name,
        resource=route,
        directives=body.get("directives"),
        dry_run=dry_run,
        atomic=atomic,
        input=name,
        input_format="ndjson",
        input_bytes=len(content),
        total=len(raw_items),
        request_id=request_id,
    )
    enqueue_on_commit(job.pk)
    return job


class _Limited:
    """A stream read at most ``limit`` bytes: one more is 413 (10011); hashes what it reads."""

    def __init__(self, stream: BinaryIO, limit: int) -> None:
        self.stream, self.limit, self.count = stream, limit, 0
        self.digest = hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        chunk = self.stream.read(1 << 20 if size is None or size < 0 else size)
        self.count += len(chunk)
        if self.count > self.limit:
            raise errors.PayloadTooLarge(
                f"The import is over {self.limit} bytes (MAX_IMPORT_BYTES). Nothing was stored."
            )
        self.digest.update(chunk)
        return chunk


def store_upload(stream: BinaryIO, fmt: str) -> tuple[str, int, str]:
    """Stream an import body to storage: (name, bytes, sha256). Over the limit → 413."""
    limited = _Limited(stream, settings.MAX_IMPORT_BYTES)
    name = _input_name("import", fmt)
    try:
        name = default_storage.save(name, File(limited, name=name))  # type: ignore[arg-type]
    except errors.PayloadTooLarge:
        default_storage.delete(name)
        raise
    if limited.count == 0:
        default_storage.delete(name)
        raise errors.SchemaValidationException(fields={"body": ["The import file is empty."]})
    return name, limited.count, limited.digest.hexdigest()


def discard(name: str) -> None:
    """Drop a stored input no job was made for."""
    default_storage.delete(name)


def import_resource(
    entity: str | None, lookup_key: str | None, *, products_write: bool
) -> tuple[dict[str, Any], BulkResource, str]:
    """The route spec, resource and key of ``?entity=…&lookupKey=…`` (400 when unknown)."""
    if entity not in IMPORT_ROUTES or entity not in entities():
        raise errors.SchemaValidationException(
            fields={"entity": [f"Required: one of {', '.join(IMPORT_ROUTES)}."]}
        )
    route = resources.spec(IMPORT_ROUTES[entity], products_write=products_write)
    resource = resources.build(route)
    key = lookup_key or entities()[entity].default_key
    resource.key(key)  # 10006
    return route, resource, key


def import_format(content_type: str, asked: str | None = None) -> str:
    """The reader of an upload: its media type names it (``application/x-ndjson``,
    ``text/csv``), or ``application/octet-stream`` with ``asked`` (``?format=``, default
    ndjson: what client generators send for a file body). 415 for anything else."""
    kind = (content_type or "").split(";")[0].strip().lower()
    fmt = format_for_content_type(kind)
    if fmt is None and kind == "application/octet-stream":
        return asked or "ndjson"
    if fmt is None:
        raise errors.UnsupportedMediaType(
            "An import body is NDJSON (Content-Type: application/x-ndjson) or CSV (text/csv), "
            "or application/octet-stream with ?format=ndjson|csv."
        )
    if asked is not None and asked != fmt:
        raise errors.SchemaValidationException(
            fields={"format": [f"The Content-Type {kind} says {fmt}."]}
        )
    return fmt


def submit_import(
    *,
    entity: str,
    route: dict[str, Any],
    resource: BulkResource,
    lookup_key: str,
    stored: tuple[str, int],
    fmt: str,
    directives: Any,
    dry_run: bool,
    atomic: bool,
    client_id: str | None = None,
    user: Any = None,
    request_id: str = "",
) -> Job:
    """An import of a stored file (``store_upload``), run like ``import_catalogue``."""
    name, size = stored
    try:
        parse_directives(directives, resource.schema)  # 400 before anything runs
    except errors.ApiError:
        discard(name)
        raise
    job = Job.objects.create(
        kind=Job.Kind.IMPORT,
        client_id=client_id,
        created_by=user,
        entity=entity,
        lookup_key=lookup_key,
        resource=route,
        directives=directives,
        dry_run=dry_run,
        atomic=atomic,
        input=name,
        input_format=fmt,
        input_bytes=size,
        request_id=request_id,
    )
    enqueue_on_commit(job.pk)
    return job


def enqueue_on_commit(job_id: int) -> None:
    transaction.on_commit(lambda: enqueue(job_id))


def enqueue(job_id: int) -> None:
    """Send the job's task; without a broker it runs here and now (``make run``), and a
    failure there is logged, not raised into the request that already committed it."""
    from jobs.tasks import run_job

    try:
        run_job.delay(job_id)
    except Exception:
        if not settings.CELERY_TASK_ALWAYS_EAGER:
            raise
        logger.exception("job failed in-process", extra={"jobId": job_id})


def cancel(job: Job) -> Job:
    """Cancel a queued or running job: a running one stops at its next batch boundary (the
    batch in flight either commits first or not at all). 409 (10027) once finished."""
    with transaction.atomic():
        current = Job.objects.select_for_update().get(pk=job.pk)
        if current.finished:
            raise errors.JobNotCancellable(
                f"Job {job.pk} already finished ({current.status}); it cannot be cancelled."
            )
        finish(current, Job.Status.CANCELLED, "Cancelled.")
    return current


def prune(now: datetime | None = None, *, chunk: int = 100) -> int:
    """Delete jobs finished more than ``JOBS_RETENTION_DAYS`` ago with their outcomes and, once
    that committed, their stored inputs; returns how many jobs went. Queued and running jobs
    stay whatever their age (a stale one is resumed, not pruned)."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.JOBS_RETENTION_DAYS)
    old = Job.objects.filter(status__in=Job.FINISHED, finished_at__lt=cutoff).order_by("pk")
    pruned = 0
    while batch := list(old.values_list("pk", "input")[:chunk]):
        ids, names = [pk for pk, _ in batch], [name for _, name in batch if name]
        with transaction.atomic():
            Job.objects.filter(pk__in=ids).delete()  # the outcomes go with them (one DELETE)
            transaction.on_commit(functools.partial(_delete_inputs, names))
        pruned += len(ids)
    return pruned


def _delete_inputs(names: list[str]) -> None:
    for name in names:
        try:
            default_storage.delete(name)
        except OSError:  # a missing or unreadable file must not stop the rest
            logger.warning("job input not deleted", extra={"input": name}, exc_info=True)
