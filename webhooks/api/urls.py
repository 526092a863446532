from config.api.routing import api_path
from webhooks.api import views

WEBHOOK = r"webhooks/(?P<webhook_id>\d+)"

urlpatterns = [
    api_path("webhooks", views.WebhookCollectionView, "webhooks"),
    api_path(WEBHOOK, views.WebhookDetailView, "webhook"),
    api_path(f"{WEBHOOK}/test", views.WebhookTestView, "webhook-test"),
    api_path(f"{WEBHOOK}/rotate-secret", views.WebhookSecretView, "webhook-rotate-secret"),
    api_path(f"{WEBHOOK}/deliveries", views.WebhookDeliveriesView, "webhook-deliveries"),
    api_path(
        rf"{WEBHOOK}/deliveries/(?P<delivery_id>\d+)/replay",
        views.WebhookReplayView,
        "webhook-delivery-replay",
    ),
]
