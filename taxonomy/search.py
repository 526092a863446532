"""Category search: the search document every write path keeps and the ``category`` resolve
type. The generic machinery is in ``config.api.search``; the API registration in
``taxonomy.api.search``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.conf import settings

from config.api.search import Resolver, id_key, search_document, set_column, slug_key, source_key
from taxonomy.models import Category, CategorySource

_TEXT_BASES = ("name", "short_description", "description")


def category_search_text(category: Any, source_ids: Iterable[str]) -> str:
    """The ``search_text`` of a category: names (default language first), source ids, short
    descriptions and descriptions in every language.

    ``category`` may be a historical model in a migration; only plain attributes are read.
    """
    languages = [
        category.language,
        *(code for code in settings.CATALOGUE_LANGUAGES if code != category.language),
    ]
    names = [getattr(category, f"name_{code}", None) for code in languages]
    texts = [
        getattr(category, f"{base}_{code}", None) for base in _TEXT_BASES[1:] for code in languages
    ]
    return search_document([*names, *source_ids, *texts])


def category_source_ids(category_id: int) -> list[str]:
    return list(
        CategorySource.objects.filter(category_id=category_id)
        .order_by("pk")
        .values_list("source_id", flat=True)
    )


def refresh_category_search_text(ids: Iterable[int], *, batch_size: int = 1000) -> int:
    """Recompute ``search_text`` of the given categories set-based (bulk writes, rebuilds):
    three statements per ``batch_size`` categories. Returns how many rows were rewritten."""
    ids = list(ids)
    columns = ["id", "language"] + [
        f"{base}_{code}" for base in _TEXT_BASES for code in settings.CATALOGUE_LANGUAGES
    ]
    rewritten = 0
    for start in range(0, len(ids), batch_size):
        chunk = ids[start : start + batch_size]
        sources: dict[int, list[str]] = {}
        for owner, source_id in (
            CategorySource.objects.filter(category_id__in=chunk)
            .order_by("pk")
            .values_list("category_id", "source_id")
        ):
            sources.setdefault(owner, []).append(source_id)
        documents = {
            category.pk: category_search_text(category, sources.get(category.pk, []))
            for category in Category.objects.filter(pk__in=chunk).only(*columns)
        }
        set_column(Category, "search_text", documents)
        rewritten += len(documents)
    return rewritten


CATEGORY_RESOLVER = Resolver(
    "category",
    (
        id_key(Category),
        source_key(CategorySource, "category"),
        slug_key(Category, lambda: settings.CATALOGUE_DEFAULT_LANGUAGE),
    ),
)
