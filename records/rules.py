"""What every catalogue record shares on the write path: localized merges, default-language name,
slugs, sort name, source links, version and ``If-Match`` (SPEC §6–§8).

Resource services (``product_update``, ``category_create`` …) compose these; none of them
re-implements a rule that lives here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol, TypedDict, TypeVar

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Model
from django.utils import timezone

from config.api import errors
from records.components import or_null
from records.localized import (
    Localized,
    SlugValue,
    column,
    present_languages,
    slugify_text,
)
from records.models import SOURCE_PATTERN
from records.sources import sync_sources
from records.validation import (
    TEXT,
    Bool,
    Errors,
    Field,
    Id,
    Int,
    Language,
    ListOf,
    Obj,
    Str,
    Url,
    add_error,
    any_case_pattern,
)

# API name → model base column of every localized field (SPEC §6).
LOCALIZED_API_NAMES = {
    "names": "name",
    "descriptions": "description",
    "shortDescriptions": "short_description",
    "slugs": "slug",
    "metadataTitles": "metadata_title",
    "metadataDescriptions": "metadata_description",
    "metadataKeywords": "metadata_keywords",
    "metadataCanonicalUrls": "metadata_canonical_url",
}
SERVER_OWNED = ("id", "version", "createdAt", "lastModifiedAt")


def localized_fields(names: Iterable[str]) -> dict[str, Field]:
    values: dict[str, Field] = {
        "names": Localized("name", Str(max_length=255), name="LocalizedName"),
        "descriptions": Localized("description"),
        "shortDescriptions": Localized("short_description"),
        "slugs": Localized("slug", SlugValue(), name="LocalizedSlug"),
        "metadataTitles": Localized("metadata_title", Str(max_length=255), name="LocalizedName"),
        "metadataDescriptions": Localized("metadata_description"),
        "metadataKeywords": Localized("metadata_keywords"),
        "metadataCanonicalUrls": Localized("metadata_canonical_url", Url(), name="LocalizedUrl"),
    }
    return {name: values[name] for name in names}


SOURCE_ITEM = Obj(
    {
        "source": Str(
            max_length=64,
            min_length=1,
            pattern=SOURCE_PATTERN,
            pattern_message="1-64 characters of A-Za-z0-9_.-",
        ),
        "sourceId": Str(max_length=255, min_length=1),
    },
    required=("source", "sourceId"),
    name="Source",
)


# References to another record in a body: ``{"id": n}`` or ``{"sourceId": s, "source": s}``.
ID_REF = Obj({"id": Id()}, required=("id",), name="IdRef")
SOURCE_REF = Obj(
    {"sourceId": SOURCE_ITEM.fields["sourceId"], "source": SOURCE_ITEM.fields["source"]},
    required=("sourceId", "source"),
    name="SourceRef",
)
#: the identifying key of a reference, in the order outcomes report it
REF_KEYS = ("id", "sourceId", "sku", "code")


def ref_key(ref: Any) -> tuple[str | None, Any]:
    """An outcome's ``lookupKey`` and ``key``: the identifying field of a reference as sent
    (``(None, None)`` for something that is no reference at all)."""
    if isinstance(ref, dict):
        for name in REF_KEYS:
            if name in ref:
                return name, ref[name]
    return None, None


def describe_ref(ref: Any) -> str:
    """How messages name a reference: ``sourceId [A-17] and source [ERP]``, ``sku [S-1]``."""
    if isinstance(ref, dict) and "sourceId" in ref:
        return f"sourceId [{ref['sourceId']}] and source [{ref.get('source')}]"
    name, value = ref_key(ref)
    return f"{name} [{value}]" if name else "an invalid reference"


def source_fields() -> dict[str, Field]:
    return {
        "sources": ListOf(SOURCE_ITEM, max_items=100),
        "source": SOURCE_ITEM.fields["source"],
        "sourceId": SOURCE_ITEM.fields["sourceId"],
    }


#: ``check_sources`` in JSON Schema: ``source`` and ``sourceId`` come together, never with ``sources``
SOURCES_RULES = (
    {
        "not": {
            "anyOf": [{"required": ["sources", "source"]}, {"required": ["sources", "sourceId"]}]
        }
    },
    {
        "anyOf": [
            {"required": ["source", "sourceId"]},
            {"not": {"anyOf": [{"required": ["source"]}, {"required": ["sourceId"]}]}},
        ]
    },
)


def _names_hold(language: str) -> dict[str, Any]:
    """``names`` has a non-null entry in ``language``. OpenAPI 3.0 has no ``contains``: "not
    every entry lacks it" says the same (and refuses an empty list)."""
    entry = {
        "type": "object",
        "required": ["language", "value"],
        "properties": {"language": {"pattern": any_case_pattern([language])}, "value": TEXT},
    }
    return {"required": ["names"], "properties": {"names": {"not": {"items": {"not": entry}}}}}


