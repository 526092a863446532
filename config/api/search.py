"""Search shared by every resource (SPEC §13): the search document, term matching and relevance,
the JSON search body, and the registry read by the search, global search and resolve routes.

The search document
    Every searchable record keeps a ``search_text`` column: its names, descriptions, codes and
    source ids in every language, case-folded, accent-stripped (``Crème`` → ``creme``) and reduced
    to words separated by single spaces. The write paths fill it through ``search_document``.
    Normalising happens in Python because PostgreSQL's ``unaccent()`` is not IMMUTABLE and so
    cannot back an index; a term is normalised by the same function before it meets the column.

How a term matches (``term_condition``)
    Every word of the term must match the start of a word of the document (``jack`` finds
    ``jacket``). An alphabetic word of ``FUZZY_MIN_LENGTH`` letters or more may instead match
    with one typo: a letter dropped, inserted or replaced, or two neighbours swapped (``jakcet``
    finds ``jacket``). Shorter words and words holding digits (codes) never match fuzzily: typo
    noise on them would flood the results with near-identical codes.

    PostgreSQL: the whole term is one full text query over ``to_tsvector('simple', search_text)``
    (GIN expression index, no recheck): each word as a prefix, OR-ed with its typo corrections.
    The corrections come from the vocabulary (``SearchWord``: every word of every document, kept
    by triggers): one query finds the known words one edit away through a trigram GIN index.
    (Trigram similarity on the documents themselves was measured first and dropped: it misses
    swapped letters, "jakcet" shares 2 of 7 trigrams with "jacket", and rechecking it costs
    ~35 µs per candidate row, 650 ms for a common word on 100,000 products.) The corrections
    are pinned in the page cursors so that every page of a walk runs the same query.
    SQLite: word-start ``LIKE`` and, for typo tolerance, one ``LIKE`` per edit-distance-one
    variant of the word; the same matches, without an index (a full scan, fine for development).

Relevance (``relevance``)
    Cheap string positions (STRPOS/INSTR), the same on both databases and depending only on the
    row and the term, so keyset pages by relevance never skip or repeat a row: an exact code
    first, then the whole term as a phrase, then the share of words found (typo-corrected ones
    count half), then how early the phrase appears (names precede descriptions in the document).

Adding a resource (clusters, cluster options)
    Give the model a ``search_text`` column that its services fill with ``search_document``, a
    migration with its full text index and the two vocabulary triggers (as catalogue 0002), then
    from its ``AppConfig.ready()`` call ``register(surface=SearchSurface(...), resolvers=[
    Resolver("cluster", (id_key(...), source_key(...), field_key(..., "code", "code")))])``. The
    ``POST /v2/<name>/search`` route, its global search hits and its resolve type follow
    (``clusters.search`` + ``clusters.api.search`` are the latest example); a resolve type
    without a registered resolver answers ``found: false``. Pass ``refresh=`` to the surface
    so ``manage.py rebuild_search_text`` covers the resource too.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import django_filters
from django.conf import settings
from django.db import connection
from django.db.models import (
    Case,
    ExpressionWrapper,
    F,
    FloatField,
    Lookup,
    Model,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.functions import Cast, Least, StrIndex
from django.db.models.lookups import GreaterThan

from config.api.errors import PaginatedResponseException, SchemaValidationException
from config.api.pagination import Page, cursor_context, paginate
from records.filters import (
    MAX_ROW_ID,
    MAX_TERM_LENGTH,
    CommaCharFilter,
    CommaIntegerFilter,
    RecordFilterSet,
    StrictBooleanFilter,
    filter_queryset,
)
from records.localized import languages
from records.validation import (
    INVALID,
    Bool,
    Choice,
    Errors,
    Field,
    Id,
    Int,
    Language,
    ListOf,
    Obj,
    Str,
    add_error,
)

FUZZY_MIN_LENGTH = 5
#: Bounds on the work one term may ask for (issue 15: one 200-letter word cost 17–39 s of
#: PostgreSQL planning, since the trigram index analyses the edit regex at plan time, and its
#: size grows with the square of the word's length). Longer words match as prefixes only and
#: only the first typo-tolerant words are corrected.
FUZZY_MAX_LENGTH = 20  # letters of the longest word that gets typo corrections
MAX_FUZZY_WORDS = 4  # words per term that get typo corrections
MAX_TERM_WORDS = 16  # words per term that must match; later ones are ignored
MAX_CORRECTIONS = 20  # known words one edit away, per term word
CODE_BONUS = 2.0
DOCUMENT_MAX_CHARS = 8000
SEARCH_SCOPES = ("search:read",)
# The search surfaces and resolve types of SPEC §13, in the spec's order.
SURFACE_NAMES = ("products", "clusters", "categories")
RESOLVE_TYPES = ("product", "cluster", "category", "clusterOption")

_SEPARATORS = re.compile(r"[\W_]+")


# --- the search document ---------------------------------------------------------------------


def normalize(text: str) -> str:
    """Case-folded, accent-stripped words separated by single spaces: ``"Crème-Jacket"`` →
    ``"creme jacket"``. Punctuation separates words, as it does for the full text parser."""
    folded = text.casefold()
    if not folded.isascii():  # ASCII has no accents to strip (most catalogue text: fast path)
        folded = "".join(
            c for c in unicodedata.normalize("NFKD", folded) if not unicodedata.combining(c)
        )
    return " ".join(word for word in _SEPARATORS.split(folded) if word)


def search_document(parts: Iterable[str | None]) -> str:
    """The ``search_text`` of a record from its searchable values, most important first.

    Repeated values (the same name in several languages) are kept once; the document is cut at
    ``DOCUMENT_MAX_CHARS`` on a word boundary, so giant descriptions keep search fast. It starts
    and ends with a space, so ``' word'`` marks the start of any word and ``' word '`` a whole
    word for plain STRPOS/INSTR and LIKE.
    """
    seen: set[str] = set()
    kept: list[str] = []
    for part in parts:
        text = normalize(part) if part else ""
        if text and text not in seen:
            seen.add(text)
            kept.append(text)
    document = " ".join(kept)
    if len(document) > DOCUMENT_MAX_CHARS:
        document = document[: DOCUMENT_MAX_CHARS + 1].rsplit(" ", 1)[0]
    return f" {document} " if document else ""


def set_column(model: type[Model], column: str, values: Mapping[int, Any]) -> None:
    """``UPDATE … SET column = v`` for many rows by primary key, one statement per 1000 rows.

    Used to (re)fill search documents after set-based writes; ``bulk_update`` would build a
    ``CASE`` per row instead.
    """
    table = connection.ops.quote_name(model._meta.db_table)
    col = connection.ops.quote_name(column)
    items = list(values.items())
    with connection.cursor() as cursor:
        for start in range(0, len(items), 1000):
            batch = items[start : start + 1000]
            rows = ", ".join(["(%s, %s)"] * len(batch))
            if connection.vendor == "postgresql":
                source = f"(VALUES {rows}) AS v (pk, value)"
                value, pk = "v.value", "v.pk::bigint"
            else:
                source = f"(SELECT column1 AS pk, column2 AS value FROM (VALUES {rows})) AS v"
                value, pk = "v.value", "v.pk"
            cursor.execute(
                f"UPDATE {table} SET {col} = {value} FROM {source} WHERE {table}.id = {pk}",
                [p for pair in batch for p in pair],
            )


@dataclass(frozen=True)
class SearchText:
    """What one record type's ``search_text`` is made of: names (default language first), its
    code columns, its source ids, then short descriptions and descriptions in every language.

    ``document`` may be given a historical model in a migration: it reads plain attributes only.
    """

    model: type[Model]
    source_model: type[Model]  # the record's SourceLink model
    owner: str  # the source link's foreign key to the record
    code_columns: tuple[str, ...] = ()

    def document(self, record: Any, source_ids: Iterable[str]) -> str:
        languages = [
            record.language,
            *(code for code in settings.CATALOGUE_LANGUAGES if code != record.language),
        ]
        names = [getattr(record, f"name_{code}", None) for code in languages]
        codes = [getattr(record, column) or None for column in self.code_columns]
        texts = [
            getattr(record, f"{base}_{code}", None)
            for base in _TEXT_BASES[1:]
            for code in languages
        ]
        return search_document([*names, *codes, *source_ids, *texts])

    def source_ids(self, pk: int) -> list[str]:
        return list(
            self.source_model.objects.filter(**{f"{self.owner}_id": pk})
            .order_by("pk")
            .values_list("source_id", flat=True)
        )

    def refresh(self, ids: Iterable[int], *, batch_size: int = 1000) -> int:
        """Recompute ``search_text`` of the given records set-based (bulk writes, rebuilds):
        three statements per ``batch_size`` records. Returns how many rows were rewritten."""
        ids = list(ids)
        columns = ["id", "language", *self.code_columns] + [
            f"{base}_{code}" for base in _TEXT_BASES for code in settings.CATALOGUE_LANGUAGES
        ]
        owner = f"{self.owner}_id"
        rewritten = 0
        for start in range(0, len(ids), batch_size):
            chunk = ids[start : start + batch_size]
            sources: dict[int, list[str]] = {}
            for pk, source_id in (
                self.source_model.objects.filter(**{f"{owner}__in": chunk})
                .order_by("pk")
                .values_list(owner, "source_id")
            ):
                sources.setdefault(pk, []).append(source_id)
            documents = {
                record.pk: self.document(record, sources.get(record.pk, []))
                for record in self.model.objects.filter(pk__in=chunk).only(*columns)
            }
            set_column(self.model, "search_text", documents)
            rewritten += len(documents)
        return rewritten


_TEXT_BASES = ("name", "short_description", "description")


# --- terms, matching and relevance -----------------------------------------------------------


@dataclass(frozen=True)
class Term:
    """A parsed search term: the raw text (for exact code matches), its normalised words and,
    on PostgreSQL, the typo corrections found for its typo-tolerant words (``corrected``)."""

    raw: str
    words: tuple[str, ...]
    corrections: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    @classmethod
    def parse(cls, raw: str | None, *, name: str = "term") -> Term | None:
        """``None`` for an absent or blank term (no term filter); 400 (10007) past 200
        characters. A term without a letter or digit has no words and matches nothing."""
        if raw is None or not raw.strip():
            return None
        if len(raw) > MAX_TERM_LENGTH:
            raise SchemaValidationException(
                fields={name: [f"At most {MAX_TERM_LENGTH} characters."]}
            )
        return cls(raw=raw.strip(), words=tuple(normalize(raw).split()[:MAX_TERM_WORDS]))

    @property
    def text(self) -> str:
        return " ".join(self.words)

    @property
    def fuzzy_words(self) -> tuple[str, ...]:
        """The words that may match with a typo: alphabetic, ``FUZZY_MIN_LENGTH`` to
        ``FUZZY_MAX_LENGTH`` letters, the first ``MAX_FUZZY_WORDS`` of them."""
        fuzzy = dict.fromkeys(
            w for w in self.words if w.isalpha() and FUZZY_MIN_LENGTH <= len(w) <= FUZZY_MAX_LENGTH
        )
        return tuple(fuzzy)[:MAX_FUZZY_WORDS]

    def corrected(self, pinned: Any = None) -> Term:
        """The term with its typo corrections: those ``pinned`` in a cursor (so that every page
        of a walk runs the same query) or, on PostgreSQL, looked up in the vocabulary."""
        if pinned is not None:
            return replace(self, corrections=_check_pinned(self, pinned))
        if connection.vendor != "postgresql" or not self.fuzzy_words:
            return self
        return replace(self, corrections=_look_up_corrections(self.fuzzy_words))

    def pin(self) -> dict[str, Any]:
        """What a cursor carries: the term (a cursor only continues its own search) and the
        corrections its query was built with (see ``corrected``)."""
        return {"term": self.text, "corrections": {w: list(c) for w, c in self.corrections.items()}}


def _deletions(word: str) -> set[str]:
    return {word[:i] + word[i + 1 :] for i in range(len(word))} - {word}


def _other_edits(word: str) -> set[str]:
    """Two neighbours swapped, a letter replaced or inserted (``_`` is any one character);
    an insertion at the very end is left out: the word as a prefix already covers it."""
    n = len(word)
    variants = {word[:i] + word[i + 1] + word[i] + word[i + 2 :] for i in range(n - 1)}
    variants |= {word[:i] + "_" + word[i + 1 :] for i in range(n)}
    variants |= {word[:i] + "_" + word[i:] for i in range(n)}
    return variants - {word}


def _edit_regex(word: str) -> re.Pattern[str]:
    """Python: is a (whole) vocabulary word one edit away from ``word`` used as a prefix?"""
    starts = "|".join(v.replace("_", ".") for v in sorted(_other_edits(word)))
    deletions = "|".join(sorted(_deletions(word)))
    return re.compile(rf"(?:{starts}).*|{deletions}")


class _Like(Lookup):
    """``lhs LIKE rhs`` with the pattern as given (``_`` and ``%`` are wildcards)."""

    lookup_name = "search_like"

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} LIKE {rhs}", [*lhs_params, *rhs_params]


class _FullText(Lookup):
    """``to_tsvector('simple', lhs) @@ to_tsquery('simple', rhs)``: the GIN expression index."""

    lookup_name = "search_full_text"

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        sql = f"to_tsvector('simple'::regconfig, {lhs}) @@ to_tsquery('simple'::regconfig, {rhs})"
        return sql, [*lhs_params, *rhs_params]


def vocabulary_query(words: Iterable[str]) -> QuerySet:
    """Known words one edit away from any of ``words`` (a superset: see ``_edit_regex``)."""
    from records.models import SearchWord

    words = list(words)
    condition = Q(word__in=sorted({d for w in words for d in _deletions(w)}))
    for word in words:
        starts = "|".join(v.replace("_", ".") for v in sorted(_other_edits(word)))
        condition |= Q(word__regex=f"^({starts})")  # one trigram index scan per word
    return SearchWord.objects.filter(condition).values_list("word", flat=True)


def _look_up_corrections(words: tuple[str, ...]) -> dict[str, tuple[str, ...]]:
    """One query on the vocabulary (trigram index for the patterns, primary key for the exact
    words): the known words one edit away from each of ``words``, at most
    ``MAX_CORRECTIONS`` each, shortest first."""
    found = sorted(vocabulary_query(words))
    corrections = {}
    for word in words:
        test = _edit_regex(word)
        matching = [c for c in found if not c.startswith(word) and test.fullmatch(c)]
        corrections[word] = tuple(sorted(matching, key=lambda c: (len(c), c))[:MAX_CORRECTIONS])
    return corrections


def _check_pinned(term: Term, pinned: Any) -> dict[str, tuple[str, ...]]:
    corrections = pinned.get("corrections") if isinstance(pinned, dict) else None
    valid = (
        isinstance(corrections, dict)
        and pinned.get("term") == term.text
        and set(corrections) <= set(term.fuzzy_words)
        and all(
            isinstance(v, list)
            and len(v) <= MAX_CORRECTIONS
            and all(isinstance(c, str) and c.isalpha() and len(c) <= 64 for c in v)
            for v in corrections.values()
        )
    )
    if not valid:
        raise PaginatedResponseException(
            "The cursor belongs to a different search.",
            fields={"cursor": ["The cursor does not match the term."]},
        )
    return {word: tuple(v) for word, v in corrections.items()}


def _tsquery(term: Term) -> str:
    """Every word as a prefix, or one of its corrections exactly. Normalised words hold letters
    and digits only, so quoting them is safe."""
    parts = []
    for word in term.words:
        options = [f"'{word}':*", *(f"'{c}'" for c in term.corrections.get(word, ()))]
        parts.append(options[0] if len(options) == 1 else "(" + " | ".join(options) + ")")
    return " & ".join(parts)


def _sqlite_typo(column: str, word: str) -> Q:
    """SQLite: a document word is one edit away from ``word`` (a LIKE per variant)."""
    condition = Q()
    for variant in sorted(_deletions(word)):
        condition |= Q(_Like(F(column), f"% {variant} %"))
    for variant in sorted(_other_edits(word)):
        condition |= Q(_Like(F(column), f"% {variant}%"))
    return condition


def term_condition(term: Term, column: str = "search_text") -> Q:
    """Rows whose search document matches every word of ``term`` (see the module docstring);
    none for a term without words (punctuation only)."""
    if not term.words:
        return Q(pk__in=[])
    if connection.vendor == "postgresql":
        return Q(_FullText(F(column), _tsquery(term)))
    condition = Q()
    for word in dict.fromkeys(term.words):
        matches = Q(_Like(F(column), f"% {word}%"))
        if word in term.fuzzy_words:
            matches |= _sqlite_typo(column, word)
        condition &= matches
    return condition


def _position(column: str, text: str):
    """1-based position of ``text`` in the document (0 when absent): STRPOS/INSTR."""
    return StrIndex(F(column), Value(text))


def relevance(term: Term, code_columns: Iterable[str] = (), column: str = "search_text"):
    """A float, higher is better, computed from the row and the term only (so keyset pages by
    relevance are stable), with cheap string functions (the same on both databases):

    ``2`` exact code + ``1`` the whole term found as a phrase at a word start, plus up to
    ``0.25`` the earlier it appears (names come first in the document) + ``0.5`` × the share of
    term words found at a word start (a typo-corrected word counts half).
    """

    def case(*whens: When) -> Case:
        return Case(*whens, default=Value(0.0), output_field=FloatField())

    def typo_of(word: str) -> Q:
        typo = Q()
        if connection.vendor == "postgresql":
            for correction in term.corrections.get(word, ()):
                typo |= Q(GreaterThan(_position(column, f" {correction} "), 0))
        elif word in term.fuzzy_words:
            typo = _sqlite_typo(column, word)
        return typo

    words = list(dict.fromkeys(term.words))
    phrase = _position(column, f" {term.text}")
    early = Cast(Least(phrase, Value(256)), FloatField()) / Value(1024.0)
    # one word: the phrase is that word, so its share (0.5) folds into the phrase's case
    whens = [When(GreaterThan(phrase, 0), then=Value(1.25 if len(words) > 1 else 1.75) - early)]
    if len(words) == 1 and (typo := typo_of(words[0])):
        whens.append(When(typo, then=Value(0.25)))
    parts = [case(*whens)]
    codes = Q()
    for code_column in code_columns:
        codes |= Q(**{f"{code_column}__iexact": term.raw})
    if codes:
        parts.append(case(When(codes, then=Value(CODE_BONUS))))
    for word in words if len(words) > 1 else ():
        share = 1 / len(words)
        whens = [When(GreaterThan(_position(column, f" {word}"), 0), then=Value(0.5 * share))]
        if typo := typo_of(word):
            whens.append(When(typo, then=Value(0.25 * share)))
        parts.append(case(*whens))
    score = parts[0]
    for part in parts[1:]:
        score = score + part
    return ExpressionWrapper(score, output_field=FloatField())


# --- search surfaces and the JSON search body ------------------------------------------------


class PageSizeField(Field):
    """``pageSize`` passes through; the paginator answers a bad one with 10015, as on lists."""

    json_type = "integer"

    def openapi(self) -> dict:
        return {"type": "integer", "minimum": 1, "maximum": 500, "description": "Default 50."}


def _filter_field(name: str, filter_: django_filters.Filter) -> Field:
    """The JSON body field of one list filter: arrays for comma lists, booleans for flags."""
    if isinstance(filter_, CommaIntegerFilter):
        return ListOf(Int(minimum=1, maximum=MAX_ROW_ID), max_items=1000, min_items=1)
    if isinstance(filter_, CommaCharFilter):
        return ListOf(Str(min_length=1, max_length=255), max_items=100, min_items=1)
    if isinstance(filter_, StrictBooleanFilter):
        return Bool()
    if isinstance(filter_, django_filters.IsoDateTimeFilter):
        return Str(max_length=64, format="date-time", description="ISO 8601 date-time.")
    if isinstance(filter_, django_filters.NumberFilter):  # the bounds its form field checks
        return Int(minimum=filter_.extra.get("min_value", 0), maximum=filter_.extra["max_value"])
    if name == "q":
        return Str(min_length=1, max_length=MAX_TERM_LENGTH)
    return Str(min_length=1, max_length=255)


def _param(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, list):
        return ",".join(_param(v) for v in value)
    return str(value)


@dataclass(frozen=True)
class SearchSurface:
    """One resource's ``POST /v2/<name>/search`` and its part of ``GET /v2/search``.

    The body accepts every filter of ``filterset`` (the list's filters, in JSON form), the
    ``extra_fields`` (``extra_params`` among them are handed to the FilterSet as parameters,
    the others to ``refine``), plus ``term``, ``sort``, ``pageSize``, ``cursor``, ``withCount``
    and ``language``.
    """

    name: str  # "products": the URL segment and the ``types`` value of /v2/search
    hit_type: str  # "product": the ``type`` of global search hits
    label: str  # "Product"
    model: type[Model]
    filterset: type[RecordFilterSet]
    sorts: Mapping[str, str]
    output_queryset: Callable[[], QuerySet]
    represent: Callable[[list[Any], str | None], list[dict[str, Any]]]
    schema: Callable[[], dict[str, Any]]
    code_columns: tuple[str, ...] = ()
    extra_fields: Mapping[str, Field] = field(default_factory=dict)
    extra_params: tuple[str, ...] = ()
    field_overrides: Mapping[str, Field] = field(default_factory=dict)
    refine: Callable[[QuerySet, dict[str, Any]], QuerySet] | None = None
    #: recomputes ``search_text`` of the given ids set-based (``rebuild_search_text``)
    refresh: Callable[[list[int]], int] | None = None

    def filter_names(self) -> list[str]:
        return list(self.filterset.base_filters)

    def body(self) -> Obj:
        fields: dict[str, Field] = {
            name: self.field_overrides.get(name) or _filter_field(name, filter_)
            for name, filter_ in self.filterset.base_filters.items()
        }
        fields.update(self.extra_fields)
        sort_item = Obj(
            {
                "field": Choice(["relevance", *self.sorts]),
                "order": Choice(["asc", "desc"], description="Default: desc for relevance."),
            },
            required=("field",),
        )
        fields.update(
            {
                "term": Str(
                    max_length=MAX_TERM_LENGTH,
                    description="Full text over names, descriptions, codes and source ids in "
                    "every language; case- and accent-insensitive; tolerates a small typo.",
                ),
                "sort": ListOf(sort_item, max_items=len(self.sorts) + 1),
                "pageSize": PageSizeField(),
                "cursor": Str(max_length=4096, description="nextCursor/previousCursor."),
                "withCount": Bool(),
                "language": Language(description="Narrow every localized array."),
            }
        )
        return Obj(fields, rules=(self._relevance_needs_a_term(),))

    def _relevance_needs_a_term(self) -> dict[str, Any]:
        """Sorting by ``relevance`` needs a (non-blank) ``term``: either the term is there or
        every sort field is a plain one (enforced by ``_sort_string``)."""
        return {
            "anyOf": [
                {"required": ["term"], "properties": {"term": {"pattern": r"\S"}}},
                {
                    "properties": {
                        "sort": {"items": {"properties": {"field": {"enum": list(self.sorts)}}}}
                    }
                },
            ]
        }

    def item_schema(self) -> dict[str, Any]:
        schema = self.schema()
        schema["properties"]["relevance"] = {
            "type": "number",
            "description": "Present when the search has a term; higher is better.",
        }
        return schema


def _sort_string(sort: list[dict] | None, term: Term | None) -> str | None:
    if not sort:
        return "-relevance,id" if term else None
    parts = []
    for index, item in enumerate(sort):
        name = item["field"]
        if name == "relevance" and term is None:
            raise SchemaValidationException(
                fields={f"sort[{index}].field": ["Sorting by relevance needs a term."]}
            )
        order = item.get("order") or ("desc" if name == "relevance" else "asc")
        parts.append(f"-{name}" if order == "desc" else name)
    return ",".join(parts)


@dataclass
class SearchQuery:
    """A search body turned into a queryset: filtered, matched and annotated, not yet paged."""

    queryset: QuerySet
    term: Term | None
    sort: str | None
    sorts: dict[str, str]


def search_query(surface: SearchSurface, body: dict[str, Any]) -> SearchQuery:
    """Filters (the list's FilterSet over the body's filters), attribute refinements, the term
    condition and the ``relevance`` annotation of one surface, from a validated search body."""
    term = Term.parse(body.get("term"))
    if term is not None:
        term = term.corrected(cursor_context(body.get("cursor")))
    params: dict[str, str] = {}
    for name in [*surface.filter_names(), *surface.extra_params]:
        if name in body:  # list filters hold at least one value (validated with the body)
            params[name] = _param(body[name])
    queryset = filter_queryset(
        surface.filterset, params, surface.output_queryset(), extra_params=surface.extra_params
    )
    if surface.refine is not None:
        queryset = surface.refine(queryset, body)
    sorts = dict(surface.sorts)
    if term is not None:
        queryset = queryset.filter(term_condition(term)).annotate(
            relevance=relevance(term, surface.code_columns)
        )
        sorts["relevance"] = "relevance"
    return SearchQuery(queryset, term, _sort_string(body.get("sort"), term), sorts)


@dataclass
class SearchResult:
    page: Page
    data: list[dict[str, Any]]


def run_search(surface: SearchSurface, body: dict[str, Any]) -> SearchResult:
    """One page of a surface's search, rendered (``relevance`` added when there is a term)."""
    query = search_query(surface, body)
    page = paginate(
        query.queryset,
        sort=query.sort,
        allowed_sorts=query.sorts,
        page_size=body.get("pageSize"),
        cursor=body.get("cursor"),
        with_count=body.get("withCount", False),
        context=query.term.pin() if query.term else None,
    )
    data = surface.represent(page.rows, body.get("language"))
    if query.term is not None:
        for item, row in zip(data, page.rows, strict=True):
            item["relevance"] = round(row.relevance, 4)
    return SearchResult(page=page, data=data)


def quick_search(
    term: Term, surfaces: list[SearchSurface], size: int, language: str | None
) -> list[dict[str, Any]]:
    """``GET /v2/search``: the best ``size`` hits across ``surfaces``, one query per surface
    (plus one vocabulary lookup on PostgreSQL when the term has typo-tolerant words)."""
    term = term.corrected()
    names = [f"name_{code}" for code in languages()]
    hits: list[dict[str, Any]] = []
    for surface in surfaces:
        rows = (
            surface.model.objects.filter(term_condition(term))
            .annotate(relevance=relevance(term, surface.code_columns))
            .order_by("-relevance", "id")
            .values("id", "language", "relevance", *names)[:size]
        )
        for row in rows:
            name = (language and row[f"name_{language}"]) or row[f"name_{row['language']}"]
            hits.append(
                {
                    "type": surface.hit_type,
                    "id": row["id"],
                    "name": name,
                    "score": round(row["relevance"], 4),
                    "_rank": (-row["relevance"], SURFACE_NAMES.index(surface.name), row["id"]),
                }
            )
    hits.sort(key=lambda hit: hit.pop("_rank"))
    return hits[:size]


# --- identifier resolution -------------------------------------------------------------------

#: fields a resolve item may name besides ``type``, with their JSON types
RESOLVE_FIELDS: dict[str, Field] = {
    "id": Id(),
    "sourceId": Str(min_length=1, max_length=255),
    "source": Str(min_length=1, max_length=64),
    "sku": Str(min_length=1, max_length=128),
    "supplierCode": Str(min_length=1, max_length=255),
    "supplier": Str(min_length=1, max_length=255),
    "code": Str(min_length=1, max_length=64),
    "slug": Str(min_length=1, max_length=255),
    "language": Language(),
}
Fetch = Callable[[list[dict[str, Any]]], list[list[int]]]


@dataclass(frozen=True)
class ResolveKey:
    """One way to name a record in ``/v2/resolve``: the fields it takes and a set-based fetch.

    ``fetch`` receives every item of the request using this key and returns, per item in the
    same order, the ids of the matching records; it runs one query whatever the item count.
    """

    name: str
    required: tuple[str, ...]
    optional: tuple[str, ...]
    fetch: Fetch

    def accepts(self, keys: set[str]) -> bool:
        return set(self.required) <= keys <= set(self.required) | set(self.optional)

    def shape(self) -> str:
        return "{" + ", ".join([*self.required, *(f"{k}?" for k in self.optional)]) + "}"


@dataclass(frozen=True)
class Resolver:
    type: str  # "product"
    keys: tuple[ResolveKey, ...]

    def key_for(self, keys: set[str]) -> ResolveKey | None:
        return next((key for key in self.keys if key.accepts(keys)), None)


def id_key(model: type[Model]) -> ResolveKey:
    def fetch(items: list[dict[str, Any]]) -> list[list[int]]:
        found = set(
            model._default_manager.filter(pk__in={i["id"] for i in items}).values_list(
                "pk", flat=True
            )
        )
        return [[item["id"]] if item["id"] in found else [] for item in items]

    return ResolveKey("id", ("id",), (), fetch)


def source_key(link_model: type[Model], owner_field: str) -> ResolveKey:
    """``sourceId`` with an optional ``source``; without it every source's match counts."""

    def fetch(items: list[dict[str, Any]]) -> list[list[int]]:
        by_source: dict[str | None, set[str]] = {}
        for item in items:
            by_source.setdefault(item.get("source"), set()).add(item["sourceId"])
        condition = Q(pk__in=[])
        for source, source_ids in by_source.items():
            if source is None:
                condition |= Q(source_id__in=source_ids)
            else:
                condition |= Q(source=source, source_id__in=source_ids)
        links: dict[str, list[tuple[str, int]]] = {}
        for source, source_id, owner in link_model._default_manager.filter(condition).values_list(
            "source", "source_id", f"{owner_field}_id"
        ):
            links.setdefault(source_id, []).append((source, owner))
        return [
            sorted(
                {
                    owner
                    for source, owner in links.get(item["sourceId"], [])
                    if item.get("source") in (None, source)
                }
            )
            for item in items
        ]

    return ResolveKey("sourceId", ("sourceId",), ("source",), fetch)


def field_key(
    model: type[Model],
    name: str,
    column: str,
    qualifier: tuple[str, str] | None = None,
) -> ResolveKey:
    """A plain column (``sku``); ``qualifier`` is an optional (item field, column) narrowing it."""

    def fetch(items: list[dict[str, Any]]) -> list[list[int]]:
        extra = [qualifier[1]] if qualifier else []
        rows = model._default_manager.filter(
            **{f"{column}__in": {i[name] for i in items}}
        ).values_list(column, "pk", *extra)
        found: dict[str, list[tuple[int, Any]]] = {}
        for value, pk, *qualified in rows:
            found.setdefault(value, []).append((pk, qualified[0] if qualified else None))
        out = []
        for item in items:
            wanted = item.get(qualifier[0]) if qualifier else None
            out.append(sorted(pk for pk, q in found.get(item[name], []) if wanted in (None, q)))
        return out

    return ResolveKey(name, (name,), (qualifier[0],) if qualifier else (), fetch)


def slug_key(model: type[Model], default_language: Callable[[], str]) -> ResolveKey:
    """``slug`` with an optional ``language`` (default: the catalogue default language)."""

    def fetch(items: list[dict[str, Any]]) -> list[list[int]]:
        wanted: dict[str, set[str]] = {}
        for item in items:
            wanted.setdefault(item.get("language") or default_language(), set()).add(item["slug"])
        condition = Q(pk__in=[])
        for language, slugs in wanted.items():
            condition |= Q(**{f"slug_{language}__in": slugs})
        columns = [f"slug_{language}" for language in wanted]
        found: dict[tuple[str, str], int] = {}
        for pk, *slugs in model._default_manager.filter(condition).values_list("pk", *columns):
            for language, slug in zip(wanted, slugs, strict=True):
                if slug is not None:
                    found[(language, slug)] = pk
        return [
            [pk]
            if (pk := found.get((item.get("language") or default_language(), item["slug"])))
            else []
            for item in items
        ]

    return ResolveKey("slug", ("slug",), ("language",), fetch)


class ResolveItem(Field):
    """``{"type": …, <lookup fields>}``: the type must be a SPEC type, the fields one key of it."""

    json_type = "object"

    def convert(self, value: Any, path: str, errors: Errors) -> Any:
        if not isinstance(value, dict):
            return add_error(errors, path, "Expected an object.")
        kind = value.get("type")
        if kind not in RESOLVE_TYPES:
            return add_error(
                errors,
                f"{path}.type",
                f"Unknown type {kind!r}; use one of {', '.join(RESOLVE_TYPES)}.",
            )
        before = len(errors)
        cleaned: dict[str, Any] = {"type": kind}
        for key, raw in value.items():
            if key == "type":
                continue
            spec = RESOLVE_FIELDS.get(key)
            if spec is None:
                add_error(errors, f"{path}.{key}", f"Unknown field '{key}'.")
                continue
            cleaned[key] = spec.clean(raw, f"{path}.{key}", errors)
        if len(errors) > before:
            return INVALID
        resolver = _RESOLVERS.get(kind)
        keys = set(cleaned) - {"type"}
        if resolver is not None and resolver.key_for(keys) is None:
            shapes = " or ".join(key.shape() for key in resolver.keys)
            return add_error(errors, path, f"A {kind} is named by {shapes}.")
        if resolver is None and not keys:
            return add_error(errors, path, "Name the record by a lookup key (id, sourceId …).")
        return cleaned

    def openapi(self) -> dict:
        """One shape per type and key (``{"type": "product", "sku"}`` …): exactly one matches
        an item the service accepts."""
        shapes = []
        for kind in RESOLVE_TYPES:
            resolver = _RESOLVERS.get(kind)
            keys = resolver.keys if resolver else ()
            for key in keys:
                names = (*key.required, *key.optional)
                shapes.append(
                    {
                        "type": "object",
                        "title": f"{kind} by {key.shape()}",
                        "required": ["type", *key.required],
                        "properties": {
                            "type": {"type": "string", "enum": [kind]},
                            **{name: RESOLVE_FIELDS[name].openapi() for name in names},
                        },
                        "additionalProperties": False,
                    }
                )
        return {
            "oneOf": shapes,
            "description": "A record named by its type and one of its lookup keys.",
        }


MAX_RESOLVE_ITEMS = 1000
RESOLVE_BODY = Obj(
    {"items": ListOf(ResolveItem(), max_items=MAX_RESOLVE_ITEMS, min_items=1)}, required=("items",)
)


def resolve(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One answer per item, in order; one query per (type, key) present, whatever the count.

    A type whose resource is not installed yet (no registered resolver) answers ``found: false``.
    """
    groups: dict[tuple[str, str], list[int]] = {}
    for index, item in enumerate(items):
        resolver = _RESOLVERS.get(item["type"])
        if resolver is None:
            continue
        key = resolver.key_for(set(item) - {"type"})
        groups.setdefault((item["type"], key.name), []).append(index)
    matches: dict[int, list[int]] = {}
    for (kind, key_name), indexes in groups.items():
        key = next(k for k in _RESOLVERS[kind].keys if k.name == key_name)
        for index, ids in zip(indexes, key.fetch([items[i] for i in indexes]), strict=True):
            matches[index] = ids
    answers = []
    for index in range(len(items)):
        ids = matches.get(index, [])
        answer: dict[str, Any] = {"index": index, "found": bool(ids)}
        if len(ids) == 1:
            answer["id"] = ids[0]
        elif ids:
            answer["ids"] = ids
        answers.append(answer)
    return answers


# --- the registry ----------------------------------------------------------------------------

_SURFACES: dict[str, SearchSurface] = {}
_RESOLVERS: dict[str, Resolver] = {}


def register(*, surface: SearchSurface | None = None, resolvers: Iterable[Resolver] = ()) -> None:
    """Called from an app's ``AppConfig.ready()``: adds its search surface and resolve types."""
    if surface is not None:
        if surface.name not in SURFACE_NAMES:
            raise ValueError(f"Unknown search surface {surface.name!r}")
        _SURFACES[surface.name] = surface
    for resolver in resolvers:
        if resolver.type not in RESOLVE_TYPES:
            raise ValueError(f"Unknown resolve type {resolver.type!r}")
        _RESOLVERS[resolver.type] = resolver


def surfaces() -> list[SearchSurface]:
    """Registered surfaces in the spec's order."""
    return [_SURFACES[name] for name in SURFACE_NAMES if name in _SURFACES]
