from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "webhooks"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from changes.signals import events_appended
        from webhooks import dispatch

        # a write's events reach the dispatcher when its transaction commits (SPEC §20)
        events_appended.connect(dispatch.on_events_appended, dispatch_uid="webhooks-dispatch")
