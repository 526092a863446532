from config.api.routing import api_path
from taxonomy.api import views

LOOKUP = r"(?P<lookup_key>[^/]+)/(?P<lookup_value>[^/]+)"

# Fixed segments (``tree``, and later ``bulk/{lookupKey}`` and ``search``) come before the
# ``{lookupKey}/{lookupValue}`` routes so that they are never read as a lookup.
urlpatterns = [
    api_path("categories", views.CategoryCollectionView, "category-list"),
    api_path("categories/tree", views.CategoryTreeView, "category-tree"),
    api_path(f"categories/{LOOKUP}", views.CategoryDetailView, "category-detail"),
    api_path(
        f"categories/{LOOKUP}/translation/(?P<language>[^/]+)",
        views.CategoryTranslationView,
        "category-translation",
    ),
    api_path(f"categories/{LOOKUP}/move", views.CategoryMoveView, "category-move"),
    api_path(f"categories/{LOOKUP}/history", views.CategoryHistoryView, "category-history"),
    api_path(f"categories/{LOOKUP}/children", views.CategoryChildrenView, "category-children"),
    api_path(f"categories/{LOOKUP}/ancestors", views.CategoryAncestorsView, "category-ancestors"),
    api_path(
        f"categories/{LOOKUP}/products",
        views.linked_items_view("products"),
        "category-products",
    ),
    api_path(
        f"categories/{LOOKUP}/clusters",
        views.linked_items_view("clusters"),
        "category-clusters",
    ),
    api_path(
        f"categories/{LOOKUP}/add-products-clusters",
        views.link_items_view("add"),
        "category-add-items",
    ),
    api_path(
        f"categories/{LOOKUP}/remove-products-clusters",
        views.link_items_view("remove"),
        "category-remove-items",
    ),
]
