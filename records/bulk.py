"""The bulk machinery every ``…/bulk…`` endpoint and ``import_catalogue`` share (SPEC §14).

A resource (``catalogue.bulk.PRODUCTS``, ``taxonomy.bulk.CATEGORIES``, …) says how to match, plan
and write its items. Everything else happens here, the same way for all of them: the body and the
two directive forms, item limits, per-item lookup keys and validation, repeated keys, the
transaction with its retries on deadlocks and races, dry runs, atomic requests, outcomes in
request order, summary and message.

Flow of one request (``run_bulk``)::

    parse body (400/413) → parse items (per-item 10016/10020/10007) →
    [transaction: resource.plan() (set-based reads, outcomes) → resource.write() (set-based)]
    retried as a whole on a deadlock or a lost insert race → outcomes
"""

from __future__ import annotations

import logging
import random
import time
from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from django.db import DatabaseError, IntegrityError, OperationalError, connection, transaction

from config.api import errors
from records.outcomes import ErrorRenderer
from records.validation import INVALID, Choice, Errors, Field, Int, Obj, add_error

logger = logging.getLogger("catalogue.bulk")

MAX_ATTEMPTS = 8  # whole-transaction attempts before a lost race surfaces as a 500
ACTIONS = ("create", "update", "skip", "remove")
UPSERT, REMOVE = "upsert", "remove"
SKIP_UNCHANGED, SKIP_CREATE, ROLLED_BACK = "unchanged", "skipCreate", "rolledBack"


# --- directives -------------------------------------------------------------------------------

#: directive → whether it takes fields. ``mergeTranslationsOnUpdate`` is the reference platform's
#: name for ``replaceTranslationsOnUpdate``.
DIRECTIVES: dict[str, bool] = {
    "skipIfNotEmpty": True,
    "skipMoveOnUpdate": False,
    "replaceTranslationsOnUpdate": False,
    "mergeTranslationsOnUpdate": False,
    "skipCreate": False,
}
ALIASES = {"mergeTranslationsOnUpdate": "replaceTranslationsOnUpdate"}


@dataclass(frozen=True)
class Directives:
    """What the request's directives change for updates (and ``skip_create`` for creates)."""

    skip_if_not_empty: frozenset[str] = frozenset()  # model attributes (``ean_code``, ``name``)
    skip_move_on_update: bool = False
    replace_translations: bool = False
    skip_create: bool = False


def parse_directives(raw: Any, schema: Obj) -> Directives:
    """Both forms: ``[{"operation": …, "fields": […]}]`` and ``{"skipIfNotEmpty": […], …}``.

    A directive without fields takes ``true`` or ``[]`` in the map form (``false`` turns it off)
    and no ``fields`` in the array form. Problems are request errors (400, 10007): a directive
    changes how every item is applied, so a typo in one must not be silently ignored.
    """
    errs: Errors = {}
    active: dict[str, list[str] | None] = {}
    if raw is None:
        return Directives()
    if isinstance(raw, list):
        for i, entry in enumerate(raw):
            path = f"directives[{i}]"
            if not isinstance(entry, dict):
                add_error(errs, path, "Expected {operation, fields}.")
                continue
            for extra in set(entry) - {"operation", "fields"}:
                add_error(errs, f"{path}.{extra}", f"Unknown field '{extra}'.")
            name = entry.get("operation")
            if not isinstance(name, str) or name not in DIRECTIVES:
                add_error(errs, f"{path}.operation", _unknown_directive(name))
                continue
            if DIRECTIVES[name]:
                fields = _directive_fields(entry.get("fields"), f"{path}.fields", schema, errs)
                if fields is not INVALID:
                    active[name] = fields
            elif "fields" in entry:
                add_error(errs, f"{path}.fields", f"{name} takes no fields.")
            else:
                active[name] = None
    elif isinstance(raw, dict):
        for name, value in raw.items():
            path = f"directives.{name}"
            if name not in DIRECTIVES:
                add_error(errs, path, _unknown_directive(name))
            elif DIRECTIVES[name]:
                fields = _directive_fields(value, path, schema, errs)
                if fields is not INVALID:
                    active[name] = fields
            elif value is True or value == []:
                active[name] = None
            elif value is not False:
                add_error(errs, path, f"{name} takes true, false or [].")
    else:
        add_error(errs, "directives", "Expected an array of {operation, fields} or an object.")
    if errs:
        raise errors.SchemaValidationException(fields=errs)
    names = {ALIASES.get(name, name) for name in active}
    return Directives(
        skip_if_not_empty=frozenset(active.get("skipIfNotEmpty") or ()),
        skip_move_on_update="skipMoveOnUpdate" in names,
        replace_translations="replaceTranslationsOnUpdate" in names,
        skip_create="skipCreate" in names,
    )


