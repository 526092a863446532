"""Category search: the search document every write path keeps and the ``category`` resolve
type. The generic machinery is in ``records.search``; the API registration in
``taxonomy.api.search``.
"""

from __future__ import annotations

from django.conf import settings

from records.search.resolve import Resolver, id_key, slug_key, source_key
from records.search.text import SearchText
from taxonomy.models import Category, CategorySource

CATEGORY_TEXT = SearchText(Category, CategorySource, "category")
category_search_text = CATEGORY_TEXT.document
category_source_ids = CATEGORY_TEXT.source_ids
refresh_category_search_text = CATEGORY_TEXT.refresh


CATEGORY_RESOLVER = Resolver(
    "category",
    (
        id_key(Category),
        source_key(CategorySource, "category"),
        slug_key(Category, lambda: settings.CATALOGUE_DEFAULT_LANGUAGE),
    ),
)
