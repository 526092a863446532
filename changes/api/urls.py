from changes.api import views
from config.api.routing import api_path

urlpatterns = [api_path("changes", views.ChangeFeedView, "change-feed")]