def _unknown_directive(name: Any) -> str:
    return f"Unknown directive '{name}'; use one of {', '.join(DIRECTIVES)}."


def _directive_fields(value: Any, path: str, schema: Obj, errs: Errors) -> Any:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        return add_error(errs, path, "Expected an array of field names.")
    attrs = []
    for i, name in enumerate(value):
        field_ = schema.fields.get(name)
        if field_ is None or field_.read_only:
            add_error(errs, f"{path}[{i}]", f"Unknown field '{name}'.")
        else:
            attrs.append(field_.attr or name)
    return attrs if len(attrs) == len(value) else INVALID


# --- items ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BulkKey:
    """A lookup key of the URL and the item fields that carry it.

    ``fields`` are required (the first one is the key's value in outcomes; ``supplierCode`` comes
    with ``supplier``). With ``keep`` the key fields
    also stay in the item as ordinary body fields (``sku``); otherwise they are taken out before
    the body is validated (``id``, which is read-only in bodies).
    """

    name: str
    fields: Mapping[str, Field]
    creates: bool = True
    keep: bool = False


@dataclass
class Item:
    """One item of a bulk request: what it asked for and, once planned, what happens to it."""

    index: int
    lookup_key: str
    action: str = UPSERT  # requested: upsert or remove
    key: tuple | None = None  # normalised key, for matching and repeats
    key_value: Any = None  # the key as sent (outcome ``key``)
    version: int | None = None
    data: dict[str, Any] = field(default_factory=dict)  # validated body, model attribute names
    parse_error: errors.ApiError | None = None
    # set by the resource's plan(), reset before every attempt
    result: str | None = None  # create / update / skip / remove
    reason: str | None = None
    id: int | None = None
    error: errors.ApiError | None = None
    stored: dict[str, Any] | None = None  # the matched row
    row: dict[str, Any] | None = None  # the row to write
    scratch: dict[str, Any] = field(default_factory=dict)

    def reset(self) -> None:
        self.result = self.reason = self.id = self.stored = self.row = None
        self.error = self.parse_error
        self.scratch = {}

    @property
    def ok(self) -> bool:
        return self.error is None

    def fail(self, error: errors.ApiError) -> None:
        if self.error is None:
            self.error = error
            self.row = None


def _body_object(item: Any) -> errors.ApiError | None:
    if isinstance(item, dict):
        return None
    return errors.SchemaValidationException(fields={"item": ["Expected a JSON object."]})


ACTION_FIELD = Choice((UPSERT, REMOVE))
#: the stored version is an integer column: a larger number can match no row
VERSION_FIELD = Int(minimum=1)


def parse_items(raw_items: list[Any], key: BulkKey, schema: Obj) -> list[Item]:
    """Per-item parsing: action, version, lookup key (10016), repeats (10020), body (10007)."""
    items: list[Item] = []
    seen: dict[tuple, int] = {}
    for index, raw in enumerate(raw_items):
        item = Item(index=index, lookup_key=key.name)
        items.append(item)
        problem = _body_object(raw)
        if problem is None:
            problem = _parse_item(item, dict(raw), key, schema, seen)
        item.parse_error = problem
        item.reset()
    return items


