"""The one place change events are created (SPEC §19: a transactional outbox).

Services call these helpers inside their own transaction, so an event commits or rolls back with
the write it describes; views and tasks never write events. A write that changes nothing appends
nothing. Every helper appends its events with ONE statement (``append_rows``: the rows travel as
one JSON parameter), so a bulk of 2000 items costs one extra statement, not 2000.

Values are described in the API's words: columns become camelCase fields, localized columns
become ``LocalizedString`` arrays (``names``), foreign keys ``{"id": n}``; bookkeeping and derived
columns (version, timestamps, sort name, search text, tree numbering) are never a change.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.conf import settings
from django.db.models import SET_NULL, F, ForeignObjectRel, Model, QuerySet
from django.utils import timezone

from changes.context import Actor, current_actor, current_request_id, job_id_var
from changes.models import ChangeEvent
from changes.signals import events_appended
from records.bulk_sql import append_rows, reverse_relations
from records.rules import LOCALIZED_API_NAMES

Columns = Mapping[str, Any]


@dataclass(frozen=True)
class Related:
    """A list owned by the record, captured as part of its state (``sources``, ``attributes``)."""

    name: str  # API name
    accessor: str  # related manager on the record
    fields: tuple[tuple[str, str], ...]  # (column, API name)
    order: str


@dataclass(frozen=True)
class Entity:
    name: str  # ``product``: the event's ``entity``
    model_label: str
    key_columns: tuple[str, ...] = ()  # keys besides sources: ``sku``, ``code``, ``name``
    related: tuple[Related, ...] = ()
    read_scope: str = ""

    @property
    def model(self) -> type[Model]:
        return apps.get_model(self.model_label)

    @property
    def has_sources(self) -> bool:
        return any(r.name == "sources" for r in self.related)


SOURCES = Related("sources", "sources", (("source", "source"), ("source_id", "sourceId")), "pk")
ENTITIES = (
    Entity(
        "product",
        "catalogue.Product",
        ("sku",),
        (SOURCES, Related("attributes", "attributes", (("name", "name"), ("value", "value")), "position")),
        "products:read",
    ),
    Entity("category", "taxonomy.Category", (), (SOURCES,), "categories:read"),
    Entity("cluster", "clusters.Cluster", ("code",), (SOURCES,), "clusters:read"),
    Entity(
        "clusterConfig",
        "clusters.ClusterConfig",
        ("name",),
        (
            Related(
                "settings",
                "settings",
                (
                    ("id", "id"),
                    ("attribute_name", "attributeName"),
                    ("display_type", "displayType"),
                    ("priority", "priority"),
                ),
                "pk",
            ),
        ),
        "cluster-configs:read",
    ),
    Entity(
        "clusterOption",
        "clusters.ClusterOption",
        (),
        (SOURCES, Related("products", "product_links", (("product_id", "id"),), "position")),
        "cluster-options:read",
    ),
)  # fmt: skip
BY_NAME = {e.name: e for e in ENTITIES}
_BY_MODEL = {e.model_label.lower(): e for e in ENTITIES}

#: columns that are never a change of their own (SPEC §8: bookkeeping, derived, tree numbering)
IGNORED = frozenset(
    {"id", "version", "created_at", "last_modified_at", "sort_name", "search_text"}
    | {"lft", "rght", "tree_id", "level"}
)


def entity_of(model: type[Model] | Model) -> Entity:
    return _BY_MODEL[model._meta.label_lower]


@functools.cache
def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


@functools.cache
def _localized_columns() -> dict[str, tuple[str, str]]:
    """``name_en`` → (``names``, ``en``) for every localized column of every language."""
    return {
        f"{base}_{language}": (api, language)
        for api, base in LOCALIZED_API_NAMES.items()
        for language in settings.CATALOGUE_LANGUAGES
    }


@functools.cache
def _translated(columns: tuple[str, ...]) -> frozenset[str]:
    """modeltranslation's untranslated base columns (``name`` beside ``name_en``): copies."""
    localized = _localized_columns()
    return frozenset(column.rsplit("_", 1)[0] for column in columns if column in localized)


