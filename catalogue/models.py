"""Products, their source links and attributes."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from records.models import CatalogueRecord, LocalizedContent, SourceLink, keyset_indexes


class Product(CatalogueRecord, LocalizedContent):
    """A sellable article. Its primary home is a category (``parent``) or a cluster (the
    clusters app's ``cluster_membership``), never both.

    String codes are stored as ``""`` when absent so that every sortable column is NOT NULL, which
    keeps keyset pagination simple and index-friendly.
    """

    class Status(models.TextChoices):
        AVAILABLE = "A", "Available"
        NOT_AVAILABLE = "N", "Not available"
        OUT_OF_STOCK = "T", "Out of stock"
        PHASE_OUT = "P", "Phase-out"
        PRESALE = "S", "Presale"
        RESTRICTED = "R", "Restricted"

    class TaxCode(models.TextChoices):
        HIGH = "H", "High"
        LOW = "L", "Low"
        NONE = "N", "None"

    sku = models.CharField(max_length=128, blank=True, default="")
    ean_code = models.CharField(max_length=14, blank=True, default="")
    manufacturer = models.CharField(max_length=255, blank=True, default="")
    manufacturer_code = models.CharField(max_length=255, blank=True, default="")
    supplier = models.CharField(max_length=255, blank=True, default="")
    supplier_code = models.CharField(max_length=255, blank=True, default="")
    status = models.CharField(max_length=1, choices=Status.choices, default=Status.AVAILABLE)
    unit = models.PositiveIntegerField(default=1)
    minimum_quantity = models.PositiveIntegerField(default=1)
    package = models.CharField(max_length=64, blank=True, default="")
    tax_code = models.CharField(max_length=1, choices=TaxCode.choices, default=TaxCode.HIGH)
    parent = models.ForeignKey(
        "taxonomy.Category",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="products",
        help_text="The primary category.",
    )
    search_text = models.TextField(
        default="",
        editable=False,
        help_text="Normalised names, descriptions, codes and source ids (catalogue.search). "
        "PostgreSQL: GIN full text index; its words feed the search vocabulary.",
    )

    class Meta:
        indexes = [
            *keyset_indexes("prod", ("sku",)),
            models.Index(fields=["ean_code"], name="prod_ean"),
            models.Index(fields=["supplier", "supplier_code"], name="prod_supplier_code"),
            models.Index(fields=["supplier_code"], name="prod_supplier_code_only"),
            models.Index(fields=["manufacturer"], name="prod_manufacturer"),
            models.Index(fields=["status", "id"], name="prod_status_id"),
        ]
        # Slugs are unique per language among products (NULLs never collide).
        constraints = [
            models.UniqueConstraint(fields=[f"slug_{lang}"], name=f"uniq_product_slug_{lang}")
            for lang in settings.CATALOGUE_LANGUAGES
        ]


class ProductCategory(models.Model):
    """A secondary category of a product (SPEC §10.1); the primary one is ``Product.parent``.

    Written only through the category relationship service (the API's link endpoints, the back
    office's inline and bulk actions). A category with links cannot be
    deleted (``PROTECT``); a deleted product takes its links with it.
    """

    # Both foreign keys are covered by the two composite indexes below.
    product = models.ForeignKey(
        Product, on_delete=models.CASCADE, related_name="category_links", db_index=False
    )
    category = models.ForeignKey(
        "taxonomy.Category",
        on_delete=models.PROTECT,
        related_name="product_links",
        db_index=False,
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["product", "category"], name="uniq_product_category")
        ]
        indexes = [models.Index(fields=["category", "product"], name="prod_cat_category_product")]

    def __str__(self) -> str:
        return f"{self.product_id} in {self.category_id}"


class ProductSource(SourceLink):
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="sources")

    class Meta:
        # sourceId without ?source= (the unique index leads with source)
        indexes = [models.Index(fields=["source_id"], name="prod_src_source_id")]
        constraints = [
            models.UniqueConstraint(fields=["source", "source_id"], name="uniq_product_source")
        ]


class ProductAttribute(models.Model):
    """One ``{"name", "value"}`` attribute. ``value_text`` is the scalar form used by equality
    filters, ``value_number`` the numeric form used by range filters (null when not a number)."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="attributes")
    position = models.PositiveSmallIntegerField()
    name = models.CharField(max_length=64)
    value = models.JSONField()
    value_text = models.CharField(max_length=255, null=True, blank=True)
    value_number = models.FloatField(null=True, blank=True)

    class Meta:
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(fields=["product", "name"], name="uniq_product_attribute")
        ]
        indexes = [
            models.Index(fields=["name", "value_text"], name="prod_attr_name_value"),
            models.Index(fields=["name", "value_number"], name="prod_attr_name_number"),
        ]

    def __str__(self) -> str:
        return f"{self.name}={self.value}"