def _parse_item(
    item: Item, raw: dict, key: BulkKey, schema: Obj, seen: dict[tuple, int]
) -> errors.ApiError | None:
    errs: Errors = {}
    action = ACTION_FIELD.clean(raw.pop("action", UPSERT), "action", errs)
    version = raw.pop("version", None)
    if version is not None:
        version = VERSION_FIELD.clean(version, "version", errs)
    values: list[Any] = []
    missing = [name for name in key.fields if raw.get(name) is None]
    for name, validator in key.fields.items():
        value = raw.get(name) if key.keep else raw.pop(name, None)
        if value is not None:
            value = validator.clean(value, name, errs)
        values.append(value)
    item.key_value = values[0] if values[0] is not INVALID else None
    if missing:
        return errors.LookupKeyNotFound(
            f"The item lacks the lookup key {key.name} "
            f"({' and '.join(key.fields)} {'are' if len(key.fields) > 1 else 'is'} required)."
        )
    if errs:
        return errors.SchemaValidationException(fields=errs)
    item.action, item.version, item.key = action, version, tuple(values)
    if item.key in seen:
        return errors.DuplicateItemInRequest(
            f"The {key.name} [{item.key_value}] is already used by item {seen[item.key]} "
            "of this request."
        )
    seen[item.key] = item.index
    if action == REMOVE:
        return None  # only the key (and version) count for a removal
    data = schema.convert(raw, "", errs, partial=True)
    if errs or data is INVALID:
        return errors.SchemaValidationException(fields=errs or {"item": ["Invalid item."]})
    item.data = data
    return None


# --- resources --------------------------------------------------------------------------------


class BulkResource(ABC):
    """One kind of record that bulk endpoints and imports write (products, categories, …)."""

    label: ClassVar[str]  # "Product"
    items_key: ClassVar[str]  # "products"
    max_items: ClassVar[int]
    keys: ClassVar[dict[str, BulkKey]]
    schema: ClassVar[Obj]  # the item body (validated partially; creates check requirements)

    def key(self, name: str) -> BulkKey:
        if name not in self.keys:
            raise errors.InvalidLookupKey(
                f"Lookup key '{name}' is not supported for {self.items_key} bulk; "
                f"use one of {', '.join(self.keys)}."
            )
        return self.keys[name]

    @abstractmethod
    def plan(self, items: list[Item], directives: Directives, key: BulkKey, *, lock: bool) -> Any:
        """Read what the items need (a constant number of queries), set each item's outcome and
        return what ``write`` needs. With ``lock`` the matched rows are locked for the write."""

    @abstractmethod
    def write(self, plan: Any) -> None:
        """Apply the plan with a constant number of statements; raise ``Retry`` on a lost race."""

    def nested_failed(self, items: list[Item]) -> bool:
        """Whether an item nested in the top-level items failed (atomic requests roll back)."""
        return False

    def nested_outcomes(
        self, item: Item, result: BulkResult, render_error: ErrorRenderer
    ) -> dict[str, Any]:
        """Outcomes of the items nested in ``item`` (clusters: ``products``, ``options``)."""
        return {}


class Retry(Exception):  # noqa: N818 - control flow
    """A concurrent writer changed what the plan read: plan again from scratch."""


# --- running a request ------------------------------------------------------------------------


