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

import urllib3
from django.conf import settings
from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone

from config.api.errors import WebhookUrlRefused
from webhooks import signing, targets
from webhooks.models import Delivery, Subscription

log = logging.getLogger(__name__)

Status = Delivery.Status
#: a drainer's claim on its subscription; renewed every batch, longer than one batch can take
LEASE = timedelta(seconds=120)
#: a drainer hands over (re-queues itself) after this long, so workers rotate fairly
DRAIN_BUDGET_SECONDS = 60.0
MAX_RESPONSE_BYTES = 64 * 1024
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

    def _pool(self, target: targets.Target) -> urllib3.HTTPConnectionPool:
        key = (target.scheme, target.host, target.address, target.port)
        pool = self.pools.get(key)
        if pool is None:
            seconds = settings.WEBHOOK_TIMEOUT_SECONDS
            timeout = urllib3.Timeout(connect=min(5.0, seconds), read=seconds, total=seconds)
            common = {
                "timeout": timeout,
                "retries": False,
                "maxsize": self.parallel,
                "block": False,
            }
            if target.scheme == "https":
                pool = urllib3.HTTPSConnectionPool(
                    target.address,
                    target.port,
                    server_hostname=target.host,
                    assert_hostname=target.host,
                    cert_reqs="CERT_REQUIRED",
                    **common,
                )
            else:
                pool = urllib3.HTTPConnectionPool(target.address, target.port, **common)
            self.pools[key] = pool
        return pool

    def send(self, url: str, secret: str, message_id: str, body: bytes) -> Attempt:
        started = time.monotonic()

        def took() -> int:
            return int((time.monotonic() - started) * 1000)

        try:
            target = targets.resolve(url)  # checked again at every attempt, after resolution
        except WebhookUrlRefused as exc:
            return Attempt(None, took(), f"refused: {exc.message}")
        stamp = int(time.time())
        headers = {
            "Host": _host_header(target),
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "webhook-id": message_id,
            "webhook-timestamp": str(stamp),
            "webhook-signature": signing.signature(secret, message_id, stamp, body),
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
    """Due pending deliveries, each the earliest pending one of its record, in event order."""
    earlier = Delivery.objects.filter(
        subscription_id=subscription_id,
        status=Status.PENDING,
        record_key=OuterRef("record_key"),
        id__lt=OuterRef("id"),
    )
    return list(
        Delivery.objects.filter(
            subscription_id=subscription_id, status=Status.PENDING, next_attempt_at__lte=now
        )
        .exclude(Exists(earlier))
        .order_by("id")[:limit]
    )


def has_due(subscription_id: int, now: datetime | None = None) -> bool:
    """Whether a delivery could be sent now (not one waiting behind its record's retry)."""
    return bool(due(subscription_id, now or timezone.now(), 1))


def record(delivery: Delivery, attempt: Attempt, now: datetime) -> None:
    """Store one attempt's outcome and what it means for the delivery and its subscription."""
    first = delivery.first_attempt_at or now
    fields = {
        "attempts": F("attempts") + 1,
        "first_attempt_at": first,
        "last_attempt_at": now,
        "last_status_code": attempt.status_code,
        "last_duration_ms": attempt.duration_ms,
        "last_error": attempt.error,
    }
    subscriptions = Subscription.objects.filter(pk=delivery.subscription_id)
    if attempt.ok:
        Delivery.objects.filter(pk=delivery.pk).update(
            **fields, status=Status.SUCCEEDED, delivered_at=now, next_attempt_at=None
        )
        subscriptions.exclude(failing_since=None).update(failing_since=None)
        return
    window = timedelta(seconds=settings.WEBHOOK_RETRY_WINDOW_SECONDS)
    if now - first >= window:
        fields.update(status=Status.FAILED, next_attempt_at=None)
    else:
        fields["next_attempt_at"] = now + timedelta(seconds=backoff_seconds(delivery.attempts + 1))
    Delivery.objects.filter(pk=delivery.pk).update(**fields)
    subscriptions.filter(failing_since=None).update(failing_since=now)
    limit = now - timedelta(seconds=settings.WEBHOOK_DEACTIVATE_AFTER_SECONDS)
    gone = subscriptions.filter(active=True, failing_since__lte=limit).update(
        active=False,
        deactivated_at=now,
        deactivated_reason=f"Every delivery failed since {first.isoformat()} (3 days or more).",
    )
    if gone:
        log.warning("webhook subscription %s deactivated after failing", delivery.subscription_id)


def _lease(subscription_id: int, now: datetime) -> bool:
    free = Q(lease_until__isnull=True) | Q(lease_until__lt=now)
    claimed = (
        Subscription.objects.filter(free, pk=subscription_id, active=True)
        .update(lease_until=now + LEASE)
    )  # fmt: skip
    return claimed == 1


def _release(subscription_id: int) -> None:
    Subscription.objects.filter(pk=subscription_id).update(lease_until=None)


def _send(sender: Sender, url: str, secret: str, delivery: Delivery) -> Attempt:
    return sender.send(url, secret, delivery.event_id, delivery.payload.encode())


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
                batch = due(subscription_id, timezone.now(), parallel * 4)
                if not batch:
                    break
                secret = signing.decrypt(subscription.secret_encrypted)
                results = pool.map(
                    functools.partial(_send, sender, subscription.url, secret), batch
                )
                for delivery, attempt in zip(batch, results, strict=True):
                    with transaction.atomic():
                        record(delivery, attempt, timezone.now())
                made += len(batch)
                Subscription.objects.filter(pk=subscription_id).update(
                    lease_until=timezone.now() + LEASE
                )
    finally:
        sender.close()
        _release(subscription_id)
    # a dispatcher that added work while we held the lease found it taken: look once more
    return made, has_due(subscription_id)