@functools.cache
def _plan(columns: tuple[str, ...]) -> tuple[tuple, tuple]:
    """How ``describe`` turns rows with these columns into API fields, worked out once per column
    set (a bulk describes thousands of rows with the same columns): the plain and foreign-key
    columns in column order as ``(column, API name, is_foreign_key)``, then each localized field
    once, in order of first appearance, with its columns in language order."""
    localized = _localized_columns()
    translated = _translated(columns)
    plain: list[tuple[str, str, bool]] = []
    per_field: dict[str, list[tuple[str, str]]] = {}
    for column in columns:
        if column in IGNORED or column in translated:
            continue
        if column in localized:
            api, language = localized[column]
            per_field.setdefault(api, []).append((column, language.upper()))
        elif column.endswith("_id") and column != "source_id":
            plain.append((column, _camel(column[:-3]), True))
        else:
            plain.append((column, _camel(column), False))
    order = {language.upper(): i for i, language in enumerate(settings.CATALOGUE_LANGUAGES)}
    fields = tuple(
        (api, tuple(sorted(entries, key=lambda e: order[e[1]])))
        for api, entries in per_field.items()
    )
    return tuple(plain), fields


def describe(columns: Columns) -> dict[str, Any]:
    """A row's columns in the API's words (see the module docstring)."""
    plain, localized = _plan(tuple(columns))
    out: dict[str, Any] = {}
    for column, name, foreign in plain:
        value = columns[column]
        out[name] = ({"id": value} if value is not None else None) if foreign else value
    for api, entries in localized:
        out[api] = [
            {"language": language, "value": columns[column]}
            for column, language in entries
            if columns[column] is not None
        ]
    return out


def _changed_columns(before: Columns, after: Columns) -> tuple[str, ...]:
    """The columns whose raw value differs, widened to every language of a changed localized
    field (its API value is the whole array), in ``after``'s column order."""
    localized = _localized_columns()
    stored = before.get
    changed = [c for c, value in after.items() if stored(c) != value]
    changed += [c for c in before if c not in after and before[c] is not None]
    fields = {localized[c][0] for c in changed if c in localized}
    if fields:
        siblings = [c for c in after if c in localized and localized[c][0] in fields]
        changed = list(dict.fromkeys([*changed, *siblings]))
    skipped = IGNORED | _translated(tuple(after))  # modeltranslation's copies are no change
    return tuple(c for c in changed if c not in skipped)


def diff(before: Mapping[str, Any] | None, after: Mapping[str, Any] | None) -> dict[str, Any]:
    """``{field: {"before", "after"}}`` of the fields whose value differs (every field holding a
    value when one side is None: a created or deleted record)."""
    if before is None or after is None:  # created / deleted: the fields that hold a value
        side = "after" if before is None else "before"
        record = after if before is None else before
        changes = {}
        for name, value in (record or {}).items():
            if value is not None and value != "" and value != []:
                changes[name] = {"before": None, "after": None, side: value}
        return changes
    return {
        name: {"before": before.get(name), "after": after.get(name)}
        for name in dict.fromkeys([*before, *after])
        if before.get(name) != after.get(name)
    }


def keys_of(entity: Entity, state: Mapping[str, Any]) -> dict[str, Any]:
    """The record's keys (``sources`` and the entity's key columns) from a described state."""
    keys: dict[str, Any] = {}
    if entity.has_sources:
        keys["sources"] = state.get("sources") or []
    for column in entity.key_columns:
        keys[_camel(column)] = state.get(_camel(column))
    return keys