@dataclass
class BulkResult:
    resource: BulkResource
    items: list[Item]
    dry_run: bool = False
    atomic: bool = False
    rolled_back: bool = False
    attempts: int = 1

    @property
    def failed(self) -> int:
        return sum(1 for item in self.items if item.error)

    @property
    def any_failed(self) -> bool:
        return bool(self.failed) or self.resource.nested_failed(self.items)

    def summary(self) -> dict[str, int]:
        counts = Counter("error" if i.error else i.result for i in self.items)
        return {action: counts.get(action, 0) for action in (*ACTIONS, "error")}

    def messages(self) -> list[str]:
        s = self.summary()
        messages = [
            f"{s['create']} created, {s['update']} updated, {s['skip']} skipped, "
            f"{s['remove']} removed, {s['error']} failed"
        ]
        if self.rolled_back and not s["error"]:
            messages.append("Atomic request: a nested item failed, so nothing was written.")
        elif self.rolled_back:
            messages.append(f"Atomic request: {s['error']} item(s) failed, so nothing was written.")
        elif self.dry_run:
            messages.append("Dry run: nothing was written.")
        return messages

    @property
    def status(self) -> int:
        return 422 if self.atomic and self.any_failed else 200

    def outcome(self, item: Item, render_error: ErrorRenderer) -> dict[str, Any]:
        written = not (self.dry_run or self.rolled_back)
        body: dict[str, Any] = {
            "index": item.index,
            "action": "error" if item.error else item.result,
            "id": item.id if (written or item.result != "create") else None,
            "lookupKey": item.lookup_key,
            "key": item.key_value,
            "success": item.error is None and not self.rolled_back,
        }
        if item.error is not None:
            body["error"] = render_error(item.error)
        elif self.rolled_back:
            body["reason"] = ROLLED_BACK
        elif item.reason:
            body["reason"] = item.reason
        body.update(self.resource.nested_outcomes(item, self, render_error))
        return body

    def outcomes(self, render_error: ErrorRenderer) -> list[dict[str, Any]]:
        return [self.outcome(item, render_error) for item in self.items]


def parse_body(
    body: Any, resource: BulkResource, *, max_items: int | None = None
) -> tuple[list[Any], Directives]:
    """``{"<items>": [...], "directives": ...}``: 400 when empty, 413 (10013) over the maximum
    (``max_items``, default the resource's: jobs take more, SPEC §21)."""
    limit = resource.max_items if max_items is None else max_items
    name = resource.items_key
    if not isinstance(body, dict):
        raise errors.SchemaValidationException(fields={"body": ["Expected a JSON object."]})
    unknown = set(body) - {name, "directives"}
    if unknown:
        raise errors.SchemaValidationException(
            fields={key: [f"Unknown field '{key}'."] for key in sorted(unknown)}
        )
    raw_items = body.get(name)
    if not isinstance(raw_items, list):
        raise errors.SchemaValidationException(
            fields={
                name: [
                    "Required: an array of items." if raw_items is None else "Expected an array."
                ]
            }
        )
    if not raw_items:
        raise errors.SchemaValidationException(fields={name: ["At least one item is required."]})
    if len(raw_items) > limit:
        raise errors.BulkLimitExceeded(
            f"{len(raw_items)} {name} sent; at most {limit} per request. Nothing was written."
        )
    return raw_items, parse_directives(body.get("directives"), resource.schema)


def run_bulk(
    resource: BulkResource,
    body: Any,
    *,
    lookup_key: str,
    dry_run: bool = False,
    atomic: bool = False,
) -> BulkResult:
    """Validate, plan and (unless ``dry_run``) write one bulk request.

    Items are independent: a failing item changes nothing and the others are applied. With
    ``atomic`` any item error means nothing is written. Raises request-level errors only
    (400 10006/10007, 413 10013).
    """
    key = resource.key(lookup_key)
    raw_items, directives = parse_body(body, resource)
    items = parse_items(raw_items, key, resource.schema)
    result = BulkResult(resource, items, dry_run=dry_run, atomic=atomic)
    _execute(result, directives, key)
    return result


