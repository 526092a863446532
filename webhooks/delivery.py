"""Sending deliveries (SPEC §20): one subscription at a time per worker, its records in order.

``drain(subscription_id)`` takes the subscription's lease (one drainer per subscription, on any
worker), then repeatedly picks the due deliveries that have no earlier pending delivery of the
same record, sends them in parallel (they are all of different records), and records each
outcome: 2xx within ``WEBHOOK_TIMEOUT_SECONDS`` is success; anything else schedules a retry with
exponential backoff and jitter until ``WEBHOOK_RETRY_WINDOW_SECONDS`` after the first attempt,
then marks the delivery failed. A subscription with no success for
``WEBHOOK_DEACTIVATE_AFTER_SECONDS`` is deactivated. The work is per subscription, so a slow or
dead receiver holds only its own drainer; API writes never wait for any of it.
"""

from __future__ import annotations

import functools
import logging
import random
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import urllib3
from django.conf import settings
from django.db import transaction
from django.db.models import F, Q, Window
from django.db.models.functions import RowNumber
from django.utils import timezone

from config.api.errors import WebhookUrlRefused
from records.bulk_sql import update_rows
from webhooks import signing, targets
from webhooks.models import Delivery, Subscription

log = logging.getLogger(__name__)

Status = Delivery.Status
#: a drainer's claim on its subscription; renewed every batch, longer than one batch can take
LEASE = timedelta(seconds=120)
#: a drainer hands over (re-queues itself) after this long, so workers rotate fairly
DRAIN_BUDGET_SECONDS = 60.0
MAX_RESPONSE_BYTES = 64 * 1024
#: deliveries picked per round, per parallel sender (one query picks them, one UPDATE records)
BATCH_PER_SENDER = 8
USER_AGENT = "product-management-api-webhooks/1"


@dataclass(frozen=True)
class Attempt:
    status_code: int | None
    duration_ms: int
    error: str

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300 and not self.error


def backoff_seconds(attempts: int) -> float:
    """The wait after the ``attempts``-th failed attempt: BASE·2^(n-1), capped at MAX, times a
    jitter in [0.5, 1) so that receivers coming back are not hit by every retry at once."""
    base = settings.WEBHOOK_RETRY_BASE_SECONDS * 2 ** min(attempts - 1, 30)
    return min(base, settings.WEBHOOK_RETRY_MAX_SECONDS) * random.uniform(0.5, 1.0)  # noqa: S311


def _host_header(target: targets.Target) -> str:
    host = f"[{target.host}]" if ":" in target.host else target.host
    default = 443 if target.scheme == "https" else 80
    return host if target.port == default else f"{host}:{target.port}"


class Sender:
    """POSTs signed bodies; keeps one connection pool per checked address for a drain."""

    def __init__(self, parallel: int) -> None:
        self.parallel = parallel
        self.pools: dict[tuple[str, str, str, int], urllib3.HTTPConnectionPool] = {}
        self.targets: dict[str, targets.Target] = {}

    def _pool(self, target: targets.Target) -> urllib3.HTTPConnectionPool:
        key = (target.scheme, target.host, target.address, target.port)
        known = self.pools.get(key)
        if known is None:
            seconds = settings.WEBHOOK_TIMEOUT_SECONDS
            timeout = urllib3.Timeout(connect=min(5.0, seconds), read=seconds, total=seconds)
            common: dict[str, Any] = {
                "timeout": timeout, "retries": False, "maxsize": self.parallel, "block": False,
            }  # fmt: skip
            pool: urllib3.HTTPConnectionPool
            if target.scheme == "https":  # TLS names the URL's host, not the checked address
                pool = urllib3.HTTPSConnectionPool(
                    target.address, target.port, **common, server_hostname=target.host,
                    assert_hostname=target.host, cert_reqs="CERT_REQUIRED",
                )  # fmt: skip
            else:
                pool = urllib3.HTTPConnectionPool(target.address, target.port, **common)
            self.pools[key] = known = pool
        return known

    def resolve(self, url: str) -> targets.Target:
        """The checked target, resolved and checked again for every drain (a drain lasts at
        most ``DRAIN_BUDGET_SECONDS``), not once per delivery."""
        known = self.targets.get(url)
        if known is None:
            known = self.targets[url] = targets.resolve(url)
        return known

    def send(self, url: str, secrets: list[str], message_id: str, body: bytes) -> Attempt:
        started = time.monotonic()

        def took() -> int:
            return int((time.monotonic() - started) * 1000)

        try:
            target = self.resolve(url)
        except WebhookUrlRefused as exc:
            return Attempt(None, took(), f"refused: {exc.message}")
        stamp = int(time.time())
        headers = {
            "Host": _host_header(target),
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "webhook-id": message_id,
            "webhook-timestamp": str(stamp),
            "webhook-signature": signing.signature(secrets, message_id, stamp, body),
        }
        try:
            response = self._pool(target).urlopen(
                "POST",
                target.path,
                body=body,
                headers=headers,
                redirect=False,  # a redirect is an answer, not an instruction: not 2xx
                retries=False,
                assert_same_host=False,
                preload_content=False,
            )
            try:
                response.read(MAX_RESPONSE_BYTES)
            finally:
                response.release_conn()
        except urllib3.exceptions.HTTPError as exc:
            return Attempt(None, took(), f"{type(exc).__name__}: {exc}"[:1000])
        elapsed = took()
        if elapsed > settings.WEBHOOK_TIMEOUT_SECONDS * 1000:
            return Attempt(response.status, elapsed, "answered after the timeout")
        if not 200 <= response.status < 300:
            return Attempt(response.status, elapsed, f"HTTP {response.status}")
        return Attempt(response.status, elapsed, "")

    def close(self) -> None:
        for pool in self.pools.values():
            pool.close()


