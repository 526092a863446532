"""Running a job (SPEC §21): its input in batches through the bulk services, resumable.

Batch mode (the default): each batch is ONE transaction holding the bulk write, the batch's
outcomes, the counters and the new ``cursor``, committed only while the run still holds the
job's ``lease`` (checked under the job row's lock). A worker killed mid-batch leaves nothing of
that batch; whoever claims the job next skips ``cursor`` records and goes on, so no item is lost
or written twice, and ``JobOutcome``'s unique (job, index) would refuse a second outcome anyway.

One-transaction mode (``dryRun`` or ``atomic``, as ``import_catalogue --dry-run/--atomic``): the
whole input in one transaction, so a record may refer to one of an earlier batch; the outcomes
are spooled to a temporary file and stored in the transaction that records the end (after the
rollback of a dry run or of an atomic job with a failed item). A worker killed mid-way leaves
nothing, and the job starts over. On PostgreSQL its progress and heartbeat are written through a
second connection, so they show while it runs.
"""

from __future__ import annotations

import contextlib
import logging
import tempfile
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import timedelta
from itertools import islice
from typing import Any, BinaryIO, cast

import orjson
from django.conf import settings
from django.core.files.storage import default_storage
from django.db import connection, connections, transaction
from django.db.models import F
from django.utils import timezone

from changes import outbox
from changes.context import Actor, acting_as
from config.api import errors
from config.api.errors import ApiError
from integrations.catalogue_io import BadRecord, JsonArrayError, RecordPreparer, reader
from integrations.management.commands.import_catalogue import analyse_catalogue_tables
from jobs import resources
from jobs.models import Job, JobOutcome
from records.bulk import ROLLED_BACK, BulkResource, run_bulk
from records.bulk_sql import insert_rows
from records.context import request_id_var

logger = logging.getLogger("jobs")

Batch = list[tuple[int, Any]]  # (input line, record or BadRecord)
COUNTERS = {
    "create": "created",
    "update": "updated",
    "skip": "skipped",
    "remove": "removed",
    "error": "failed_items",
}


class LostLease(Exception):  # noqa: N818 - control flow
    """Another run took the job over (this one was thought dead): stop without writing."""


class _Rollback(Exception):  # noqa: N818 - control flow
    pass


def stale_after() -> timedelta:
    return timedelta(seconds=settings.JOBS_STALE_SECONDS)


def claim(job_id: int) -> str | None:
    """Take the job for this run: a new lease, or None when it is finished, cancelled, or
    running elsewhere with a fresh heartbeat (a duplicate delivery)."""
    now = timezone.now()
    with transaction.atomic():
        job = Job.objects.select_for_update(skip_locked=True).filter(pk=job_id).first()
        if job is None or job.finished:
            return None
        if (
            job.status == Job.Status.RUNNING
            and job.heartbeat_at is not None
            and job.heartbeat_at > now - stale_after()
        ):
            return None
        if job.attempts >= settings.JOBS_MAX_ATTEMPTS:
            finish(job, Job.Status.FAILED, f"Gave up after {job.attempts} attempts.")
            return None
        job.lease = uuid.uuid4().hex
        job.status = Job.Status.RUNNING
        job.started_at = job.started_at or now
        job.heartbeat_at = now
        job.attempts += 1
        job.save(update_fields=["lease", "status", "started_at", "heartbeat_at", "attempts"])
        return job.lease


def run(job_id: int) -> None:
    """Run (or resume) the job, if no other run holds it."""
    lease = claim(job_id)
    if lease is None:
        return
    job = Job.objects.select_related("created_by").get(pk=job_id)
    actor = Actor("client", job.client_id) if job.client_id else _user_actor(job)
    token = request_id_var.set(job.request_id)
    try:
        with acting_as(actor, job_id=job.pk):
            try:
                resource = resources.build(job.resource)
                if job.one_transaction:
                    _run_whole(job, resource, lease)
                else:
                    _run_batches(job, resource, lease)
            except LostLease:
                logger.info("job lease lost", extra={"jobId": job.pk})
            except ApiError as exc:
                _fail(job, lease, exc.message + _fields(exc))
            except JsonArrayError as exc:
                _fail(job, lease, f"The file is not readable: {exc}.")
            except UnicodeDecodeError as exc:
                _fail(job, lease, f"The file is not UTF-8 text ({exc}).")
    finally:
        request_id_var.reset(token)