def _execute(result: BulkResult, directives: Directives, key: BulkKey) -> None:
    resource, items = result.resource, result.items
    for attempt in range(1, MAX_ATTEMPTS + 1):
        result.attempts = attempt
        for item in items:
            item.reset()
        try:
            with transaction.atomic():
                plan = resource.plan(items, directives, key, lock=not result.dry_run)
                if result.atomic and result.any_failed:
                    result.rolled_back = not result.dry_run
                    return
                if not result.dry_run:
                    resource.write(plan)
                    _check_deferred_constraints()
                return
        except (Retry, IntegrityError, OperationalError) as exc:
            if attempt == MAX_ATTEMPTS or not _retryable(exc):
                raise
            logger.info(
                "bulk retry",
                extra={"resource": resource.items_key, "attempt": attempt, "cause": repr(exc)},
            )
            # Jittered exponential backoff: concurrent losers do not collide again in lockstep.
            time.sleep(random.uniform(0, 0.02 * 2**attempt))


def _check_deferred_constraints() -> None:
    """PostgreSQL checks its foreign keys (deferred, as Django creates them) at COMMIT. The
    write runs inside the request's transaction (``ApiView.dispatch``), so this block's end is
    only a savepoint: check them here, where a row a concurrent request deleted is a retryable
    23503 inside the retry loop, not a failed COMMIT after the answer was made."""
    if connection.vendor == "postgresql":
        connection.check_constraints()


# sqlstates: unique / foreign-key violation (a concurrent insert or delete won the race),
# serialization failure, deadlock, lock not available.
RETRY_SQLSTATES = {"23505", "23503", "40001", "40P01", "55P03"}


def _retryable(exc: Exception) -> bool:
    if isinstance(exc, Retry):
        return True
    cause = exc.__cause__
    sqlstate = getattr(cause, "sqlstate", None)
    if sqlstate is not None:
        return sqlstate in RETRY_SQLSTATES
    text = str(exc).lower()  # SQLite
    if isinstance(exc, IntegrityError):
        return "unique constraint" in text or "foreign key constraint" in text
    return isinstance(exc, DatabaseError) and "database is locked" in text


# --- import / export registry -----------------------------------------------------------------


@dataclass(frozen=True)
class Entity:
    """What ``import_catalogue`` / ``export_catalogue`` need to know about one entity type.

    Each app registers its entities from its ``api.entities`` module (found by autodiscovery),
    so a new resource (clusters) plugs into both commands without touching them.
    """

    name: str  # "products"
    resource: BulkResource
    export: Callable[[], Iterator[dict[str, Any]]]  # records in the re-importable API shape
    default_key: str = "sourceId"
    max_sources: Callable[[], int] = lambda: 1  # CSV: how many sources.N columns to write


_ENTITIES: dict[str, Entity] = {}


def register(entity: Entity) -> None:
    _ENTITIES[entity.name] = entity


def entities() -> dict[str, Entity]:
    from django.utils.module_loading import autodiscover_modules

    autodiscover_modules("api.entities")
    return dict(_ENTITIES)


def exportable(representation: dict[str, Any], schema: Obj) -> dict[str, Any]:
    """A record as read, without what a write does not take (ids, versions, timestamps…)."""
    return {
        name: value
        for name, value in representation.items()
        if name in schema.fields and not schema.fields[name].read_only
    }


class Prefetched(list):
    """A prefetched relation look-alike (``.all()``), to render plain rows with the API's own
    representation functions (exports)."""

    def all(self) -> list:
        return self


def sorted_pairs(pairs: Iterable[dict[str, str]]) -> list[dict[str, str]]:
    """Source pairs in a stable order that does not depend on row ids (exports, references)."""
    return sorted(pairs, key=lambda pair: (pair["source"], pair["sourceId"]))


def most_links(link_model: type, owner: str) -> int:
    """The largest number of links one owner has (the ``sources.N`` columns of a CSV export)."""
    from django.db.models import Count

    most = (
        link_model.objects.values(owner)
        .annotate(n=Count("pk"))
        .order_by("-n")
        .values_list("n", flat=True)
        .first()
    )
    return most or 0
