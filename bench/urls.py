"""The service's URLs plus the baselines, mounted only in benchmark settings."""

from django.urls import include, path, re_path
from rest_framework.routers import SimpleRouter

from bench import floor, naive
from bench.views import AuthenticatedNoop, PublicNoop, without_change_events
from config import urls as service_urls

router = SimpleRouter()
router.register("products", naive.NaiveProductViewSet, basename="naive-product")
router.register("categories", naive.NaiveCategoryViewSet, basename="naive-category")

urlpatterns = [
    re_path(r"^naive/", include(router.urls)),
    path("floor/products/by-source/<str:source>/<str:source_id>", floor.product_by_source),
    path("floor/products", floor.product_list),
    path("floor/products/bulk", floor.product_bulk),
    path("floor/products/search", floor.product_search),
    path("floor/categories/tree", floor.category_tree),
    path("floor/categories/<int:pk>/move", floor.category_move),
    path("floor/noop", floor.noop),
    path("bench/noop", AuthenticatedNoop.as_view()),
    path("bench/public-noop", PublicNoop.as_view()),
    path("bench/without-change-events/<path:route>", without_change_events),
    *service_urls.urlpatterns,
]
handler404 = service_urls.handler404
handler500 = service_urls.handler500
