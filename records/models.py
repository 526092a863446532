"""What every catalogue record shares: the abstract record models, source links, and the
search vocabulary."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.utils import timezone


def default_language() -> str:
    return settings.CATALOGUE_DEFAULT_LANGUAGE


class CatalogueRecord(models.Model):
    """Version, timestamps, default language and the sortable default-language name.

    ``version`` starts at 1 and grows by one on every write that changes something; a write that
    changes nothing keeps both ``version`` and ``last_modified_at`` (SPEC §8), so the timestamps
    are set by the services, not by ``auto_now``.
    """

    language = models.CharField(max_length=8, default=default_language)
    sort_name = models.CharField(max_length=255, default="", editable=False)
    hidden = models.BooleanField(default=False)
    priority = models.IntegerField(default=0)
    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    last_modified_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        abstract = True


class LocalizedContent(models.Model):
    """The localized text fields (translated per language by modeltranslation)."""

    name = models.CharField(max_length=255, null=True, blank=True)
    description = models.TextField(null=True, blank=True)
    short_description = models.TextField(null=True, blank=True)
    slug = models.CharField(max_length=255, null=True, blank=True)
    metadata_title = models.CharField(max_length=255, null=True, blank=True)
    metadata_description = models.TextField(null=True, blank=True)
    metadata_keywords = models.TextField(null=True, blank=True)
    metadata_canonical_url = models.CharField(max_length=2000, null=True, blank=True)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return getattr(self, f"name_{self.language}", None) or f"#{self.pk}"


def keyset_indexes(prefix: str, extra: tuple[str, ...] = ()) -> list[models.Index]:
    """Composite ``(column, id)`` indexes for every sort the lists offer (keyset pagination)."""
    columns = ("sort_name", "priority", "created_at", "last_modified_at", *extra)
    return [models.Index(fields=[c, "id"], name=f"{prefix}_{c}_id") for c in columns]


SOURCE_PATTERN = r"^[A-Za-z0-9_.-]{1,64}$"


class SourceLink(models.Model):
    """A ``(source, sourceId)`` pair linking a record to an upstream system (SPEC §7).

    Concrete subclasses add the foreign key to their record and a unique constraint on
    ``(source, source_id)``, which makes a pair unique per resource type.
    """

    source = models.CharField(max_length=64, validators=[RegexValidator(SOURCE_PATTERN)])
    source_id = models.CharField(max_length=255)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{self.source}:{self.source_id}"


class SearchWord(models.Model):
    """The vocabulary of every search document: each distinct word of four or more letters (no
    digits) found in any ``search_text`` column, used to correct typos (``records.search.matching``).

    On PostgreSQL statement-level triggers on the documents' tables add the words of every
    inserted or changed document, whatever wrote it (services, bulk SQL, COPY); a trigram GIN
    index serves the edit-distance lookups. Words are never removed: a stale word only ever
    expands a search into a word no document holds. SQLite corrects typos without it.
    """

    word = models.CharField(max_length=64, primary_key=True)

    class Meta:
        # The table and the trigger functions that fill it were created as the ``api`` app's
        # (config/api/migrations/0001); the model moved here without moving its table.
        db_table = "api_searchword"

    def __str__(self) -> str:
        return self.word
