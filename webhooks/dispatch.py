"""From the outbox to deliveries (SPEC §20): the dispatcher.

It follows the change feed like any client (``changes.feed.feed``: order ``(txid, id)`` and the
PostgreSQL visibility horizon, so an event whose transaction commits late is never skipped) from
its own cursor, and for each page, in ONE transaction, inserts a delivery per matching active
subscription and moves the cursor: the fan-out happens exactly once (a unique constraint on
subscription and event makes a repeat harmless anyway). The cursor row is locked while a page is
fanned out, so two dispatchers queue instead of duplicating work.

It runs on a worker when a writing transaction that appended events commits (``kick``) and every
``WEBHOOK_SWEEP_SECONDS`` from beat (``webhooks.tasks.sweep``), which also sends due retries.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from datetime import datetime

import orjson
from django.db import connection, transaction
from django.utils import timezone

from changes import feed
from changes.feed import Position
from changes.models import ChangeEvent
from changes.outbox import BY_NAME, JOB_ENTITY
from config.api.errors import ChangesCursorExpired
from integrations.models import ClientProfile
from records.rules import timestamp
from webhooks import events
from webhooks.models import Delivery, DispatchCursor, Subscription

log = logging.getLogger(__name__)

PAGE = 1000
#: the record entities, and the end of a job (``job.finished``, its client's subscriptions only)
ENTITIES = [*BY_NAME, JOB_ENTITY]
#: how long a process trusts "no active subscription" before asking the database again
ACTIVE_CACHE_SECONDS = 2.0
_active: dict[str, float] = {}


def body(message_id: str, event_type: str, at: datetime, data: dict) -> str:
    """The delivered JSON: ``{"id", "type", "timestamp", "data"}``."""
    return orjson.dumps(
        {"id": message_id, "type": event_type, "timestamp": timestamp(at), "data": data}
    ).decode()


def client_scopes(client_ids: Iterable[str]) -> dict[str, set[str]]:
    """The scopes each client holds NOW (a client that lost a read scope stops receiving)."""
    rows = ClientProfile.objects.filter(application__client_id__in=set(client_ids))
    return {cid: set(s.split()) for cid, s in rows.values_list("application__client_id", "scopes")}


def fan_out(
    page: list[ChangeEvent], subscriptions: list[Subscription], scopes: dict[str, set[str]]
) -> list[Delivery]:
    now = timezone.now()
    rows: list[Delivery] = []
    for event in page:
        event_type = f"{event.entity}.{event.action}"
        takers = [
            s
            for s in subscriptions
            if event.at >= s.created_at
            and (event.entity != JOB_ENTITY or event.actor_id == s.client_id)
            and events.matches(s.events, event_type)
            and events.readable(event_type, scopes.get(s.client_id, ()))
        ]
        if not takers:
            continue
        message_id = Position.of(event).token()
        payload = body(message_id, event_type, event.at, feed.render(event))
        rows += [
            Delivery(
                subscription=s,
                event_id=message_id,
                event_type=event_type,
                record_key=f"{event.entity}:{event.record_id}",
                payload=payload,
                event_at=event.at,
                created_at=now,
                next_attempt_at=now,
            )
            for s in takers
        ]
    return rows


def _locked_cursor() -> DispatchCursor:
    DispatchCursor.objects.get_or_create(pk=1, defaults={"position": ""})
    return DispatchCursor.objects.select_for_update().get(pk=1)


def _page(cursor: DispatchCursor, subscriptions: list[Subscription]):
    after = Position.parse(cursor.position) if cursor.position else None
    since = None
    if after is None:  # the first run: from the oldest subscription (or now)
        since = min((s.created_at for s in subscriptions), default=timezone.now())
    try:
        return feed.feed(entities=ENTITIES, after=after, since=since, page_size=PAGE)
    except ChangesCursorExpired:
        log.error("webhook dispatcher's cursor outlived the feed's retention; restarting from now")
        return feed.feed(entities=ENTITIES, since=timezone.now(), page_size=PAGE)


def dispatch() -> set[int]:
    """Fan out every exposed event past the cursor; the ids of subscriptions given work."""
    touched: set[int] = set()
    while True:
        with transaction.atomic():
            cursor = _locked_cursor()
            subscriptions = list(Subscription.objects.filter(active=True))
            page, position = _page(cursor, subscriptions)
            rows = fan_out(page, subscriptions, client_scopes(s.client_id for s in subscriptions))
            Delivery.objects.bulk_create(rows, batch_size=500, ignore_conflicts=True)
            cursor.position = position.token()
            cursor.updated_at = timezone.now()
            cursor.save(update_fields=["position", "updated_at"])
        touched.update(row.subscription_id for row in rows)
        if len(page) < PAGE:
            return touched


# -- the trigger -------------------------------------------------------------------------------


def any_active() -> bool:
    """Whether some subscription is active (cached per process for a moment: every write asks)."""
    now = time.monotonic()
    if _active.get("until", 0.0) > now:
        return bool(_active["value"])
    value = Subscription.objects.filter(active=True).exists()
    _active.update(value=float(value), until=now + ACTIVE_CACHE_SECONDS)
    return value


def forget_active() -> None:
    _active.clear()


def kick() -> None:
    """After a commit that appended events: have a worker dispatch (never waits for delivery)."""
    if not any_active():
        return
    from webhooks.tasks import dispatch_events

    dispatch_events.delay()


def on_events_appended(sender, **kwargs) -> None:
    """``changes.signals.events_appended``: one kick per transaction, after it commits."""
    pending = getattr(connection, "run_on_commit", [])
    if any(entry[1] is kick for entry in pending):
        return
    transaction.on_commit(kick, robust=True)