def _user_actor(job: Job) -> Actor:
    if job.created_by_id is None:
        return Actor("system")
    return Actor("user", job.created_by.get_username() if job.created_by else "")


def error_object(exc: ApiError) -> dict[str, Any]:
    """An item error as the bulk routes render it (``config.api.outcomes.error_object``), with
    ``moreInfo`` relative to the service: a stored outcome outlives the request's host."""
    return {**exc.as_dict(), "moreInfo": f"/docs/errors#{exc.code}"}


def batch_size(resource: BulkResource) -> int:
    return max(1, min(settings.JOBS_BATCH_SIZE, resource.max_items))


@contextlib.contextmanager
def _records(job: Job, resource: BulkResource) -> Iterator[Iterator[tuple[int, Any]]]:
    with default_storage.open(job.input.name, "rb") as stored:
        stream = cast(BinaryIO, getattr(stored, "file", None) or stored)
        yield reader(job.input_format, stream, resource.schema)


def _batches(records: Iterator[tuple[int, Any]], size: int) -> Iterator[Batch]:
    while batch := list(islice(records, size)):
        yield batch


#: index → (the key as sent, the message of its 10020): items repeating an earlier item's key
Repeats = dict[int, tuple[Any, str]]


def repeated_keys(job: Job, resource: BulkResource) -> Repeats:
    """A bulk job's items that repeat the key of an earlier item (10020), found across the
    whole request as the synchronous route does, though each batch is its own ``run_bulk``.
    Only bulk jobs (at most ``ASYNC_BULK_MAX_ITEMS`` keys in memory); an import, like
    ``import_catalogue``, checks repeats within each batch and keeps memory flat."""
    if job.kind != Job.Kind.BULK:
        return {}
    key = resource.key(job.lookup_key)
    seen: dict[tuple, int] = {}
    repeats: Repeats = {}
    with _records(job, resource) as records:
        for index, (_line, record) in enumerate(records):
            if not isinstance(record, dict):
                continue
            errs: dict[str, list[str]] = {}
            values = [record.get(name) for name in key.fields]
            if any(value is None for value in values):
                continue  # 10016, the batch says so
            cleaned = tuple(
                validator.clean(value, name, errs)
                for (name, validator), value in zip(key.fields.items(), values, strict=True)
            )
            if errs:
                continue  # 10007, the batch says so
            if cleaned in seen:
                repeats[index] = (
                    values[0],
                    f"The {key.name} [{values[0]}] is already used by item {seen[cleaned]} "
                    "of this request.",
                )
            else:
                seen[cleaned] = index
    return repeats


def _failed(job: Job, index: int, key: Any, error: ApiError) -> dict[str, Any]:
    return {
        "index": index,
        "action": "error",
        "id": None,
        "lookupKey": job.lookup_key,
        "key": key,
        "success": False,
        "error": error_object(error),
    }


