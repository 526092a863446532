"""Lookup keys (SPEC §5): ``/v2/<resource>/{lookupKey}/{lookupValue}``.

A key that matches several records is an error (``…MultipleFound``), never a silent pick.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass

from django.db import connection
from django.db.models import F, Lookup, Model, Q, QuerySet, Subquery
from django.db.models.constants import LOOKUP_SEP

from config.api.errors import ApiError, InvalidLookupKey
from records.rows import PreparedRows
from records.validation import MAX_ID

KeyBuilder = Callable[[str, Mapping[str, str]], tuple[Q, str]]


def by_id(value: str, params: Mapping[str, str]) -> tuple[Q, str]:
    # An id no row can have (not a number, 0, beyond bigint) is simply not found: a lookup value
    # is an opaque path segment, and OpenAPI cannot tie its format to the lookup key beside it.
    number = int(value) if value.isascii() and value.isdigit() else 0
    return (Q(pk=number) if 0 < number <= MAX_ID else Q(pk__in=[])), f"id [{value}]"


def by_source(relation: str = "sources") -> KeyBuilder:
    """``sourceId`` narrowed by ``?source=``; without it, a sourceId used by several sources
    is ambiguous (``…MultipleFound``), never a silent pick."""

    def build(value: str, params: Mapping[str, str]) -> tuple[Q, str]:
        source = params.get("source")
        if not source:
            return Q(**{f"{relation}__source_id": value}), f"sourceId [{value}]"
        q = Q(**{f"{relation}__source": source, f"{relation}__source_id": value})
        return q, f"sourceId [{value}] and source [{source}]"

    return build


def by_field(column: str, label: str, qualifier: tuple[str, str] | None = None) -> KeyBuilder:
    """A plain column; ``qualifier`` is an optional (query parameter, column) narrowing it."""

    def build(value: str, params: Mapping[str, str]) -> tuple[Q, str]:
        q = Q(**{column: value})
        text = f"{label} [{value}]"
        if qualifier and params.get(qualifier[0]):
            q &= Q(**{qualifier[1]: params[qualifier[0]]})
            text += f" and {qualifier[0]} [{params[qualifier[0]]}]"
        return q, text

    return build


def _spans_relation(model: type[Model], condition: Q) -> bool:
    """Whether ``condition`` filters through a relation (``sources__source_id``), which can
    match one record several times in a join."""
    for child in condition.children:
        if isinstance(child, Q):
            if _spans_relation(model, child):
                return True
            continue
        name = child[0].split(LOOKUP_SEP, 1)[0]
        if name != "pk" and model._meta.get_field(name).is_relation:
            return True
    return False


class AnyOf(Lookup):
    """``lhs = ANY(ARRAY(subquery))``: PostgreSQL runs the subquery once (an InitPlan) and finds
    the outer rows by the resulting ids as an index condition; it cannot turn it into a join."""

    lookup_name = "any_of"

    def as_sql(self, compiler, connection) -> tuple[str, list]:
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = compiler.compile(self.rhs)
        return f"{lhs} = ANY(ARRAY{rhs})", [*lhs_params, *rhs_params]


def _owners_of_links(model: type[Model], condition: Q) -> Q:
    """A condition through the source links (``sources__source_id=…``) in a shape whose plan
    needs no statistics, one row per record (no DISTINCT over the whole wide row).

    A freshly loaded, never analysed table looks a hundred times smaller to the planner than it
    is (it guesses row widths from the declared columns), so a semi-join (``pk IN (SELECT …)``)
    became a scan of the whole product table for every lookup (issue 14). A whole pair
    (``source`` and ``sourceId``) names at most one link: a plain join driven by the link's
    unique index, then the record by its primary key. A ``sourceId`` alone may name several links
    of one record: on PostgreSQL ``pk = ANY(ARRAY(SELECT owner_id FROM links WHERE …))`` finds
    the links by their ``source_id`` index first.
    """
    leaves = [child for child in condition.children if not isinstance(child, Q)]
    relations = {name.split(LOOKUP_SEP, 1)[0] for name, _ in leaves}
    if len(leaves) != len(condition.children) or len(relations) != 1 or condition.negated:
        return Q(pk__in=model._base_manager.filter(condition).values("pk"))
    (relation,) = relations
    fields = {name.split(LOOKUP_SEP, 1)[1] for name, _ in leaves}
    rel = model._meta.get_field(relation)
    links = rel.related_model._base_manager.filter(
        Q(
            *((name.split(LOOKUP_SEP, 1)[1], value) for name, value in leaves),
            _connector=condition.connector,
        )
    ).values(rel.field.attname)
    if condition.connector == Q.AND and fields == {"source", "source_id"}:
        return Q(pk=Subquery(links))  # unique (source, source_id): one owner at most
    if connection.vendor == "postgresql":
        return Q(AnyOf(F("pk"), links))
    return Q(pk__in=links)


#: compiled single-record lookups (``LookupSpec.get(prepared=…)``), per worker
PREPARED = PreparedRows()

#: collection name → its LookupSpec, filled as the specs are declared
BY_COLLECTION: dict[str, LookupSpec] = {}


@dataclass(frozen=True)
class LookupSpec:
    label: str
    keys: Mapping[str, KeyBuilder]
    not_found: type[ApiError]
    multiple: type[ApiError]
    #: the ``/v2/<collection>/{lookup_key}/…`` routes this spec resolves (OpenAPI path enums)
    collection: str = ""

    @property
    def plural(self) -> str:
        word = self.label.lower()
        return word[:-1] + "ies" if word.endswith("y") else word + "s"

    def __post_init__(self) -> None:
        if self.collection:
            BY_COLLECTION[self.collection] = self

    def path_schemas(self) -> dict[str, dict]:
        """OpenAPI schemas of ``{lookup_key}`` (and of ``{lookup_value}``)."""
        return {
            "lookup_key": {"type": "string", "enum": list(self.keys)},
            "lookup_value": {"type": "string", "minLength": 1, "pattern": r"^[^/\u0000]+$"},
        }

    def condition(self, key: str, value: str, params: Mapping[str, str]) -> tuple[Q, str]:
        builder = self.keys.get(key)
        if builder is None:
            raise InvalidLookupKey(
                f"Lookup key '{key}' is not supported for {self.plural}; "
                f"use one of {', '.join(self.keys)}."
            )
        return builder(value, params)

    def get(
        self,
        queryset: QuerySet,
        key: str,
        value: str,
        params: Mapping[str, str],
        not_found: type[ApiError] | None = None,
        *,
        prepared: Hashable | None = None,
    ) -> Model:
        """The one record ``key``/``value`` names. ``prepared`` names the shape of ``queryset``
        (a ``values()`` queryset built the same way each time) to run its lookups from compiled
        SQL (``PreparedRows``)."""
        condition, text = self.condition(key, value, params)

        def matching(condition: Q) -> QuerySet:
            if _spans_relation(queryset.model, condition):
                condition = _owners_of_links(queryset.model, condition)
            return queryset.filter(condition)[:2]

        found = (
            list(matching(condition))
            if prepared is None
            else PREPARED.rows((prepared, key), matching, condition)
        )
        if not found:
            raise (not_found or self.not_found)(f"{self.label} with {text} not found.")
        if len(found) > 1:
            hint = (
                "add ?source="
                if key == "sourceId" and not params.get("source")
                else "use another key"
            )
            raise self.multiple(f"Several {self.plural} match {text}; {hint}.")
        return found[0]
