"""Change events of a bulk write (SPEC §19 with §14): built from the rows the bulk plan already
read (``item.stored``) and wrote (``item.row``), appended with ONE statement per resource."""

from __future__ import annotations

from typing import Any

from changes.models import ChangeEvent
from changes.outbox import append, entity_of, row_event

Action = ChangeEvent.Action


def _pairs(pairs) -> list[dict[str, str]]:
    return [{"source": source, "sourceId": source_id} for source, source_id in pairs]


def record_bulk(resource: Any, plan: Any) -> None:
    """Append one event per created, changed or deleted record of a planned and written bulk.

    ``resource`` is a ``RecordBulk``: ``records_to_delete(plan)`` says which removed items were
    deleted, ``event_changes(plan, item)`` adds what the row cannot show (a category's new
    parent, a product's attributes) and may name the action (``moved``).
    """
    entity = entity_of(resource.model)
    deleted = set(resource.records_to_delete(plan))
    rows: list[dict[str, Any] | None] = []
    for item in plan.live("create", "update", "remove"):
        action, extra = resource.event_changes(plan, item)
        stored_links = plan.links.get(item.id, [])
        before_sources = _pairs(pair for _, pair in stored_links)
        if item.result == "create":
            sources = _pairs(item.scratch.get("link_adds", ()))
            after = {**item.row, "id": item.id}
            rows.append(
                row_event(entity, Action.CREATED, None, after, sources, extra=extra, at=plan.now)
            )
        elif item.result == "update" and item.row is not None:
            dropped = set(item.scratch.get("link_deletes", ()))
            sources = _pairs(pair for pk, pair in stored_links if pk not in dropped)
            sources += _pairs(item.scratch.get("link_adds", ()))
            if sources != before_sources:
                extra = {"sources": {"before": before_sources, "after": sources}, **extra}
            rows.append(
                row_event(
                    entity, action or Action.UPDATED, item.stored, item.row, sources,
                    extra=extra, at=plan.now,
                )
            )  # fmt: skip
        elif item.result == "remove" and item.id in deleted:
            extra = {"sources": {"before": before_sources, "after": None}, **extra}
            rows.append(
                row_event(entity, Action.DELETED, item.stored, None, before_sources, extra=extra, at=plan.now)
            )  # fmt: skip
    append([row for row in rows if row is not None])
