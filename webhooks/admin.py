"""The back office of webhooks (SPEC §20), for superusers: subscriptions and their deliveries
(status, attempts, last error), and a replay action for finished deliveries."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db import transaction
from django.urls import reverse
from django.utils.html import format_html

from config.admin import StrictAdmin, SuperuserOnly
from config.api.errors import ApiError
from webhooks import services
from webhooks.models import Delivery, Subscription


class NoAdd(SuperuserOnly):
    def has_add_permission(self, request, *args):
        return False  # subscriptions are made through the API (the secret is shown there once)


@admin.register(Subscription)
class SubscriptionAdmin(NoAdd, StrictAdmin):
    list_display = ("id", "client_id", "url", "active", "failing_since", "created_at", "log")
    list_filter = ("active",)
    search_fields = ("url", "client_id", "description")
    fields = (
        "client_id", "url", "events", "description", "active", "created_at", "updated_at",
        "failing_since", "deactivated_at", "deactivated_reason", "log",
    )  # fmt: skip
    readonly_fields = (
        "client_id", "url", "events", "created_at", "updated_at", "failing_since",
        "deactivated_at", "deactivated_reason", "log",
    )  # fmt: skip

    @admin.display(description="Deliveries")
    def log(self, obj: Subscription) -> str:
        url = reverse("admin:webhooks_delivery_changelist") + f"?subscription__id__exact={obj.pk}"
        return format_html('<a href="{}">deliveries</a>', url)


@admin.register(Delivery)
class DeliveryAdmin(NoAdd, StrictAdmin):
    list_display = (
        "id", "subscription", "event_type", "event_id", "status", "attempts",
        "last_status_code", "last_duration_ms", "last_error", "next_attempt_at", "created_at",
    )  # fmt: skip
    list_filter = ("status", "event_type")
    list_select_related = ("subscription",)
    search_fields = ("event_id", "last_error")
    actions = ("replay",)
    exclude = ("payload",)

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in Delivery._meta.fields if f.name != "payload"] + ["body"]

    @admin.display(description="Body")
    def body(self, obj: Delivery) -> str:
        return format_html("<pre>{}</pre>", obj.payload)

    @admin.action(description="Replay the selected failed or succeeded deliveries")
    def replay(self, request, queryset) -> None:
        done, refused = 0, 0
        for delivery in queryset.select_related("subscription"):
            try:
                with transaction.atomic():
                    services.replay(delivery)
                done += 1
            except ApiError:
                refused += 1
        self.message_user(request, f"{done} deliveries queued again.", messages.SUCCESS)
        if refused:
            self.message_user(request, f"{refused} still pending: not replayed.", messages.WARNING)
