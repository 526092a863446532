"""Abstract models every catalogue record shares."""

from __future__ import annotations

from django.conf import settings
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


class SearchWord(models.Model):
    """The vocabulary of every search document: each distinct word of four or more letters (no
    digits) found in any ``search_text`` column, used to correct typos (``config.api.search``).

    On PostgreSQL statement-level triggers on the documents' tables add the words of every
    inserted or changed document, whatever wrote it (services, bulk SQL, COPY); a trigram GIN
    index serves the edit-distance lookups. Words are never removed: a stale word only ever
    expands a search into a word no document holds. SQLite corrects typos without it.
    """

    word = models.CharField(max_length=64, primary_key=True)

    def __str__(self) -> str:
        return self.word


class IdempotencyRecord(models.Model):
    """The first completed answer to a POST carrying ``Idempotency-Key`` (SPEC §18).

    The row is inserted (the claim) inside the transaction of the write it guards and filled with
    the rendered answer before that transaction commits, so a committed row always holds an
    answer and a rolled-back request (a 5xx, a crashed worker) leaves no claim behind. The unique
    ``(client_id, key)`` index makes a concurrent duplicate wait for the first to finish.
    """

    client_id = models.CharField(max_length=100)
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64)
    status = models.PositiveSmallIntegerField(null=True)
    headers = models.JSONField(default=dict)
    content = models.BinaryField(default=b"")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["client_id", "key"], name="uniq_idempotency_key")
        ]

    def __str__(self) -> str:
        return f"{self.client_id}:{self.key}"