def apply_batch(
    job: Job,
    resource: BulkResource,
    batch: Batch,
    start: int,
    prepare: Callable[[Any], Any],
    repeats: Repeats | None = None,
) -> list[dict[str, Any]]:
    """One batch through ``run_bulk`` (the bulk routes' service): its outcomes, indexed over
    the whole job. Records that do not parse are their own item errors (10005), items that
    repeat an earlier batch's key fail with 10020 before the batch runs."""
    outcomes: list[dict[str, Any] | None] = [None] * len(batch)
    items, positions = [], []
    for position, (_line, record) in enumerate(batch):
        index = start + position
        if isinstance(record, BadRecord):
            outcomes[position] = _failed(
                job, index, None, errors.InvalidJSONPayload(record.message)
            )
        elif repeats and index in repeats:
            key, message = repeats[index]
            outcomes[position] = _failed(job, index, key, errors.DuplicateItemInRequest(message))
        else:
            items.append(prepare(record))
            positions.append(position)
    if items:
        body: dict[str, Any] = {resource.items_key: items}
        if job.directives is not None:
            body["directives"] = job.directives
        result = run_bulk(resource, body, lookup_key=job.lookup_key)
        for item, position in zip(result.items, positions, strict=True):
            outcome = result.outcome(item, error_object)
            outcome["index"] = start + position
            outcomes[position] = outcome
    return [
        {
            "job_id": job.pk,
            "index": start + position,
            "action": outcome["action"],
            "line": batch[position][0],
            "outcome": outcome,
        }
        for position, outcome in enumerate(outcomes)
        if outcome is not None
    ]


def _preparer(job: Job, resource: BulkResource) -> Callable[[Any], Any]:
    if job.kind == Job.Kind.IMPORT:
        return RecordPreparer(resource.schema, job.lookup_key)
    return lambda record: record


OUTCOME_COLUMNS = ("job_id", "index", "action", "line", "outcome")


def _counts(rows: list[dict[str, Any]]) -> Counter[str]:
    return Counter(row["action"] for row in rows)


def _insert_outcomes(rows: list[dict[str, Any]]) -> None:
    """One statement per batch (``insert_rows``: the rows travel as one JSON parameter)."""
    insert_rows(JobOutcome, OUTCOME_COLUMNS, rows)


def _run_batches(job: Job, resource: BulkResource, lease: str) -> None:
    prepare = _preparer(job, resource)
    repeats = repeated_keys(job, resource)
    done = job.cursor
    with _records(job, resource) as records:
        for _ in islice(records, done):  # committed before: skip
            pass
        for batch in _batches(records, batch_size(resource)):
            with transaction.atomic():
                current = Job.objects.select_for_update().only("lease", "status").get(pk=job.pk)
                if current.lease != lease:
                    raise LostLease
                if current.status == Job.Status.CANCELLED:
                    return
                rows = apply_batch(job, resource, batch, done, prepare, repeats)
                _insert_outcomes(rows)
                counts = _counts(rows)
                Job.objects.filter(pk=job.pk).update(
                    cursor=F("cursor") + len(batch),
                    heartbeat_at=timezone.now(),
                    **{COUNTERS[a]: F(COUNTERS[a]) + n for a, n in counts.items()},
                )
            done += len(batch)
    if job.kind == Job.Kind.IMPORT or done >= settings.JOBS_ANALYZE_ROWS:
        analyse_catalogue_tables()
    with transaction.atomic():
        current = Job.objects.select_for_update().get(pk=job.pk)
        if current.lease != lease:
            raise LostLease
        if current.finished:
            return
        current.total = done
        finish(current, Job.Status.SUCCEEDED)


class _SideChannel:
    """PostgreSQL: progress and heartbeat of a one-transaction job through a second
    connection (autocommit), so they are seen while the job's transaction is open (nothing on
    SQLite: one writer at a time). Each update first checks, on the job's own connection, that
    the run still holds the lease (a cancel clears it)."""

    def __init__(self, job: Job, lease: str) -> None:
        self.job, self.lease = job, lease
        self.conn = connections.create_connection("default") if _postgres() else None

    def update(self, counts: Counter[str], processed: int) -> None:
        # the lease (and a cancel) as the job's own connection sees them: committed by others
        current = Job.objects.filter(pk=self.job.pk).values("lease", "status").first()
        if current is None or current["lease"] != self.lease:
            raise LostLease
        if self.conn is None:
            return
        table = Job._meta.db_table
        columns = ", ".join(f"{COUNTERS[a]} = %s" for a in COUNTERS)
        with self.conn.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} SET {columns}, cursor = %s, heartbeat_at = %s "  # noqa: S608
                "WHERE id = %s AND lease = %s",
                [
                    *(counts[a] for a in COUNTERS),
                    processed,
                    timezone.now(),
                    self.job.pk,
                    self.lease,
                ],
            )

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()


