"""Per-client request budget (SPEC §18): a fixed one-minute window counted in the cache.

With ``REDIS_URL`` set the counters are shared by every worker and server; ``cache.incr`` is atomic
there. ``RATE_LIMIT_PER_MINUTE=0`` turns the limit off.

Counters may be lost, answers may not: when the cache (Redis) fails or times out (settings give it
short socket timeouts and no retries) the limits let the request through for that moment and the
outage is logged once per minute per process, never a traceback per request.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from django.conf import settings
from django.core.cache import cache
from redis.exceptions import RedisError

from config.api.errors import TooManyRequests

WINDOW_SECONDS = 60
OUTAGE_LOG_SECONDS = 60
logger = logging.getLogger("catalogue.limits")
T = TypeVar("T")
_outage_lock = threading.Lock()
_outage_logged_at = float("-inf")
_outage_skipped = 0


def fail_open(call: Callable[[], T], default: T) -> T:
    """``call()``, or ``default`` when the cache is unreachable (logged once per minute)."""
    try:
        return call()
    except (RedisError, OSError) as exc:
        _log_outage(exc)
        return default


def _log_outage(exc: Exception) -> None:
    global _outage_logged_at, _outage_skipped
    now = time.monotonic()
    with _outage_lock:
        if now - _outage_logged_at < OUTAGE_LOG_SECONDS:
            _outage_skipped += 1
            return
        skipped, _outage_logged_at, _outage_skipped = _outage_skipped, now, 0
    logger.warning(
        "limits cache unreachable; limits fail open",
        extra={"cause": f"{type(exc).__name__}: {exc}", "failuresSinceLastLog": skipped},
    )


@dataclass(frozen=True)
class Budget:
    limit: int
    remaining: int
    reset: int  # seconds until the window ends

    def headers(self) -> dict[str, str]:
        return {
            "RateLimit-Limit": str(self.limit),
            "RateLimit-Remaining": str(self.remaining),
            "RateLimit-Reset": str(self.reset),
        }


def _count(key: str) -> int:
    """Count one event in ``key``'s window; 0 (nothing counted) when the cache is unreachable."""
    return fail_open(lambda: _incr(key), 0)


def _incr(key: str) -> int:
    if cache.add(key, 1, timeout=WINDOW_SECONDS + 5):
        return 1
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.add(key, 1, timeout=WINDOW_SECONDS + 5)
        return 1


def spend(bucket: str, identity: str, limit: int) -> Budget | None:
    """Count one event for ``identity``; raise 429 (10012) when the window's budget is spent."""
    if limit <= 0 or not identity:
        return None
    now = time.time()
    window = int(now // WINDOW_SECONDS)
    reset = max(1, int((window + 1) * WINDOW_SECONDS - now))
    used = _count(f"rl:{bucket}:{identity}:{window}")
    budget = Budget(limit=limit, remaining=max(0, limit - used), reset=reset)
    if used > limit:
        raise TooManyRequests(
            f"Rate limit of {limit} requests per minute exceeded; retry in {reset} s.",
            headers={"Retry-After": str(reset), **budget.headers()},
        )
    return budget


def request_budget(client_id: str) -> Budget | None:
    return spend("api", client_id, settings.RATE_LIMIT_PER_MINUTE)


def failures_exceeded(bucket: str, identity: str, limit: int) -> int | None:
    """Seconds to wait when ``identity`` already failed ``limit`` times this window, else None."""
    if limit <= 0 or not identity:
        return None
    now = time.time()
    window = int(now // WINDOW_SECONDS)
    used = fail_open(lambda: cache.get(f"rl:{bucket}:{identity}:{window}", 0), 0)
    if used >= limit:
        return max(1, int((window + 1) * WINDOW_SECONDS - now))
    return None


def record_failure(bucket: str, identity: str) -> None:
    if identity:
        _count(f"rl:{bucket}:{identity}:{int(time.time() // WINDOW_SECONDS)}")