def event_row(
    entity: Entity,
    action: str,
    record_id: int,
    version: int | None,
    keys: Mapping[str, Any],
    changes: Mapping[str, Any],
    *,
    at=None,
    actor=None,
) -> dict[str, Any]:
    """One event as the row ``append`` inserts (actor, request and job from the context)."""
    actor = actor or current_actor()
    names = sorted({s["source"] for s in keys.get("sources") or ()})
    return {
        "at": at or timezone.now(),
        "entity": entity.name,
        "action": action,
        "record_id": record_id,
        "version": version,
        "keys": dict(keys),
        "sources": "".join(f"|{name}" for name in names) + ("|" if names else ""),
        "changed_fields": list(changes),
        "changes": dict(changes),
        "actor_kind": actor.kind,
        "actor_id": actor.id,
        "request_id": current_request_id(),
        "job_id": job_id_var.get(),
    }


APPENDED_COLUMNS = (
    "at", "entity", "action", "record_id", "version", "keys", "sources", "changed_fields",
    "changes", "actor_kind", "actor_id", "request_id", "job_id",
)  # fmt: skip


def append(rows: Sequence[Mapping[str, Any]]) -> None:
    """Append the events with one statement (nothing for no rows). ``txid`` is the database's
    default: the writing transaction's id (see ``ChangeEvent``)."""
    if rows:
        append_rows(ChangeEvent, APPENDED_COLUMNS, rows)
        events_appended.send(sender=ChangeEvent, count=len(rows))


# -- single records ------------------------------------------------------------------------------


def state(instance: Model) -> dict[str, Any]:
    """The record as events describe it: its columns and its related lists (one query each)."""
    entity = entity_of(instance)
    described = describe(
        {f.attname: getattr(instance, f.attname) for f in instance._meta.concrete_fields}
    )
    for related in entity.related:
        columns = [column for column, _ in related.fields]
        rows = getattr(instance, related.accessor).order_by(related.order).values_list(*columns)
        described[related.name] = [
            {api: value for (_, api), value in zip(related.fields, row, strict=True)}
            for row in rows
        ]
    return described


class Watch:
    """The state of one record before a write; ``record()`` appends the event after it.

    ``watch(product)`` … write … ``w.record()``: an event only when something changed.
    """

    def __init__(self, instance: Model, *, new: bool = False) -> None:
        self.instance = instance
        self.entity = entity_of(instance)
        self.before = None if new or not instance.pk else state(instance)

    def record(self, action: str | None = None, *, extra: Mapping[str, Any] | None = None) -> bool:
        """Append the event of what changed since the watch began (plus ``extra`` changes the
        record's fields cannot show, a position among siblings); whether there was one."""
        instance = self.instance
        after = state(instance)
        changes = {**diff(self.before, after), **(extra or {})}
        if not changes:
            return False
        if action is None:
            action = (
                ChangeEvent.Action.CREATED if self.before is None else ChangeEvent.Action.UPDATED
            )
        append(
            [
                event_row(
                    self.entity,
                    action,
                    instance.pk,
                    instance.version,
                    keys_of(self.entity, after),
                    changes,
                )
            ]
        )
        return True


def watch(instance: Model) -> Watch:
    return Watch(instance)


def created(instance: Model) -> None:
    """The ``created`` event of a record just inserted (the whole record under ``after``)."""
    Watch(instance, new=True).record(ChangeEvent.Action.CREATED)


def deleted(instance: Model) -> None:
    """The ``deleted`` event (a tombstone with the last keys); call it BEFORE the delete."""
    entity = entity_of(instance)
    before = state(instance)
    append(
        [
            event_row(
                entity,
                ChangeEvent.Action.DELETED,
                instance.pk,
                instance.version,
                keys_of(entity, before),
                diff(before, None),
            )
        ]
    )


# -- many records at once ------------------------------------------------------------------------


def _columns(model: type[Model]) -> list[str]:
    """The columns events describe (not modeltranslation's untranslated copies)."""
    names = [f.attname for f in model._meta.concrete_fields]
    localized = _localized_columns()
    translated = {name.rsplit("_", 1)[0] for name in names if name in localized}
    return [name for name in names if name not in translated]


