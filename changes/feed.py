"""Reading the outbox: the change feed and a record's history (SPEC §19).

Ordering guarantee. Events are ordered by ``(txid, id)``: the writing transaction's id, then the
event's own id. On PostgreSQL the feed exposes only events of transactions below the oldest
transaction of this database still in flight (``_HORIZON_SQL``, from the snapshot of the same
statement that reads the page) — so every transaction whose events are exposed has
finished, and every transaction that may still add events has a txid at or above that horizon,
which sorts after everything already handed out. A cursor ``(txid, id)`` therefore never steps
over an event that commits later: a reader that follows ``nextCursor`` sees every committed
event exactly once, each transaction's events together. SQLite serialises writers, so events
commit in id order; ``txid`` is 0 there and the order is the id.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import Q, QuerySet
from django.db.models.expressions import RawSQL
from django.utils import timezone

from changes.models import ChangeEvent
from config.api import errors
from records.rules import timestamp

#: the largest id: a cursor "after everything of transaction t"
MAX_ID = 2**63 - 1
#: The oldest transaction in flight in THIS database, as of the statement's snapshot: the
#: smallest in-progress txid of the snapshot that is not known to belong to another database
#: (``pg_stat_activity``; an xid it cannot place, e.g. one that committed meanwhile or a prepared
#: transaction, counts as ours), else the snapshot's xmax. ``pg_snapshot_xmin`` alone would be
#: cluster-wide: a long transaction in any other database on the server would stall the feed.
#: (``backend_xid`` is a 32-bit xid; the snapshot's xids are 64-bit with the epoch on top.)
_HORIZON_SQL = (
    "(SELECT COALESCE("
    "(SELECT min(x::text::bigint) FROM pg_snapshot_xip(s.snap) AS x"
    " WHERE x::text::bigint %% 4294967296 NOT IN ("
    "SELECT backend_xid::text::bigint FROM pg_stat_activity"
    " WHERE backend_xid IS NOT NULL AND datname IS DISTINCT FROM current_database())),"
    " pg_snapshot_xmax(s.snap)::text::bigint)"
    " FROM (SELECT pg_current_snapshot() AS snap) AS s)"
)


@dataclass(frozen=True)
class Position:
    """Where a reader stands: after event ``id`` of transaction ``txid``, read at ``at_ms``."""

    txid: int
    id: int
    at_ms: int

    def token(self) -> str:
        """Opaque and increasing in feed order: fixed-width hex of txid, id, then the time."""
        return f"{self.txid:016x}{self.id:016x}{self.at_ms:012x}"

    @classmethod
    def parse(cls, token: str) -> Position:
        if len(token) != 44:
            raise _bad_cursor()
        try:
            return cls(int(token[:16], 16), int(token[16:32], 16), int(token[32:], 16))
        except ValueError as exc:
            raise _bad_cursor() from exc

    @classmethod
    def of(cls, event: ChangeEvent) -> Position:
        return cls(event.txid, event.id, _ms(event.at))


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _bad_cursor() -> errors.ApiError:
    return errors.PaginatedResponseException(
        "The cursor is malformed.", fields={"after": ["Malformed cursor."]}
    )


def retention() -> timedelta:
    return timedelta(days=settings.CHANGES_RETENTION_DAYS)


def check_not_expired(position: Position) -> None:
    """A cursor older than the retention may have lost events to pruning: 410 (10024)."""
    if position.at_ms < _ms(timezone.now() - retention()):
        raise errors.ChangesCursorExpired(
            f"The cursor is older than the feed's retention ({settings.CHANGES_RETENTION_DAYS} "
            "days): events after it may have been pruned. Resync with a full export, then follow "
            "the feed from a fresh cursor."
        )


def _exposed(queryset: QuerySet) -> QuerySet:
    """Only events below the oldest transaction in flight (PostgreSQL; see the module)."""
    if connection.vendor == "postgresql":
        return queryset.filter(txid__lt=RawSQL(_HORIZON_SQL, []))
    return queryset


def _horizon() -> Position:
    """A position after every exposed event and before every event still to come."""
    now = _ms(timezone.now())
    if connection.vendor != "postgresql":
        last = ChangeEvent.objects.order_by("-id").values_list("id", flat=True).first()
        return Position(0, last or 0, now)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {_HORIZON_SQL}", [])
        (horizon,) = cursor.fetchone()
    return Position(horizon - 1, MAX_ID, now)


def feed(
    *,
    entities: list[str],
    actions: list[str] | None = None,
    source: str | None = None,
    record_id: int | None = None,
    since: datetime | None = None,
    after: Position | None = None,
    page_size: int,
) -> tuple[list[ChangeEvent], Position]:
    """One page of the feed and the cursor to continue from (set on an empty page too).

    A page is one statement. An empty page without ``after`` also asks for the horizon, BEFORE
    reading again, so the cursor it returns never steps over an event (the horizon only grows).
    """
    if after is not None:
        check_not_expired(after)
    queryset = ChangeEvent.objects.filter(entity__in=entities)
    if actions:
        queryset = queryset.filter(action__in=actions)
    if source:
        queryset = queryset.filter(sources__contains=f"|{source}|")
    if record_id is not None:
        queryset = queryset.filter(record_id=record_id)
    if since is not None:
        queryset = queryset.filter(at__gte=since)
    if after is not None:
        queryset = queryset.filter(Q(txid__gt=after.txid) | Q(txid=after.txid, id__gt=after.id))
    ordered = queryset.order_by("txid", "id")
    events = list(_exposed(ordered)[:page_size])
    if events:
        return events, Position.of(events[-1])
    if after is not None:
        return [], Position(after.txid, after.id, _ms(timezone.now()))
    horizon = _horizon()
    events = list(ordered.filter(txid__lte=horizon.txid)[:page_size])
    if events:  # committed between the two reads: hand them out now
        return events, Position.of(events[-1])
    return [], horizon


def render(event: ChangeEvent) -> dict[str, Any]:
    """An event as the API renders it (``ChangeEvent`` component): the feed, a record's history
    and the ``data`` of a webhook delivery."""
    return {
        "id": Position.of(event).token(),
        "entity": event.entity,
        "action": event.action,
        "recordId": event.record_id,
        "version": event.version,
        "at": timestamp(event.at),
        "keys": event.keys,
        "changedFields": event.changed_fields,
        "changes": event.changes,
        "actor": {"kind": event.actor_kind, "id": event.actor_id or None},
        "requestId": event.request_id or None,
        "jobId": event.job_id,
    }


def history(entity: str, record_id: int) -> QuerySet:
    """A record's events (the caller pages them newest first)."""
    return ChangeEvent.objects.filter(entity=entity, record_id=record_id)


def prune(now: datetime | None = None) -> int:
    """Delete events older than ``CHANGES_RETENTION_DAYS``; returns how many went."""
    cutoff = (now or timezone.now()) - retention()
    deleted, _ = ChangeEvent.objects.filter(at__lt=cutoff).delete()
    return deleted