def due(subscription_id: int, now: datetime, limit: int) -> list[Delivery]:
    """Due pending deliveries, each the earliest pending one of its record, in event order.

    One scan of the subscription's pending rows with a window (the first of each record): the
    plan cannot turn into a nested loop over them, even on a burst the statistics have not seen.
    Whether a head is due is decided after the window, so a record whose head waits for a retry
    hands out nothing behind it.
    """
    first = Window(RowNumber(), partition_by=[F("record_key")], order_by=F("id").asc())
    heads = (
        Delivery.objects.filter(subscription_id=subscription_id, status=Status.PENDING)
        .annotate(place=first)
        .filter(place=1)
        .order_by("id")
        .values_list("id", "next_attempt_at")
    )
    ids = [pk for pk, when in heads if when is not None and when <= now][:limit]
    return list(Delivery.objects.filter(id__in=ids).order_by("id")) if ids else []


def has_due(subscription_id: int, now: datetime | None = None) -> bool:
    """Whether a delivery could be sent now (not one waiting behind its record's retry)."""
    return bool(due(subscription_id, now or timezone.now(), 1))


RECORDED_FIELDS = (
    "status", "attempts", "first_attempt_at", "last_attempt_at", "next_attempt_at",
    "delivered_at", "last_status_code", "last_duration_ms", "last_error",
)  # fmt: skip


def record(subscription_id: int, outcomes: list[tuple[Delivery, Attempt]], now: datetime) -> None:
    """Store a batch of attempts (one UPDATE for the deliveries) and what they mean for the
    subscription: a success ends its failing streak; a failure starts one, and a streak of
    ``WEBHOOK_DEACTIVATE_AFTER_SECONDS`` deactivates it. Only the lease holder writes these rows
    (a replay touches finished deliveries only), so the in-memory counts are current."""
    window = timedelta(seconds=settings.WEBHOOK_RETRY_WINDOW_SECONDS)
    for delivery, attempt in outcomes:
        delivery.attempts += 1
        delivery.first_attempt_at = delivery.first_attempt_at or now
        delivery.last_attempt_at = now
        delivery.last_status_code = attempt.status_code
        delivery.last_duration_ms = attempt.duration_ms
        delivery.last_error = attempt.error
        if attempt.ok:
            delivery.status, delivery.delivered_at = Status.SUCCEEDED, now
            delivery.next_attempt_at = None
        elif now - delivery.first_attempt_at >= window:
            delivery.status, delivery.next_attempt_at = Status.FAILED, None
        else:
            wait = backoff_seconds(delivery.attempts)
            delivery.next_attempt_at = now + timedelta(seconds=wait)
    with transaction.atomic():
        update_rows(
            Delivery,
            RECORDED_FIELDS,
            [{"id": d.pk, **{f: getattr(d, f) for f in RECORDED_FIELDS}} for d, _ in outcomes],
        )
        subscription = Subscription.objects.filter(pk=subscription_id)
        if any(attempt.ok for _, attempt in outcomes):
            subscription.exclude(failing_since=None).update(failing_since=None)
        elif outcomes:
            subscription.filter(failing_since=None).update(failing_since=now)
            limit = now - timedelta(seconds=settings.WEBHOOK_DEACTIVATE_AFTER_SECONDS)
            gone = subscription.filter(active=True, failing_since__lte=limit).update(
                active=False,
                deactivated_at=now,
                deactivated_reason="No delivery succeeded for 3 days or more.",
            )
            if gone:
                log.warning("webhook subscription %s deactivated after failing", subscription_id)


def _lease(subscription_id: int, now: datetime) -> bool:
    free = Q(lease_until__isnull=True) | Q(lease_until__lt=now)
    claimed = (
        Subscription.objects.filter(free, pk=subscription_id, active=True)
        .update(lease_until=now + LEASE)
    )  # fmt: skip
    return claimed == 1


def _release(subscription_id: int) -> None:
    Subscription.objects.filter(pk=subscription_id).update(lease_until=None)


def _send(sender: Sender, url: str, secrets: list[str], delivery: Delivery) -> Attempt:
    return sender.send(url, secrets, delivery.event_id, delivery.payload.encode())


def drain(subscription_id: int, *, budget: float = DRAIN_BUDGET_SECONDS) -> tuple[int, bool]:
    """Send what is due for one subscription; (attempts made, whether more is due now)."""
    if not _lease(subscription_id, timezone.now()):
        return 0, False  # another drainer has it; it looks again before it lets go
    parallel = max(1, settings.WEBHOOK_PARALLEL_PER_SUBSCRIPTION)
    sender = Sender(parallel)
    started = time.monotonic()
    made = 0
    try:
        with ThreadPoolExecutor(max_workers=parallel) as pool:
            while time.monotonic() - started < budget:
                subscription = Subscription.objects.filter(pk=subscription_id, active=True).first()
                if subscription is None:
                    break
                batch = due(subscription_id, timezone.now(), parallel * BATCH_PER_SENDER)
                if not batch:
                    break
                secrets = subscription.signing_secrets(timezone.now())
                results = pool.map(
                    functools.partial(_send, sender, subscription.url, secrets), batch
                )
                record(subscription_id, list(zip(batch, results, strict=True)), timezone.now())
                made += len(batch)
                Subscription.objects.filter(pk=subscription_id).update(
                    lease_until=timezone.now() + LEASE
                )
    finally:
        sender.close()
        _release(subscription_id)
    # a dispatcher that added work while we held the lease found it taken: look once more
    return made, has_due(subscription_id)
