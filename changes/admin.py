"""The back office's History (SPEC §19): who, when, what changed, before and after, read from the
change events, on every record's change form and behind its "History" button (replacing the
admin's log, which only names the fields)."""

from __future__ import annotations

import json

from django.contrib import admin
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.utils.safestring import SafeString, mark_safe

from changes.feed import history
from changes.outbox import entity_of

PANEL_EVENTS = 10
HISTORY_PAGE_EVENTS = 200


def _rows(events) -> list[dict]:
    return [
        {
            "event": event,
            "who": f"{event.actor_kind}: {event.actor_id}" if event.actor_id else event.actor_kind,
            "changes": [
                {
                    "field": name,
                    "before": _shown(change.get("before")),
                    "after": _shown(change.get("after")),
                }
                for name, change in event.changes.items()
            ],
        }
        for event in events
    ]


def _shown(value) -> str:
    if value is None:
        return "—"
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


class ChangeHistoryAdmin(admin.ModelAdmin):
    """A "History" panel on the change form and a History page listing the record's events."""

    def _events(self, obj, limit: int):
        return list(history(entity_of(self.model).name, obj.pk).order_by("-id")[:limit])

    @admin.display(description="Latest changes")
    def change_history(self, obj) -> SafeString:
        if obj is None or obj.pk is None:
            return mark_safe("")
        return mark_safe(  # noqa: S308 - rendered by a template that escapes every value
            render_to_string(
                "admin/changes/panel.html",
                {"rows": _rows(self._events(obj, PANEL_EVENTS)), "limit": PANEL_EVENTS},
            )
        )

    def get_readonly_fields(self, request, obj=None):
        fields = tuple(super().get_readonly_fields(request, obj))
        return (*fields, "change_history") if obj is not None else fields

    def get_fieldsets(self, request, obj=None):
        fieldsets = list(super().get_fieldsets(request, obj))
        if obj is None:
            return fieldsets
        fieldsets = [
            (name, {**opts, "fields": [f for f in opts["fields"] if f != "change_history"]})
            for name, opts in fieldsets
        ]
        return [*fieldsets, ("History", {"fields": ["change_history"]})]

    def history_view(self, request, object_id, extra_context=None):
        obj = self.get_object(request, admin.utils.unquote(object_id))
        if obj is None or not self.has_view_or_change_permission(request, obj):
            return super().history_view(request, object_id, extra_context)
        context = {
            **self.admin_site.each_context(request),
            "title": f"Change history: {obj}",
            "subtitle": None,
            "object": obj,
            "opts": self.model._meta,
            "rows": _rows(self._events(obj, HISTORY_PAGE_EVENTS)),
            "limit": HISTORY_PAGE_EVENTS,
            **(extra_context or {}),
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/changes/history.html", context)