def _postgres() -> bool:
    return connection.vendor == "postgresql"


def _run_whole(job: Job, resource: BulkResource, lease: str) -> None:
    prepare = _preparer(job, resource)
    repeats = repeated_keys(job, resource)
    counts: Counter[str] = Counter()
    done = 0
    side = _SideChannel(job, lease)
    rolled_back = False
    try:
        with tempfile.TemporaryFile() as spool:
            try:
                with transaction.atomic():
                    with _records(job, resource) as records:
                        for batch in _batches(records, batch_size(resource)):
                            rows = apply_batch(job, resource, batch, done, prepare, repeats)
                            for row in rows:
                                spool.write(orjson.dumps(row) + b"\n")
                            counts.update(_counts(rows))
                            done += len(batch)
                            side.update(counts, done)
                    if job.dry_run or (job.atomic and counts["error"]):
                        raise _Rollback
                    _store(job, lease, spool, counts, done, rolled_back=False)
            except _Rollback:
                rolled_back = True
            if rolled_back:
                with transaction.atomic():
                    _store(job, lease, spool, counts, done, rolled_back=True)
    finally:
        side.close()
    if not rolled_back:
        analyse_catalogue_tables()


def _store(
    job: Job, lease: str, spool: Any, counts: Counter[str], done: int, *, rolled_back: bool
) -> None:
    """The spooled outcomes and the end of the job, in the caller's transaction. After a
    rollback the outcomes say so, as the synchronous request's do: a dry run's creates have no
    id; an atomic job's good items are ``success: false`` with ``reason: rolledBack``."""
    current = Job.objects.select_for_update().get(pk=job.pk)
    if current.lease != lease:
        raise LostLease
    if current.finished:
        return
    undone = rolled_back and not job.dry_run
    spool.seek(0)
    rows: list[dict[str, Any]] = []
    for raw in spool:
        row = orjson.loads(raw)
        if rolled_back:
            _unwritten(row["outcome"], undone)
        rows.append(row)
        if len(rows) >= 1000:
            _insert_outcomes(rows)
            rows = []
    _insert_outcomes(rows)
    current.total = current.cursor = done
    for action, column in COUNTERS.items():
        setattr(current, column, counts[action])
    if undone:
        finish(
            current,
            Job.Status.FAILED,
            f"Atomic job: {counts['error']} item(s) failed, so nothing was written.",
        )
    else:
        finish(
            current, Job.Status.SUCCEEDED, "Dry run: nothing was written." if job.dry_run else ""
        )


def _unwritten(outcome: dict[str, Any], undone: bool) -> None:
    """An outcome of a write that was rolled back (nested outcomes alike)."""
    if outcome["action"] == "create":
        outcome["id"] = None
    if undone and outcome["action"] != "error":
        outcome["success"] = False
        outcome["reason"] = ROLLED_BACK
    for name in ("products", "options"):
        for nested in outcome.get(name) or ():
            _unwritten(nested, undone)


def finish(job: Job, status: str, message: str = "") -> None:
    """Record the end (in the caller's transaction) with its ``job.finished`` event."""
    job.status = status
    job.finished_at = timezone.now()
    job.lease = ""
    if message:
        job.message = message
    job.save()
    outbox.job_finished(
        job.pk,
        status=status,
        progress=job.progress(),
        actor=Actor("client", job.client_id) if job.client_id else _user_actor(job),
        request_id=job.request_id,
    )


def _fail(job: Job, lease: str, message: str) -> None:
    with transaction.atomic():
        current = Job.objects.select_for_update().get(pk=job.pk)
        if current.lease != lease or current.finished:
            return
        finish(current, Job.Status.FAILED, message)


def _fields(exc: ApiError) -> str:
    if not exc.fields:
        return ""
    return " " + "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.fields.items())
