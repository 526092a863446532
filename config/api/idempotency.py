"""``Idempotency-Key`` on POST (SPEC §18), kept in the database of record.

The first completed answer for a (client, key) pair is kept for 24 hours and replayed byte for byte
(status, body, ``Content-Type``, ``Location``, ``ETag``) to a retry of the same request; the same
key with another request (method, path, query string or body) is 422 (10023).

``claim`` inserts the record inside the transaction that ``ApiView`` opens around every write, and
``store`` fills it with the rendered answer before that transaction commits: a claim dies with its
transaction (a 5xx, an exception, a killed worker), so a retry runs again and writes once. A
duplicate that arrives while the first request runs blocks on the unique index until the first
commits, then replays its answer; on PostgreSQL that wait is bounded by ``lock_timeout``
(``IDEMPOTENCY_WAIT_SECONDS``) and then answered 409 (10022) rather than holding a worker.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import OperationalError, connection, transaction
from django.http import HttpResponse
from django.utils import timezone

from config.api.errors import (
    IdempotencyKeyReused,
    IdempotentRequestInProgress,
    SchemaValidationException,
)
from config.api.models import IdempotencyRecord

HEADER = "Idempotency-Key"
REPLAYED_HEADERS = ("Content-Type", "Location", "ETag")
LOCK_NOT_AVAILABLE = "55P03"


class Replay(Exception):  # noqa: N818 - control flow, not an error
    def __init__(self, response: HttpResponse) -> None:
        super().__init__("replay")
        self.response = response


@dataclass(frozen=True)
class Claim:
    record_id: int


def fingerprint(request, body_digest: str | None = None) -> str:
    """What makes two requests the same: method, path, query string and body (or the body's
    SHA-256 when the view streamed it: ``body_digest``)."""
    digest = hashlib.sha256()
    for part in (
        request.method.encode(),
        request.path.encode(),
        request.META.get("QUERY_STRING", "").encode(),
    ):
        digest.update(part + b"\n")
    digest.update(request.body if body_digest is None else body_digest.encode())
    return digest.hexdigest()


def claim(request, client_id: str, *, body_digest: str | None = None) -> Claim | None:
    """Claim the key for this request, or raise ``Replay`` / 409 / 422. None without a key.

    Must run inside the request's transaction (``ApiView.dispatch``).
    """
    key = request.headers.get(HEADER)
    if key is None or request.method != "POST":
        return None
    if not key.strip() or len(key) > 255:
        raise SchemaValidationException(fields={HEADER: ["Must be 1 to 255 characters."]})
    print_ = fingerprint(request, body_digest)
    for _ in range(2):  # a second round only after removing an expired record
        record_id = _insert(client_id, key, print_)
        if record_id is not None:
            return Claim(record_id)
        record = (
            IdempotencyRecord.objects.filter(client_id=client_id, key=key)
            .only("id", "fingerprint", "status", "headers", "content", "created_at")
            .first()
        )
        if record is None:
            continue  # pruned between the two statements: claim again
        if record.created_at < timezone.now() - timedelta(seconds=settings.IDEMPOTENCY_TTL_SECONDS):
            IdempotencyRecord.objects.filter(pk=record.pk).delete()
            continue
        if record.fingerprint != print_:
            raise IdempotencyKeyReused(
                f"Idempotency-Key '{key}' was used with a different request "
                "(method, path, query string or body)."
            )
        if record.status is None:  # never committed so by ApiView; be safe rather than rerun
            raise _in_progress(key)
        raise Replay(_response(record))
    raise _in_progress(key)


def _insert(client_id: str, key: str, print_: str) -> int | None:
    """INSERT … ON CONFLICT DO NOTHING: the id of the new claim, or None when the key is taken.

    A concurrent uncommitted claim of the same key makes this statement wait for its transaction.
    """
    table = IdempotencyRecord._meta.db_table
    quote = connection.ops.quote_name
    sql = (
        f"INSERT INTO {table} (client_id, {quote('key')}, fingerprint, status, headers, content,"
        " created_at) VALUES (%s, %s, %s, NULL, %s, %s, %s)"
        f" ON CONFLICT (client_id, {quote('key')}) DO NOTHING RETURNING id"
    )
    params = [
        client_id,
        key,
        print_,
        "{}",
        b"",
        connection.ops.adapt_datetimefield_value(timezone.now()),
    ]
    postgres = connection.vendor == "postgresql"
    with connection.cursor() as cursor:
        if postgres:
            wait_ms = int(settings.IDEMPOTENCY_WAIT_SECONDS * 1000)
            cursor.execute("SELECT set_config('lock_timeout', %s, true)", [f"{wait_ms}ms"])
        try:
            cursor.execute(sql, params)
            row = cursor.fetchone()
        except OperationalError as exc:
            if getattr(exc.__cause__, "sqlstate", None) != LOCK_NOT_AVAILABLE:
                raise
            # The transaction is aborted; nothing was written yet, so roll it all back.
            transaction.set_rollback(True)
            raise _in_progress(key) from exc
        if postgres:
            cursor.execute("SET LOCAL lock_timeout TO DEFAULT")
    return row[0] if row else None


def store(claim_: Claim, response) -> None:
    """Keep the rendered answer in the claim's row (same transaction as the write)."""
    IdempotencyRecord.objects.filter(pk=claim_.record_id).update(
        status=response.status_code,
        headers={h: response[h] for h in REPLAYED_HEADERS if response.has_header(h)},
        content=response.content,
    )


def prune_idempotency_records(older_than: timedelta | None = None) -> int:
    """Delete records past ``IDEMPOTENCY_TTL_SECONDS``; returns how many were removed."""
    age = older_than or timedelta(seconds=settings.IDEMPOTENCY_TTL_SECONDS)
    deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=timezone.now() - age).delete()
    return deleted


def _in_progress(key: str) -> IdempotentRequestInProgress:
    return IdempotentRequestInProgress(
        f"A request with Idempotency-Key '{key}' is still running; retry later."
    )


def _response(record: IdempotencyRecord) -> HttpResponse:
    response = HttpResponse(bytes(record.content), status=record.status)
    for name, value in record.headers.items():
        response[name] = value
    response["Idempotent-Replayed"] = "true"
    return response
