"""Strict list filters shared by every collection (SPEC §13), on top of django-filter.

django-filter silently ignores a boolean it cannot parse; here every filter value that does not
parse is a 400 (10007) naming the parameter, and unknown parameters are refused too.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime

import django_filters
from django import forms
from django.db.models import Exists, Model, OuterRef, Q, QuerySet
from django_filters.fields import IsoDateTimeField

from config.api.errors import SchemaValidationException
from records.localized import column, languages

PAGING_PARAMS = frozenset(
    {"pageSize", "cursor", "page", "offset", "sort", "withCount", "language", "expands"}
)


#: the ``sort`` fields every record list offers (API name → column)
COMMON_SORTS = {
    "id": "id",
    "createdAt": "created_at",
    "lastModifiedAt": "last_modified_at",
    "priority": "priority",
    "name": "sort_name",
}


class StrictBooleanFilter(django_filters.TypedChoiceFilter):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("choices", (("true", "true"), ("false", "false")))
        kwargs.setdefault("coerce", lambda value: value == "true")
        super().__init__(*args, **kwargs)


#: the largest id the ``ids`` filter takes: 18 digits (``IDS_PARAM``), so it always fits a bigint
MAX_ROW_ID = 10**18 - 1
#: the longest search text (``q``, a search body's ``term``), in characters
MAX_TERM_LENGTH = 200


class RowIdField(forms.IntegerField):
    """An id of the ``ids`` filter, at most ``MAX_ROW_ID`` (a larger number failed in the
    database)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_value", MAX_ROW_ID)
        super().__init__(*args, **kwargs)


class CommaIntegerFilter(django_filters.BaseInFilter, django_filters.NumberFilter):
    field_class = RowIdField


class IdFilter(django_filters.NumberFilter):
    """One record id (``category``, ``cluster``, ``clusterConfig``, ``root``): 1 to
    ``MAX_ROW_ID``, a whole number."""

    field_class = RowIdField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ROW_ID)
        super().__init__(*args, **kwargs)


class CommaCharFilter(django_filters.BaseInFilter, django_filters.CharFilter):
    pass