def sources_by_owner(entity: Entity, ids: Iterable[int]) -> dict[int, list[dict[str, str]]]:
    """Every record's source pairs (one query), for the events' keys."""
    out: dict[int, list[dict[str, str]]] = {}
    if not entity.has_sources:
        return out
    model = entity.model
    related = model._meta.get_field("sources").related_model
    owner = related._meta.get_field(model._meta.model_name).attname
    rows = related._base_manager.filter(**{f"{owner}__in": list(ids)}).order_by("pk")
    for owner_id, source, source_id in rows.values_list(owner, "source", "source_id"):
        out.setdefault(owner_id, []).append({"source": source, "sourceId": source_id})
    return out


def _row_keys(entity: Entity, row: Columns, sources: list[dict[str, str]]) -> dict[str, Any]:
    """``keys_of`` for a raw row: key columns are plain columns, named as the API names them."""
    keys: dict[str, Any] = {"sources": sources} if entity.has_sources else {}
    for column in entity.key_columns:
        keys[_camel(column)] = row.get(column)
    return keys


def row_event(
    entity: Entity,
    action: str,
    before: Columns | None,
    after: Columns | None,
    sources: list[dict[str, str]],
    *,
    extra: Mapping[str, Any] | None = None,
    at=None,
    actor=None,
) -> dict[str, Any] | None:
    """The event of one row whose columns were ``before`` and are ``after`` (None: created /
    deleted), with ``extra`` changes the columns cannot show; None when nothing changed."""
    described_before: dict[str, Any] | None
    described_after: dict[str, Any] | None
    if before is not None and after is not None:  # only the changed columns are described
        changed = _changed_columns(before, after)
        described_before = describe({c: before.get(c) for c in changed})
        described_after = describe({c: after.get(c) for c in changed})
    else:
        described_before = describe(before) if before is not None else None
        described_after = describe(after) if after is not None else None
    changes = diff(described_before, described_after)
    if action == ChangeEvent.Action.CREATED and described_after is not None:
        changes.setdefault("sources", {"before": None, "after": sources})
    changes.update(extra or {})
    if not changes:
        return None
    current = after if after is not None else before
    assert current is not None  # a created or a deleted row has one side
    keys = _row_keys(entity, current, sources)
    return event_row(
        entity, action, current["id"], current.get("version"), keys, changes, at=at, actor=actor
    )


def updated_rows(
    rows: QuerySet,
    values: Mapping[str, Any],
    *,
    action: str = ChangeEvent.Action.UPDATED,
    extra: Mapping[int, Mapping[str, Any]] | None = None,
) -> int:
    """Set ``values`` on the ``rows`` (one UPDATE that also bumps ``version`` and
    ``lastModifiedAt``) and append the events of the rows it changed, in a constant number of
    statements: the rows are read once before the UPDATE (their values after it follow from
    ``values``), their sources once. ``extra`` adds changes per record id that are not columns
    (a product's cluster). Returns the number of rows updated. Call it inside a transaction.
    """
    model = rows.model
    entity = entity_of(model)
    before = {r["id"]: r for r in rows.values(*_columns(model))}
    if not before:
        return 0
    now = timezone.now()
    assigned = {}
    for name, value in values.items():
        field = model._meta.get_field(name)
        assigned[field.attname] = value.pk if isinstance(value, Model) else value
    updated = model._base_manager.filter(pk__in=list(before)).update(
        **values, version=F("version") + 1, last_modified_at=now
    )
    sources = sources_by_owner(entity, before)
    extra = extra or {}
    events = [
        row_event(
            entity,
            action,
            row,
            {**row, **assigned, "version": row["version"] + 1},
            sources.get(pk, []),
            extra=extra.get(pk),
            at=now,
        )
        for pk, row in before.items()
    ]
    append([event for event in events if event is not None])
    return updated


