"""Which events a subscription may name and which ones it matches (SPEC §20).

An event's type is ``<entity>.<action>`` of the change feed (``product.updated``); a subscription
names types or ``<entity>.*``. ``job.finished`` is the end of one of the subscriber's own jobs
(SPEC §21: the outbox's ``job`` event, delivered to its client's subscriptions only); ``webhook.test`` is sent by
``POST /v2/webhooks/{id}/test`` only. Subscribing to an entity's events needs its read scope.
"""

from __future__ import annotations

from collections.abc import Iterable

from changes.models import ChangeEvent
from changes.outbox import BY_NAME

ACTIONS = tuple(ChangeEvent.Action.values)
#: events that are not record changes: no scope beyond ``webhooks:write``
OTHER_TYPES = ("job.finished",)
TEST_TYPE = "webhook.test"


def patterns() -> list[str]:
    """Every pattern a subscription may name, in a stable order (the OpenAPI ``enum``)."""
    out: list[str] = []
    for entity in BY_NAME:
        out += [f"{entity}.*", *(f"{entity}.{action}" for action in ACTIONS)]
    out += [*OTHER_TYPES, "job.*"]
    return out


def entity_of(pattern: str) -> str | None:
    head = pattern.split(".", 1)[0]
    return head if head in BY_NAME else None


def missing_scopes(names: Iterable[str], granted: Iterable[str]) -> list[str]:
    """The read scopes the patterns need that ``granted`` lacks."""
    held = set(granted)
    needed = {BY_NAME[e].read_scope for e in map(entity_of, names) if e is not None}
    return sorted(needed - held)


def matches(names: Iterable[str], event_type: str) -> bool:
    entity = event_type.split(".", 1)[0]
    return any(name == event_type or name == f"{entity}.*" for name in names)


def readable(event_type: str, scopes: Iterable[str]) -> bool:
    """Whether a client holding ``scopes`` may still receive events of this type."""
    entity = entity_of(event_type)
    return entity is None or BY_NAME[entity].read_scope in set(scopes)
