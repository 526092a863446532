from clusters.api import bulk_views, views
from config.api.routing import api_path

LOOKUP = r"(?P<lookup_key>[^/]+)/(?P<lookup_value>[^/]+)"
CLUSTER = f"clusters/{LOOKUP}"
CONFIG = f"clusterconfigs/{LOOKUP}"
OPTION = f"clusteroptions/{LOOKUP}"
TRANSLATION = "translation/(?P<language>[^/]+)"

urlpatterns = [
    # Bulk routes come before the {lk}/{lv} detail routes, which would take "bulk" as a key.
    api_path("clusters/bulk/(?P<lookupKey>[^/]+)", bulk_views.ClusterBulkView, "cluster-bulk"),
    api_path(f"{CLUSTER}/products/bulk", bulk_views.ClusterProductBulkView, "cluster-product-bulk"),
    api_path(f"{CLUSTER}/options/bulk", bulk_views.ClusterOptionBulkView, "cluster-option-bulk"),
    api_path(f"{OPTION}/products/bulk", bulk_views.OptionProductBulkView, "option-product-bulk"),
    api_path("clusterconfigs", views.ClusterConfigCollectionView, "clusterconfig-list"),
    api_path(CONFIG, views.ClusterConfigDetailView, "clusterconfig-detail"),
    api_path(f"{CONFIG}/history", views.ClusterConfigHistoryView, "clusterconfig-history"),
    api_path(f"{CONFIG}/settings", views.ClusterConfigSettingCollectionView, "setting-list"),
    api_path(
        rf"{CONFIG}/settings/(?P<setting_id>\d+)",
        views.ClusterConfigSettingDetailView,
        "setting-detail",
    ),
    api_path("clusters", views.ClusterCollectionView, "cluster-list"),
    api_path(CLUSTER, views.ClusterDetailView, "cluster-detail"),
    api_path(f"{CLUSTER}/{TRANSLATION}", views.ClusterTranslationView, "cluster-translation"),
    api_path(f"{CLUSTER}/attributes", views.ClusterAttributesView, "cluster-attributes"),
    api_path(
        f"{CLUSTER}/attributes/(?P<attribute_name>[^/]+)",
        views.ClusterAttributeView,
        "cluster-attribute",
    ),
    api_path(f"{CLUSTER}/validate", views.ClusterValidateView, "cluster-validate"),
    api_path(f"{CLUSTER}/history", views.ClusterHistoryView, "cluster-history"),
    api_path(f"{CLUSTER}/products", views.ClusterProductCollectionView, "cluster-product-list"),
    api_path(
        f"{CLUSTER}/products/assign", views.ClusterProductAssignView, "cluster-product-assign"
    ),
    api_path(
        f"{CLUSTER}/products/unassign",
        views.ClusterProductUnassignView,
        "cluster-product-unassign",
    ),
    api_path(
        rf"{CLUSTER}/products/(?P<product_id>\d+)",
        views.ClusterProductDetailView,
        "cluster-product-detail",
    ),
    api_path(f"{CLUSTER}/options", views.ClusterOptionCollectionView, "cluster-option-list"),
    api_path(
        rf"{CLUSTER}/options/(?P<option_id>\d+)",
        views.ClusterOptionNestedDetailView,
        "cluster-option-nested-detail",
    ),
    api_path(OPTION, views.ClusterOptionDetailView, "clusteroption-detail"),
    api_path(
        f"{OPTION}/{TRANSLATION}", views.ClusterOptionTranslationView, "clusteroption-translation"
    ),
    api_path(f"{OPTION}/history", views.ClusterOptionHistoryView, "clusteroption-history"),
    api_path(f"{OPTION}/products", views.OptionProductCollectionView, "option-product-list"),
    api_path(f"{OPTION}/products/assign", views.OptionProductAssignView, "option-product-assign"),
    api_path(
        f"{OPTION}/products/unassign", views.OptionProductUnassignView, "option-product-unassign"
    ),
]