def as_utc(moment: datetime) -> datetime:
    """``moment`` in UTC (a naive one is taken as UTC): RFC 3339 offsets go up to ±23:59 and
    PostgreSQL refuses those past ±15:59 (a 500 the PostgreSQL fuzz run found). An instant
    before year 1 or after 9999 in UTC becomes the first or last one Python has: as a bound it
    selects the same stored rows."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    try:
        return moment.astimezone(UTC)
    except OverflowError:  # 0001-01-01T00:00+01:00 is in year 0 in UTC
        return (datetime.min if moment.year == 1 else datetime.max).replace(tzinfo=UTC)


class UtcDateTimeField(IsoDateTimeField):
    """An ISO 8601 date-time, converted to UTC (``as_utc``)."""

    def to_python(self, value):
        parsed = super().to_python(value)
        return None if parsed is None else as_utc(parsed)


class StrictDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = UtcDateTimeField


class DateRangeFilterSet(django_filters.FilterSet):
    """``createdAt…`` and ``lastModifiedAt…`` ranges: from inclusive, to exclusive."""

    createdAtFrom = StrictDateTimeFilter(field_name="created_at", lookup_expr="gte")
    createdAtTo = StrictDateTimeFilter(field_name="created_at", lookup_expr="lt")
    lastModifiedAtFrom = StrictDateTimeFilter(field_name="last_modified_at", lookup_expr="gte")
    lastModifiedAtTo = StrictDateTimeFilter(field_name="last_modified_at", lookup_expr="lt")


class RecordFilterSet(DateRangeFilterSet):
    """Filters every record type offers: date ranges, ids, sources, hidden, q."""

    ids = CommaIntegerFilter(field_name="id", lookup_expr="in")
    source = django_filters.CharFilter(method="filter_source")
    sourceId = django_filters.CharFilter(method="filter_source")
    hidden = StrictBooleanFilter(field_name="hidden")
    q = django_filters.CharFilter(method="filter_q", max_length=MAX_TERM_LENGTH)

    #: columns, besides names in every language, that ``q`` searches
    q_columns: tuple[str, ...] = ()
    source_model: type[Model]  # the SourceLink subclass
    source_owner = ""

    def __init__(self, data=None, queryset=None, **kwargs) -> None:
        # Only the filters the request names: an absent one filters nothing, and django-filter
        # deep-copies every filter and builds a form field for each on every request (a few
        # milliseconds of a list request for twenty filters).
        named = set(data or ())
        self.base_filters = {n: f for n, f in type(self).base_filters.items() if n in named}
        super().__init__(data, queryset, **kwargs)

    def filter_source(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        if name == "sourceId" and "source" in self.data:
            return queryset  # both handled together under "source"
        links = self.source_model._default_manager.filter(**{self.source_owner: OuterRef("pk")})
        source, source_id = self.data.get("source"), self.data.get("sourceId")
        if source:
            links = links.filter(source=source)
        if source_id:
            links = links.filter(source_id=source_id)
        return queryset.filter(Exists(links))

    def filter_q(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(text_condition(value, self.q_columns))


def text_condition(value: str, code_columns: Iterable[str] = ()) -> Q:
    """A name in any language or one of ``code_columns`` contains ``value`` (``q``, admin search)."""
    condition = Q()
    for language in languages():
        condition |= Q(**{f"{column('name', language)}__icontains": value})
    for col in code_columns:
        condition |= Q(**{f"{col}__icontains": value})
    return condition


def check_query_params(
    params: Mapping[str, str], known: Iterable[str], *, prefixes: Iterable[str] = ()
) -> None:
    """400 (10007) naming every unknown parameter, then every empty one (an empty value is never
    read as "absent": omit the parameter instead)."""
    known, prefixes = set(known), tuple(prefixes)
    unknown = sorted(key for key in params if key not in known and not key.startswith(prefixes))
    if unknown:
        raise SchemaValidationException(
            fields={key: [f"Unknown query parameter '{key}'."] for key in unknown}
        )
    empty = sorted(key for key, value in params.items() if value == "")
    if empty:
        raise SchemaValidationException(
            fields={key: ["Must not be empty; omit the parameter instead."] for key in empty}
        )


def filter_queryset(
    filterset_class: type[RecordFilterSet],
    params: Mapping[str, str],
    queryset: QuerySet,
    *,
    extra_params: Iterable[str] = (),
    prefixes: Iterable[str] = (),
) -> QuerySet:
    """Apply a FilterSet, refusing unknown parameters and values that do not parse (10007)."""
    check_query_params(
        params,
        set(filterset_class.base_filters) | PAGING_PARAMS | set(extra_params),
        prefixes=prefixes,
    )
    filterset = filterset_class(params, queryset=queryset)
    if not filterset.is_valid():
        raise SchemaValidationException(
            fields={key: [str(m) for m in messages] for key, messages in filterset.errors.items()}
        )
    return filterset.qs


def parse_bool_param(params: Mapping[str, str], name: str) -> bool:
    value = params.get(name)
    if value in (None, ""):
        return False
    if value not in ("true", "false"):
        raise SchemaValidationException(fields={name: ["Must be true or false."]})
    return value == "true"


def parse_language_param(params: Mapping[str, str]) -> str | None:
    value = params.get("language")
    if not value:
        return None
    if value.lower() not in languages():
        raise SchemaValidationException(fields={"language": [f"Unknown language '{value}'."]})
    return value.lower()


#: expansions the reference API names for what every read here carries anyway (every language,
#: the sources): accepted wherever ``expands`` is, and change nothing (SPEC §22)
REFERENCE_EXPANDS = ("translation", "sources")


def parse_expands(params: Mapping[str, str], allowed: Iterable[str]) -> set[str]:
    """The expansions asked for among ``allowed`` (``REFERENCE_EXPANDS`` accepted, left out)."""
    raw = params.get("expands", "")
    wanted = {part.strip() for part in raw.split(",") if part.strip()}
    allowed = set(allowed) | set(REFERENCE_EXPANDS)
    if wanted - allowed:
        raise SchemaValidationException(
            fields={
                "expands": [
                    f"Unknown expansion(s) {', '.join(sorted(wanted - allowed))}; "
                    f"allowed: {', '.join(sorted(allowed)) or 'none'}."
                ]
            }
        )
    return wanted - set(REFERENCE_EXPANDS)
