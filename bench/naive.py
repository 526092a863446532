"""The naive baseline: what a typical DRF project writes for the same routes.

ModelViewSet + ModelSerializer (with the prefetches a careful developer adds), page-number
pagination with counts, DOT's OAuth2Authentication with TokenHasScope, and a bulk endpoint that
loops over ``update_or_create``.
"""

from __future__ import annotations

from django.db import transaction
from django.shortcuts import get_object_or_404
from django_filters.rest_framework import DjangoFilterBackend
from oauth2_provider.contrib.rest_framework import OAuth2Authentication, TokenHasScope
from rest_framework import pagination, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.filters import OrderingFilter
from rest_framework.parsers import JSONParser
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from catalogue.models import Product, ProductAttribute, ProductSource
from taxonomy.models import Category, CategorySource


class SourceSerializer(serializers.ModelSerializer):
    class Meta:
        model = ProductSource
        fields = ["source", "source_id"]


class AttributeSerializer(serializers.ModelSerializer):
    class Meta:
        model = ProductAttribute
        fields = ["name", "value"]


class NaiveProductSerializer(serializers.ModelSerializer):
    sources = SourceSerializer(many=True, read_only=True)
    attributes = AttributeSerializer(many=True, read_only=True)

    class Meta:
        model = Product
        fields = "__all__"


class PageNumber(pagination.PageNumberPagination):
    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 500


class NaiveProductViewSet(viewsets.ModelViewSet):
    queryset = Product.objects.prefetch_related("sources", "attributes").order_by("id")
    serializer_class = NaiveProductSerializer
    pagination_class = PageNumber
    authentication_classes = [OAuth2Authentication]
    permission_classes = [TokenHasScope]
    required_scopes = ["products:read"]
    parser_classes = [JSONParser]
    renderer_classes = [JSONRenderer]
    filter_backends = [DjangoFilterBackend, OrderingFilter]
    filterset_fields = ["status", "hidden", "sku", "supplier"]
    ordering_fields = ["id", "sort_name", "priority", "created_at"]

    @action(detail=False, url_path=r"by-source/(?P<source>[^/]+)/(?P<source_id>[^/]+)")
    def by_source(self, request, source: str, source_id: str):
        product = get_object_or_404(
            self.get_queryset(), sources__source=source, sources__source_id=source_id
        )
        return Response(self.get_serializer(product).data)

    @action(detail=False, methods=["post"])
    def bulk(self, request):
        """Per-item upsert: the loop a typical project writes."""
        results = []
        with transaction.atomic():
            for item in request.data["products"]:
                link = (
                    ProductSource.objects.filter(source=item["source"], source_id=item["sourceId"])
                    .select_related("product")
                    .first()
                )
                product = link.product if link else Product()
                for entry in item.get("names", []):
                    setattr(product, f"name_{entry['language'].lower()}", entry["value"])
                product.sort_name = (product.name_en or "").lower()
                product.sku = item.get("sku", product.sku)
                if "parent" in item:
                    product.parent_id = item["parent"]["id"]
                product.save()
                if link is None:
                    ProductSource.objects.create(
                        product=product, source=item["source"], source_id=item["sourceId"]
                    )
                for position, attribute in enumerate(item.get("attributes", [])):
                    ProductAttribute.objects.update_or_create(
                        product=product,
                        name=attribute["name"],
                        defaults={"value": attribute["value"], "position": position},
                    )
                results.append({"id": product.pk, "created": link is None})
        return Response({"data": results})


class CategorySourceSerializer(serializers.ModelSerializer):
    class Meta:
        model = CategorySource
        fields = ["source", "source_id"]


class NaiveCategoryTreeSerializer(serializers.ModelSerializer):
    """The recursive serializer a typical project writes: children per node."""

    sources = CategorySourceSerializer(many=True, read_only=True)
    children = serializers.SerializerMethodField()

    class Meta:
        model = Category
        exclude = ["search_text"]

    def get_children(self, obj):
        return NaiveCategoryTreeSerializer(obj.get_children(), many=True).data


class NaiveCategoryViewSet(viewsets.GenericViewSet):
    queryset = Category.objects.all()
    authentication_classes = [OAuth2Authentication]
    permission_classes = [TokenHasScope]
    required_scopes = ["categories:read"]
    parser_classes = [JSONParser]
    renderer_classes = [JSONRenderer]

    def get_required_scopes(self):
        return ["categories:write"] if self.request.method == "POST" else self.required_scopes

    @action(detail=False)
    def tree(self, request):
        roots = Category.objects.filter(parent=None).order_by("tree_id")
        return Response(NaiveCategoryTreeSerializer(roots, many=True).data)

    @action(detail=True, methods=["post"])
    def move(self, request, pk=None):
        """mptt's ``move_to`` without the service (no tree lock, no If-Match, no snapshot)."""
        with transaction.atomic():
            node = Category.objects.get(pk=pk)
            target = Category.objects.get(pk=request.data["target"]["id"])
            node.move_to(target, "last-child")
        return Response({"data": {"id": node.pk}})