def links_changed(entity_name: str, category_id: int, ids: Sequence[int], *, added: bool) -> None:
    """``linked`` / ``unlinked`` events of records whose secondary link to a category was just
    added or removed (``changes.categories``); three statements for any number of records.
    A link never changes the record's version (SPEC §10.1)."""
    entity = BY_NAME[entity_name]
    columns = ["id", "version", *entity.key_columns]
    rows = entity.model._base_manager.filter(pk__in=list(ids)).values(*columns)
    sources = sources_by_owner(entity, ids)
    link = {"id": category_id}
    change = {"categories": {"before": None if added else link, "after": link if added else None}}
    action = ChangeEvent.Action.LINKED if added else ChangeEvent.Action.UNLINKED
    now = timezone.now()
    append(
        [
            event_row(
                entity,
                action,
                row["id"],
                row["version"],
                keys_of(entity, {**describe(row), "sources": sources.get(row["id"], [])}),
                change,
                at=now,
            )
            for row in rows
        ]
    )


def _listed(model: type[Model], related: Related) -> tuple[type[Model], str]:
    """The model of a record's related list and the column naming its owner."""
    relation = model._meta.get_field(related.accessor)
    assert isinstance(relation, ForeignObjectRel) and isinstance(relation.related_model, type)
    return relation.related_model, relation.field.attname


def _referencing(model: type[Model], ids: Sequence[int]) -> list[tuple[type[Model], set[int]]]:
    """The records of other entities that change when records of ``model`` are deleted: those
    pointing at them with a ``SET_NULL`` reference (a cluster's or option's default product) and
    those holding them in a related list (an option's products); one query per relation."""
    found: dict[type[Model], set[int]] = {}
    for relation in reverse_relations(model):
        related = relation.related_model
        if relation.many_to_many or relation.on_delete is not SET_NULL or related is model:
            continue
        if related._meta.label_lower in _BY_MODEL:
            rows = related._base_manager.filter(**{f"{relation.field.attname}__oneof": ids})
            found.setdefault(related, set()).update(rows.values_list("pk", flat=True))
    for entity in ENTITIES:
        if entity.model is model:
            continue
        for listed in entity.related:
            link, owner = _listed(entity.model, listed)
            pointing = [
                f for f in link._meta.concrete_fields if f.is_relation and f.related_model is model
            ]
            for field in pointing:
                rows = link._base_manager.filter(**{f"{field.attname}__oneof": ids})
                found.setdefault(entity.model, set()).update(rows.values_list(owner, flat=True))
    return [(m, pks) for m, pks in found.items() if pks]


@contextmanager
def deleting(model: type[Model], ids: Iterable[int]) -> Iterator[None]:
    """Around the delete of records of ``model``: the records of other entities it changes
    (``_referencing``) get one ``updated`` event each once it is done — set-based, a constant
    number of statements. A ``SET_NULL`` reference is cleared here first with a new version
    (the referencing record's representation changes, SPEC §8), so the delete's own
    ``SET_NULL`` finds nothing left to clear silently. The tombstones are the caller's."""
    ids = sorted(set(ids))
    referencing = _referencing(model, ids) if ids else []
    snapshots = [Snapshot(related, pks) for related, pks in referencing]
    now = timezone.now()
    for relation in reverse_relations(model) if referencing else ():
        related = relation.related_model
        if relation.many_to_many or relation.on_delete is not SET_NULL:
            continue
        if related._meta.label_lower in _BY_MODEL:
            related._base_manager.filter(**{f"{relation.field.attname}__oneof": ids}).update(
                **{relation.field.attname: None}, version=F("version") + 1, last_modified_at=now
            )
    yield
    for snapshot in snapshots:
        snapshot.record()


@contextmanager
def deleting_record(instance: Model) -> Iterator[None]:
    """Around one record's delete: its tombstone first, then ``deleting``."""
    deleted(instance)
    with deleting(type(instance), [instance.pk]):
        yield


