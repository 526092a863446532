"""Cluster configs, clusters (variant groups), their products and their options (SPEC §11, §12)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from records.models import CatalogueRecord, LocalizedContent, SourceLink, keyset_indexes

CONFIG_NAME_PATTERN = r"[A-Za-z0-9_]{2,35}"


class ClusterConfig(models.Model):
    """Which product attributes are the variant selectors of the clusters that follow it.

    ``name`` never changes after create (the services refuse it); clusters protect their config
    from deletion.
    """

    name = models.CharField(max_length=35, unique=True)
    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    last_modified_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        indexes = [
            models.Index(fields=[c, "id"], name=f"ccfg_{c}_id")
            for c in ("created_at", "last_modified_at")
        ]

    def __str__(self) -> str:
        return self.name


class ClusterConfigSetting(models.Model):
    """One variant selector: a product attribute name and how a shop displays its choices."""

    class DisplayType(models.TextChoices):
        DROPDOWN = "dropdown", "Dropdown"
        RADIO = "radio", "Radio buttons"
        IMAGE = "image", "Images"
        COLOR = "color", "Colour swatches"

    config = models.ForeignKey(ClusterConfig, on_delete=models.CASCADE, related_name="settings")
    attribute_name = models.CharField(max_length=64)
    display_type = models.CharField(
        max_length=16, choices=DisplayType.choices, default=DisplayType.DROPDOWN
    )
    priority = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["config", "attribute_name"], name="uniq_cluster_config_attribute"
            )
        ]

    def __str__(self) -> str:
        return f"{self.config_id}:{self.attribute_name}"


class Cluster(CatalogueRecord, LocalizedContent):
    """A group of products that are variants of one article.

    ``code`` is ``""`` when absent (NOT NULL keeps keyset sorting simple) and unique otherwise.
    ``sku`` (the reference API's cluster sku) is ``""`` when absent and not unique: a lookup by it
    that matches several clusters is ``ClusterMultipleFound``.
    Its products are ``ClusterProduct`` rows; deleting the cluster deletes its options and its
    memberships, never the products.
    """

    code = models.CharField(max_length=64, blank=True, default="")
    sku = models.CharField(max_length=128, blank=True, default="", help_text="Not unique.")
    # The cluster's own attributes (SPEC §22), ``[{"name", "value"}, …]`` in order; null (as a
    # bulk insert leaves it) reads as none. Nothing filters on them, so a JSON column serves.
    attributes = models.JSONField(null=True, blank=True, editable=False)
    cluster_config = models.ForeignKey(
        ClusterConfig, on_delete=models.PROTECT, related_name="clusters"
    )
    parent = models.ForeignKey(
        "taxonomy.Category",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="clusters",
        help_text="The primary category.",
    )
    default_product = models.ForeignKey(
        "catalogue.Product",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="One of the cluster's products.",
    )
    search_text = models.TextField(
        default="",
        editable=False,
        help_text="Normalised names, descriptions, code and source ids (clusters.search). "
        "PostgreSQL: GIN full text index; its words feed the search vocabulary.",
    )

    class Meta:
        indexes = [*keyset_indexes("clu", ("code",)), models.Index(fields=["sku"], name="clu_sku")]
        constraints = [
            models.UniqueConstraint(
                fields=["code"], condition=~Q(code=""), name="uniq_cluster_code"
            ),
            *(
                models.UniqueConstraint(fields=[f"slug_{lang}"], name=f"uniq_cluster_slug_{lang}")
                for lang in settings.CATALOGUE_LANGUAGES
            ),
        ]


class ClusterSource(SourceLink):
    cluster = models.ForeignKey(Cluster, on_delete=models.CASCADE, related_name="sources")

    class Meta:
        # sourceId without ?source= (the unique index leads with source)
        indexes = [models.Index(fields=["source_id"], name="clu_src_source_id")]
        constraints = [
            models.UniqueConstraint(fields=["source", "source_id"], name="uniq_cluster_source")
        ]


class ClusterCategory(models.Model):
    """A secondary category of a cluster (SPEC §10.1); the primary one is ``Cluster.parent``.

    Written through the category relationship endpoints (and the back office, which calls the
    same rules). A category with links cannot be deleted (``PROTECT``); a deleted cluster takes
    its links with it.
    """

    # Both foreign keys are covered by the unique constraint and the index below.
    cluster = models.ForeignKey(
        Cluster, on_delete=models.CASCADE, related_name="category_links", db_index=False
    )
    category = models.ForeignKey(
        "taxonomy.Category",
        on_delete=models.PROTECT,
        related_name="cluster_links",
        db_index=False,
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["cluster", "category"], name="uniq_cluster_category")
        ]
        indexes = [models.Index(fields=["category", "cluster"], name="clu_cat_category_cluster")]

    def __str__(self) -> str:
        return f"{self.cluster_id} in {self.category_id}"


class ClusterProduct(models.Model):
    """A product's membership of a cluster: a product is in at most one cluster.

    It lives here (not on ``Product``) so the catalogue does not depend on clusters; products
    reach it through the reverse one-to-one ``product.cluster_membership``.
    """

    cluster = models.ForeignKey(Cluster, on_delete=models.CASCADE, related_name="memberships")
    product = models.OneToOneField(
        "catalogue.Product", on_delete=models.CASCADE, related_name="cluster_membership"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    def __str__(self) -> str:
        return f"{self.product_id} in cluster {self.cluster_id}"


class ClusterOption(CatalogueRecord):
    """An extra choice offered with a cluster (gift wrap, insurance) with its own ordered
    selectable products, which stay ordinary catalogue products."""

    # Covered by the (cluster, id) index below.
    cluster = models.ForeignKey(
        Cluster, on_delete=models.CASCADE, related_name="options", db_index=False
    )
    name = models.CharField(max_length=255, null=True, blank=True)
    description = models.TextField(null=True, blank=True)
    short_description = models.TextField(null=True, blank=True)
    is_required = models.BooleanField(default=False)
    default_product = models.ForeignKey(
        "catalogue.Product",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="One of the option's products.",
    )

    class Meta:
        indexes = [
            *keyset_indexes("copt"),
            models.Index(fields=["cluster", "id"], name="copt_cluster_id"),
        ]

    def __str__(self) -> str:
        return getattr(self, f"name_{self.language}", None) or f"#{self.pk}"


class ClusterOptionSource(SourceLink):
    option = models.ForeignKey(ClusterOption, on_delete=models.CASCADE, related_name="sources")

    class Meta:
        # sourceId without ?source= (the unique index leads with source)
        indexes = [models.Index(fields=["source_id"], name="copt_src_source_id")]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "source_id"], name="uniq_cluster_option_source"
            )
        ]


class OptionProduct(models.Model):
    """A selectable product of an option, at ``position`` in the option's order."""

    option = models.ForeignKey(
        ClusterOption, on_delete=models.CASCADE, related_name="product_links", db_index=False
    )
    product = models.ForeignKey(
        "catalogue.Product", on_delete=models.CASCADE, related_name="option_links"
    )
    position = models.PositiveIntegerField()

    class Meta:
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(fields=["option", "product"], name="uniq_option_product")
        ]
        indexes = [models.Index(fields=["option", "position"], name="opt_prod_option_position")]

    def __str__(self) -> str:
        return f"{self.product_id} in option {self.option_id}"
