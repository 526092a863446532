"""Per-client request budget (SPEC §18): a fixed one-minute window counted in the cache.

With ``REDIS_URL`` set the counters are shared by every worker and server; ``cache.incr`` is atomic
there. ``RATE_LIMIT_PER_MINUTE=0`` turns the limit off.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache

from config.api.errors import TooManyRequests

WINDOW_SECONDS = 60


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
    used = cache.get(f"rl:{bucket}:{identity}:{window}", 0)
    if used >= limit:
        return max(1, int((window + 1) * WINDOW_SECONDS - now))
    return None


def record_failure(bucket: str, identity: str) -> None:
    if identity:
        _count(f"rl:{bucket}:{identity}:{int(time.time() // WINDOW_SECONDS)}")