def _related_states(entity: Entity, ids: Sequence[int]) -> dict[int, dict[str, list]]:
    """Every record's related lists (one query per list), as ``state`` describes them."""
    model = entity.model
    out: dict[int, dict[str, list]] = {pk: {r.name: [] for r in entity.related} for pk in ids}
    for related in entity.related:
        link, owner = _listed(model, related)
        columns = [column for column, _ in related.fields]
        rows = (
            link._base_manager.filter(**{f"{owner}__oneof": list(ids)})
            .order_by(owner, related.order)
            .values_list(owner, *columns)
        )
        for owner_id, *values in rows:
            out[owner_id][related.name].append(
                {api: value for (_, api), value in zip(related.fields, values, strict=True)}
            )
    return out


def states(model: type[Model], ids: Iterable[int]) -> dict[int, dict[str, Any]]:
    """``state`` of many records at once: one query for the rows, one per related list. Each
    state keeps the row's ``version`` under ``"_version"`` (``describe`` leaves it out)."""
    entity = entity_of(model)
    ids = sorted(set(ids))
    if not ids:
        return {}
    rows = model._base_manager.filter(pk__oneof=ids).values(*_columns(model))
    related = _related_states(entity, ids)
    return {
        row["id"]: {**describe(row), **related[row["id"]], "_version": row["version"]}
        for row in rows
    }


def deleted_many(model: type[Model], ids: Iterable[int]) -> None:
    """``deleted`` for many records about to go with their owner (a cluster's options in a bulk
    remove): their tombstones, set-based; call it BEFORE the delete."""
    entity = entity_of(model)
    now = timezone.now()
    rows = []
    for pk, before in states(model, ids).items():
        version = before.pop("_version")
        rows.append(
            event_row(
                entity, ChangeEvent.Action.DELETED, pk, version, keys_of(entity, before),
                diff(before, None), at=now,
            )
        )  # fmt: skip
    append(rows)


class Snapshot:
    """``Watch`` for many records of one entity, set-based: their states before a write (a
    constant number of statements whatever their number); ``record()`` appends one event per
    record that changed (records deleted meanwhile record their own tombstones)."""

    def __init__(self, model: type[Model], ids: Iterable[int]) -> None:
        self.model = model
        self.entity = entity_of(model)
        self.before = states(model, ids)

    def record(self, action: str = ChangeEvent.Action.UPDATED) -> int:
        after = states(self.model, self.before)
        now = timezone.now()
        rows = []
        for pk, state_after in after.items():
            state_before = self.before[pk]
            version = state_after.pop("_version")
            state_before = {k: v for k, v in state_before.items() if k != "_version"}
            changes = diff(state_before, state_after)
            if changes:
                keys = keys_of(self.entity, state_after)
                rows.append(event_row(self.entity, action, pk, version, keys, changes, at=now))
        append(rows)
        return len(rows)


# -- jobs (SPEC §21) -----------------------------------------------------------------------------

#: the ``entity`` / ``action`` of a job's end: not a record type, so ``/v2/changes`` (which reads
#: the entities of ``ENTITIES`` only) never lists it; webhooks deliver it as ``job.finished``
JOB_ENTITY, JOB_FINISHED = "job", "finished"


def job_finished(
    job_id: int,
    *,
    status: str,
    progress: Mapping[str, Any],
    actor: Actor | None = None,
    request_id: str = "",
) -> None:
    """A job ended (succeeded, failed or cancelled): one event in the caller's transaction,
    the one that records the end, with the job's client as actor and its id as ``jobId``."""
    actor = actor or current_actor()
    append(
        [
            {
                "at": timezone.now(),
                "entity": JOB_ENTITY,
                "action": JOB_FINISHED,
                "record_id": job_id,
                "version": None,
                "keys": {},
                "sources": "",
                "changed_fields": ["status", "progress"],
                "changes": {
                    "status": {"before": None, "after": status},
                    "progress": {"before": None, "after": dict(progress)},
                },
                "actor_kind": actor.kind,
                "actor_id": actor.id,
                "request_id": request_id or current_request_id(),
                "job_id": job_id,
            }
        ]
    )
