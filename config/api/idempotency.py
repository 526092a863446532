"""``Idempotency-Key`` on POST (SPEC §18).

The first completed answer for a (client, key) pair is kept for 24 hours and replayed byte for byte
to a retry with the same body; a different body is 422 (10023); a retry that arrives while the first
request still runs waits for it, then replays it or gets 409 (10022). ``cache.add`` is the atomic
claim, so a key never runs twice (shared across workers with ``REDIS_URL``).
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.http import HttpResponse

from config.api.errors import (
    IdempotencyKeyReused,
    IdempotentRequestInProgress,
    SchemaValidationException,
)

HEADER = "Idempotency-Key"
RUNNING_TTL_SECONDS = 300  # a claim outlives no crashed worker for long
WAIT_SECONDS = 10.0
REPLAYED_HEADERS = ("Content-Type", "Location", "ETag")


class Replay(Exception):  # noqa: N818 - control flow, not an error
    def __init__(self, response: HttpResponse) -> None:
        super().__init__("replay")
        self.response = response


@dataclass(frozen=True)
class Ticket:
    cache_key: str
    fingerprint: str


def begin(request, client_id: str) -> Ticket | None:
    """Claim the key for this request, or raise ``Replay`` / 409 / 422. None without a key."""
    key = request.headers.get(HEADER)
    if key is None or request.method != "POST":
        return None
    if not key.strip() or len(key) > 255:
        raise SchemaValidationException(fields={HEADER: ["Must be 1 to 255 characters."]})
    fingerprint = hashlib.sha256(request.path.encode() + b"\n" + request.body).hexdigest()
    cache_key = "idem:" + hashlib.sha256(f"{client_id}\n{key}".encode()).hexdigest()
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        if cache.add(cache_key, {"state": "running", "fp": fingerprint}, RUNNING_TTL_SECONDS):
            return Ticket(cache_key, fingerprint)
        entry = cache.get(cache_key)
        if entry is None:
            continue  # expired between add and get: claim again
        if entry["fp"] != fingerprint:
            raise IdempotencyKeyReused(
                f"Idempotency-Key '{key}' was used with a different request body."
            )
        if entry["state"] == "done":
            raise Replay(_response(entry))
        if time.monotonic() > deadline:
            raise IdempotentRequestInProgress(
                f"A request with Idempotency-Key '{key}' is still running; retry later."
            )
        time.sleep(0.05)


def finish(ticket: Ticket, response) -> None:
    """Keep the rendered answer (a 5xx releases the key so that a retry runs again)."""
    if response.status_code >= 500:
        cache.delete(ticket.cache_key)
        return

    def store(rendered) -> None:
        cache.set(
            ticket.cache_key,
            {
                "state": "done",
                "fp": ticket.fingerprint,
                "status": rendered.status_code,
                "content": rendered.content,
                "headers": {h: rendered[h] for h in REPLAYED_HEADERS if rendered.has_header(h)},
            },
            settings.IDEMPOTENCY_TTL_SECONDS,
        )

    if hasattr(response, "add_post_render_callback") and not response.is_rendered:
        response.add_post_render_callback(store)
    else:
        store(response)


def _response(entry: dict) -> HttpResponse:
    response = HttpResponse(entry["content"], status=entry["status"])
    for name, value in entry["headers"].items():
        response[name] = value
    response["Idempotent-Replayed"] = "true"
    return response
