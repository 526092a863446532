"""The category tree, held by django-mptt (several roots allowed)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from mptt.models import MPTTModel, TreeForeignKey

from records.models import CatalogueRecord, LocalizedContent, SourceLink, keyset_indexes


class Category(CatalogueRecord, LocalizedContent, MPTTModel):
    """A node of the category tree.

    ``parent`` is the single source of truth for the structure; lft/rght/tree_id are derived by
    mptt and only written through ``taxonomy.services`` under the tree lock.
    """

    parent = TreeForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    search_text = models.TextField(
        default="",
        editable=False,
        help_text="Normalised names, descriptions and source ids (taxonomy.search). "
        "PostgreSQL: GIN full text index; its words feed the search vocabulary.",
    )

    class MPTTMeta:
        order_insertion_by: list[str] = []

    class Meta:
        verbose_name_plural = "categories"
        indexes = keyset_indexes("cat")
        constraints = [
            models.UniqueConstraint(fields=[f"slug_{lang}"], name=f"uniq_category_slug_{lang}")
            for lang in settings.CATALOGUE_LANGUAGES
        ]


class CategorySource(SourceLink):
    category = models.ForeignKey(Category, on_delete=models.CASCADE, related_name="sources")

    class Meta:
        # sourceId without ?source= (the unique index leads with source)
        indexes = [models.Index(fields=["source_id"], name="cat_src_source_id")]
        constraints = [
            models.UniqueConstraint(fields=["source", "source_id"], name="uniq_category_source")
        ]
