"""Liveness and readiness probes (public, no token).

``/readyz`` answers 503 only while the database is unreachable: the database is the system of
record, without it no request can be served. Redis and the broker are reported but do not decide:
Redis holds only what may be lost (limits fail open, caches refill) and a broker outage delays
background work, not requests; taking every instance out of the balancer for either would turn a
degraded service into no service. The body says which of them is down (``"status": "degraded"``).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import connection
from django.http import JsonResponse

if TYPE_CHECKING:
    import redis

#: probes come every few seconds from every balancer; Redis and broker answers are reused this long
DEPENDENCY_CHECK_SECONDS = 5
_checked: dict[str, tuple[float, str]] = {}
_redis_clients: dict[str, redis.Redis] = {}


def healthz(request):
    return JsonResponse({"status": "ok"})


def _database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:  # noqa: BLE001 - any database failure means "not ready"
        return "unavailable"
    return "ok"


def _redis_ping(url: str) -> str:
    import redis

    client = _redis_clients.get(url)
    if client is None:
        client = redis.Redis.from_url(url, **settings.REDIS_CLIENT_OPTIONS)
        _redis_clients[url] = client
    try:
        client.ping()
    except Exception:  # noqa: BLE001 - unreachable, paused (timeout) or refusing: all "down"
        return "unavailable"
    return "ok"


def _broker() -> str:
    url = settings.CELERY_BROKER_URL
    if url == "memory://":
        return "in-process"  # no broker: tasks run in the request's process (the demo, tests)
    if url.startswith(("redis://", "rediss://")):
        return _redis_ping(url)
    from kombu import Connection

    try:
        with Connection(url, connect_timeout=settings.REDIS_SOCKET_TIMEOUT_SECONDS * 4) as conn:
            conn.ensure_connection(max_retries=1, timeout=1)
    except Exception:  # noqa: BLE001 - any connection failure means "down"
        return "unavailable"
    return "ok"


def _remembered(name: str, check) -> str:
    now = time.monotonic()
    seen = _checked.get(name)
    if seen is not None and now - seen[0] < DEPENDENCY_CHECK_SECONDS:
        return seen[1]
    value = check()
    _checked[name] = (now, value)
    return value


def readyz(request):
    redis_url = settings.CACHE_URL
    report = {
        "database": _database(),
        "redis": _remembered("redis", lambda: _redis_ping(redis_url))
        if redis_url
        else "not configured",
        "broker": _remembered("broker", _broker),
    }
    if report["database"] != "ok":
        return JsonResponse({"status": "unavailable", **report}, status=503)
    degraded = "unavailable" in (report["redis"], report["broker"])
    return JsonResponse({"status": "degraded" if degraded else "ok", **report})