def default_name_rule() -> dict[str, Any]:
    """A new record's ``names`` holds its default language (``language``, or the catalogue's
    when absent): the rule ``finish_localized`` enforces (10019), said in the document."""
    return {
        "anyOf": [
            *(
                {
                    "allOf": [
                        {
                            "required": ["language"],
                            "properties": {"language": {"pattern": any_case_pattern([code])}},
                        },
                        _names_hold(code),
                    ]
                }
                for code in settings.CATALOGUE_LANGUAGES
            ),
            {
                "allOf": [
                    {"not": {"required": ["language"]}},
                    _names_hold(settings.CATALOGUE_DEFAULT_LANGUAGE),
                ]
            },
        ]
    }


def representation_schema(
    fields: dict[str, Field],
    *,
    optional: Iterable[str] = (),
    properties: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The schema of a record as read, from the fields its bodies declare: without the flat
    ``source``/``sourceId`` pair (reads answer ``sources``), ``properties`` replacing what a read
    shows differently, and every key ``required`` but the ``optional`` ones (``?expands=``)."""
    schema = Obj(fields).object_schema(for_write=False)
    props = schema["properties"]
    for name in ("source", "sourceId"):
        props.pop(name, None)
    props.update(properties or {})
    schema["required"] = [name for name in props if name not in set(optional)]
    return schema


def related_schema() -> dict[str, Any]:
    """``{"id": n}`` of a related record in a representation, or null."""
    return or_null(ID_REF.openapi())


def check_sources(cleaned: dict, path: str, errs: Errors) -> None:
    """Flat ``source`` + ``sourceId`` or a ``sources`` list, never both (SPEC §7)."""
    flat = {"source", "sourceId"} & set(cleaned)
    if flat and "sources" in cleaned:
        add_error(errs, path or "sources", "Send either source + sourceId or sources, not both.")
        return
    if flat and flat != {"source", "sourceId"}:
        missing = ({"source", "sourceId"} - flat).pop()
        add_error(
            errs,
            f"{path}.{missing}" if path else missing,
            "source and sourceId must be sent together.",
        )
        return
    if "sources" in cleaned:
        pairs = [(s["source"], s["sourceId"]) for s in cleaned["sources"]]
        if len(set(pairs)) != len(pairs):
            add_error(
                errs, f"{path}.sources" if path else "sources", "A source pair appears twice."
            )


def common_fields() -> dict[str, Field]:
    """Read-only bookkeeping fields plus ``language``, ``hidden``, ``priority``."""
    return {
        "id": Id(read_only=True),
        "version": Int(minimum=1, maximum=None, read_only=True),
        "createdAt": Str(
            read_only=True, format="date-time", description="ISO 8601 UTC, milliseconds"
        ),
        "lastModifiedAt": Str(
            read_only=True, format="date-time", description="ISO 8601 UTC, milliseconds"
        ),
        "language": Language(description="The record's default language."),
        "hidden": Bool(),
        "priority": Int(),
    }


def timestamp(value: datetime) -> str:
    """ISO 8601 in UTC with milliseconds: ``2026-11-25T06:28:49.123Z``."""
    return value.astimezone(UTC).isoformat(timespec="milliseconds")[:-6] + "Z"


def bookkeeping_output(obj: Model) -> dict[str, Any]:
    """``bookkeeping_row_output`` of a model instance."""
    return bookkeeping_row_output(
        {
            "id": obj.pk,
            "version": obj.version,
            "created_at": obj.created_at,
            "last_modified_at": obj.last_modified_at,
        }
    )


def bookkeeping_row_output(row: Mapping[str, Any]) -> dict[str, Any]:
    """``id``, ``version`` and the timestamps from a ``values()`` row."""
    return {
        "id": row["id"],
        "version": row["version"],
        "createdAt": timestamp(row["created_at"]),
        "lastModifiedAt": timestamp(row["last_modified_at"]),
    }


class SearchDocument(Protocol):
    """What a record type's ``search_text`` is made of (``records.search.text.SearchText``)."""

    def document(self, record: Any, source_ids: Iterable[str]) -> str: ...

    def source_ids(self, pk: int) -> list[str]: ...


@dataclass(frozen=True)
class RecordSpec:
    """How one resource type stores the shared parts of a record."""

    label: str  # "Product"
    localized: tuple[str, ...]  # model base columns, e.g. ("name", "description", …)
    source_model: type[Model]
    source_owner_field: str
    exists_error: type[errors.ApiError]
    #: the record's search document, kept by every write; None for a type without one
    search: SearchDocument | None = None

    @property
    def model(self) -> type[Model]:
        return self.source_model._meta.get_field(self.source_owner_field).related_model


def check_if_match(if_match: str | None, instance: Model) -> None:
    """``If-Match: "<version>"`` against the locked row; a stale value is 412 (10009)."""
    if if_match is None:
        return
    tags = [tag.strip().removeprefix("W/").strip('"') for tag in if_match.split(",")]
    if "*" in tags or str(instance.version) in tags:
        return
    raise errors.PreconditionFailed(
        f'If-Match {if_match} does not match the current version "{instance.version}".'
    )


def snapshot(instance: Model) -> dict[str, Any]:
    return {f.attname: getattr(instance, f.attname) for f in instance._meta.concrete_fields}


def merge_localized(
    instance: Model,
    values: dict[str, dict[str, str | None]],
    *,
    replace: bool = False,
    keep_default_name: bool = True,
) -> None:
    """Per-language merge: absent languages keep their value, ``None`` clears one.

    With ``replace`` (the bulk directive ``replaceTranslationsOnUpdate``) languages absent from
    the item are cleared, except the default-language name.
    """
    for base, per_language in values.items():
        if replace:
            for language in settings.CATALOGUE_LANGUAGES:
                if language in per_language:
                    continue
                if keep_default_name and base == "name" and language == instance.language:
                    continue
                setattr(instance, column(base, language), None)
        for language, value in per_language.items():
            setattr(instance, column(base, language), value)


def finish_localized(instance: Model, spec: RecordSpec) -> None:
    """Enforce the default-language name, generate missing slugs, refresh the sort name.

    Raises ``DefaultTranslationRequired`` (10019) and ``spec.exists_error`` (409) for a
    client-supplied slug that another record of the type already uses.
    """
    default_name = getattr(instance, column("name", instance.language), None)
    if not default_name:
        raise errors.DefaultTranslationRequired(
            f"names must contain the default language {instance.language.upper()}."
        )
    if "slug" in spec.localized:
        _ensure_slugs(instance, spec)
    instance.sort_name = default_name.lower()[:255]


def _ensure_slugs(instance: Model, spec: RecordSpec) -> None:
    """Check client slugs, number generated ones; remembers which were generated (a retry of
    ``insert_record`` renumbers those)."""
    instance._generated_slugs = []
    manager = type(instance)._default_manager
    others = manager.exclude(pk=instance.pk) if instance.pk else manager.all()
    for language in settings.CATALOGUE_LANGUAGES:
        slug_column = column("slug", language)
        slug = getattr(instance, slug_column, None)
        if slug:
            if others.filter(**{slug_column: slug}).exists():
                raise spec.exists_error(
                    f"{spec.label} with slug [{slug}] in language {language.upper()} already exists."
                )
            continue
        name = getattr(instance, column("name", language), None)
        if not name:
            continue
        base = slugify_text(name)
        taken = set(
            others.filter(**{f"{slug_column}__startswith": base}).values_list(
                slug_column, flat=True
            )
        )
        candidate, n = base, 1
        while candidate in taken:
            n += 1
            candidate = f"{base}-{n}"
        setattr(instance, slug_column, candidate)
        instance._generated_slugs.append(slug_column)


INSERT_ATTEMPTS = 3


def insert_record(instance: Model, spec: RecordSpec) -> None:
    """Insert a new record whose slugs ``finish_localized`` chose.

    A concurrent create may commit the same generated slug (or code, or source pair) between the
    check and the insert: the insert runs in a savepoint, generated slugs are renumbered against
    what has committed since and the insert tried again; a clash that renumbering cannot solve
    is ``spec.exists_error`` (409), never a 500.
    """
    for attempt in range(1, INSERT_ATTEMPTS + 1):
        try:
            with transaction.atomic():
                instance.save()
            return
        except IntegrityError as exc:
            generated = getattr(instance, "_generated_slugs", [])
            if attempt == INSERT_ATTEMPTS or not generated:
                raise spec.exists_error(
                    f"{spec.label} conflicts with a {spec.label.lower()} created at the same "
                    "time (slug, code or source pair already used); retry to see it."
                ) from exc
            for slug_column in generated:
                setattr(instance, slug_column, None)
            _ensure_slugs(instance, spec)  # sees the concurrent record now that it committed


def save_record(
    instance: Model, before: dict[str, Any] | None, *, extra_changed: bool = False
) -> bool:
    """Insert, or update when something changed (bumping ``version`` and ``lastModifiedAt``)."""
    if before is None:
        instance.save()
        return True
    changed = extra_changed or snapshot(instance) != before
    if changed:
        instance.version = before["version"] + 1
        instance.last_modified_at = timezone.now()
        instance.save()
    return changed


def source_pairs(data: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The ``(source, sourceId)`` pairs a cleaned body names (flat pair or ``sources``)."""
    if "sources" in data:
        return [(s["source"], s["sourceId"]) for s in data["sources"]]
    if "source" in data:
        return [(data["source"], data["sourceId"])]
    return []


def apply_sources(instance: Model, spec: RecordSpec, data: Mapping[str, Any]) -> bool:
    """Flat pair adds; ``sources`` is the full set on create and replaces the set on update."""
    pairs = source_pairs(data)
    if not pairs and "sources" not in data:
        return False
    return sync_sources(
        owner=instance,
        link_model=spec.source_model,
        owner_field=spec.source_owner_field,
        pairs=pairs,
        replace="sources" in data,
        exists_error=spec.exists_error,
        label=spec.label,
    )


def remove_translation(instance: Model, spec: RecordSpec, language: str) -> None:
    """Clear every localized value of ``language`` (SPEC §6); the caller saves."""
    language = language.lower()
    if language not in settings.CATALOGUE_LANGUAGES:
        raise errors.SchemaValidationException(
            fields={"language": [f"Unknown language '{language}'."]}
        )
    if language == instance.language:
        raise errors.DefaultTranslationRequired(
            f"{language.upper()} is the record's default language and cannot be removed."
        )
    if language not in present_languages(instance, spec.localized):
        raise errors.TranslationNotFound(
            f"{spec.label} has no value in language {language.upper()}."
        )
    for base in spec.localized:
        setattr(instance, column(base, language), None)


def localized_input(data: Mapping[str, Any], spec: RecordSpec) -> dict[str, dict[str, str | None]]:
    return {base: data[base] for base in spec.localized if base in data}


# The lifecycle every record type shares. A resource service locks its row (and whatever its
# own rules need locked first), then hands over: these keep the order of checks, the search
# document, the source links and the version rules the same for every type.

#: a record type's cleaned write body (``ProductCreate``, ``CategoryPatch`` …)
Body = TypeVar("Body", bound=Mapping[str, Any])
#: the record being written
Record = TypeVar("Record", bound=Model)
#: copies a body's fields onto a record with the record type's own rules; returns whether it
#: changed something the row snapshot cannot see (another table's rows, a value's JSON type)
ApplyFields = Callable[[Record, Body], bool | None]


def _refresh_search_text(instance: Any, spec: RecordSpec, source_ids: Iterable[str]) -> str | None:
    """Recompute the record's ``search_text`` (every type with a search document has one)."""
    if spec.search is None:
        return None
    instance.search_text = document = spec.search.document(instance, source_ids)
    return document


def create_record(
    instance: Record, spec: RecordSpec, data: Body, apply: ApplyFields[Record, Body]
) -> Record:
    """Insert a new record built by ``apply`` from a cleaned create body, with its search
    document and its source links. Raises what ``apply`` raises (DefaultTranslationRequired
    through ``finish_localized``, a missing reference …) and ``spec.exists_error`` (409)."""
    apply(instance, data)
    _refresh_search_text(instance, spec, [i for _, i in source_pairs(data)])
    insert_record(instance, spec)
    apply_sources(instance, spec, data)
    return instance


def update_record(
    instance: Record,
    spec: RecordSpec,
    data: Body,
    apply: ApplyFields[Record, Body],
    *,
    if_match: str | None,
) -> bool:
    """A partial update of a locked record: ``If-Match`` first (PreconditionFailed, 412), then
    ``apply`` and the source links. A write that changes nothing keeps ``version`` and
    ``lastModifiedAt`` (the search document is derived: never a change of its own, SPEC §8).
    Returns whether the record changed."""
    check_if_match(if_match, instance)
    before = snapshot(instance)
    changed = bool(apply(instance, data))
    changed = apply_sources(instance, spec, data) or changed
    if spec.search is not None:
        source_ids = spec.search.source_ids(instance.pk)
        before["search_text"] = _refresh_search_text(instance, spec, source_ids)
    return save_record(instance, before, extra_changed=changed)


def remove_record_translation(instance: Model, spec: RecordSpec, language: str) -> None:
    """Clear every localized value of ``language`` of a locked record and save it (SPEC §6).
    Raises SchemaValidationException, DefaultTranslationRequired, TranslationNotFound."""
    before = snapshot(instance)
    remove_translation(instance, spec, language)
    finish_localized(instance, spec)
    if spec.search is not None:
        _refresh_search_text(instance, spec, spec.search.source_ids(instance.pk))
    save_record(instance, before)


def delete_record(
    instance: Model,
    *,
    if_match: str | None,
    events: Callable[[Model], AbstractContextManager[None]],
) -> None:
    """Delete a locked record (its links go with it); PreconditionFailed on a stale
    ``If-Match``. ``events`` wraps the delete once the precondition holds: the service's change
    events (``changes.outbox.deleting_record``: the tombstone while the row still exists, the
    events of the records the delete changes once it is done)."""
    check_if_match(if_match, instance)
    with events(instance):
        instance.delete()


# What the services of every record type take: a request body once its schema has cleaned it
# (model field names, per-language maps), typed at the service boundary. Each resource's
# services declare their own bodies on top of these.

#: language code → value; ``None`` clears that language
Translations = dict[str, str | None]


class SourceLinkInput(TypedDict):
    source: str
    sourceId: str


class RecordRef(TypedDict, total=False):
    """Another record named in a body: ``{"id"}`` or ``{"sourceId", "source"}`` (``SOURCE_REF``;
    some references also take a resource's own key)."""

    id: int
    source: str
    sourceId: str


class RecordFields(TypedDict, total=False):
    """The fields every record's create and update take (its name aside: required on create)."""

    language: str
    hidden: bool
    priority: int
    description: Translations
    short_description: Translations
    #: the source links: the whole set (``sources``), or one more pair (``source`` + ``sourceId``)
    sources: list[SourceLinkInput]
    source: str
    sourceId: str


class PageFields(TypedDict, total=False):
    """The localized slug and metadata of records that are pages of a shop (categories, products,
    clusters)."""

    slug: Translations
    metadata_title: Translations
    metadata_description: Translations
    metadata_keywords: Translations
    metadata_canonical_url: Translations
