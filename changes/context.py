"""Who is writing: the actor and job stamped on every change event (SPEC §19).

API requests are recognised by the client id the bearer authentication sets; the back office by
the request's user (resolved only when an event is written, so requests that write nothing pay
nothing); commands and migrations are ``system`` unless they say otherwise with ``acting_as``.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from records.context import client_id_var, request_id_var


@dataclass(frozen=True)
class Actor:
    kind: str  # client / user / system
    id: str = ""


SYSTEM = Actor("system")

_actor_var: contextvars.ContextVar[Actor | None] = contextvars.ContextVar("actor", default=None)
_request_var: contextvars.ContextVar[object | None] = contextvars.ContextVar(
    "change_request", default=None
)
job_id_var: contextvars.ContextVar[int | None] = contextvars.ContextVar("job_id", default=None)


@contextmanager
def acting_as(actor: Actor, *, job_id: int | None = None) -> Iterator[None]:
    """Stamp the events written inside the block with ``actor`` (and ``job_id``)."""
    actor_token = _actor_var.set(actor)
    job_token = job_id_var.set(job_id)
    try:
        yield
    finally:
        _actor_var.reset(actor_token)
        job_id_var.reset(job_token)


def current_actor() -> Actor:
    actor = _actor_var.get()
    if actor is not None:
        return actor
    client_id = client_id_var.get()
    if client_id:
        return Actor("client", client_id)
    request = _request_var.get()
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return Actor("user", user.get_username())
    return SYSTEM


def current_request_id() -> str:
    return request_id_var.get()


class ActorMiddleware:
    """Remembers the request so that an event written by the back office names its user."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = _request_var.set(request)
        try:
            return self.get_response(request)
        finally:
            _request_var.reset(token)
