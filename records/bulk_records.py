"""Set-based bulk upserts and removals of catalogue records (ARCHITECTURE "The bulk path").

``RecordBulk`` holds what every record type shares: matching by ``id``, ``sourceId`` + ``source``
or a plain column (``sku``), row locks, versions, directives, per-language merges, the default
name, slugs, source links, ``skip``/``unchanged`` and the writes. A resource adds its own
fields through a few hooks (product attributes and category parents; cluster products later).

Every step reads or writes with a constant number of statements: one query per kind of
reference, outcomes computed in Python against the stored rows (locked in id order), then one
``UPDATE … FROM`` with the version check inside it, one ``INSERT … SELECT`` and one ``DELETE`` per
table; source links, the unique keys concurrent requests race for, are inserted sorted.

Rows are handled as plain dicts keyed by attribute name (``name_en``, ``parent_id``): building
model instances (modeltranslation's ``__init__`` per row) costs more than the SQL, and nothing
here needs them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from types import SimpleNamespace
from typing import Any, ClassVar, cast

from django.conf import settings
from django.db import connection
from django.db.models import Model, Q, QuerySet
from django.utils import timezone

from changes.bulk import record_bulk
from changes.outbox import deleting
from config.api import errors
from records.bulk import (
    REMOVE,
    SKIP_CREATE,
    SKIP_UNCHANGED,
    BulkKey,
    BulkResource,
    Directives,
    Item,
    Retry,
    sorted_pairs,
)
from records.bulk_sql import (
    advisory_lock,
    delete_records,
    insert_rows,
    reserve_ids,
    rows_by_pairs,
    update_rows,
)
from records.localized import column, slugify_text
from records.rules import SOURCE_ITEM, RecordSpec
from records.validation import Id

Pair = tuple[str, str]
BOOKKEEPING = ("id", "version", "created_at", "last_modified_at")
SLUG_SPARE = 3  # candidates per generated slug beyond the items sharing its base


def source_key() -> BulkKey:
    """``sourceId`` + ``source``: taken out of the item, re-added as its source pair."""
    return BulkKey(
        "sourceId",
        {"sourceId": SOURCE_ITEM.fields["sourceId"], "source": SOURCE_ITEM.fields["source"]},
    )


def id_key() -> BulkKey:
    return BulkKey("id", {"id": Id()}, creates=False)


def plain(model: type[Model]) -> QuerySet:
    """Rows as stored: no modeltranslation rewriting of ``name`` to ``name_<lang>`` and none of
    its per-row fallback processing of ``values()`` (ten times slower on 2000 rows)."""
    queryset = model._base_manager.all()
    return queryset.rewrite(False) if hasattr(queryset, "rewrite") else queryset


def is_empty(value: Any) -> bool:
    return value is None or value == "" or value == []


@dataclass
class RecordPlan:
    """What one attempt read and decided; ``RecordBulk.write`` applies it."""

    items: list[Item]
    key: BulkKey
    directives: Directives
    lock: bool
    now: datetime
    pair_owner: dict[Pair, int] = field(default_factory=dict)  # stored source pairs → owner id
    links: dict[int, list[tuple[int, Pair]]] = field(default_factory=dict)  # owner → links
    claims: dict[Pair, int] = field(default_factory=dict)  # pairs new items take → item index
    extra: dict[str, Any] = field(default_factory=dict)  # resource-specific

    def live(self, *results: str) -> list[Item]:
        return [i for i in self.items if i.ok and (not results or i.result in results)]


class RecordBulk(BulkResource):
    spec: ClassVar[RecordSpec]
    not_found: ClassVar[type[errors.ApiError]]
    multiple: ClassVar[type[errors.ApiError]]
    scalar_fields: ClassVar[tuple[str, ...]]  # model attributes copied from the item as sent
    blank_when_null: ClassVar[frozenset[str]] = frozenset()  # stored as "" when sent as null
    required_on_create: ClassVar[tuple[str, ...]] = ("names",)  # API names
    #: lookup keys on a plain column: key → (column, qualifier column or None)
    column_keys: ClassVar[dict[str, tuple[str, str | None]]] = {}
    #: columns the resource writes itself after the rows (the category tree)
    structural: ClassVar[tuple[str, ...]] = ()
    #: columns derived from others: written, but not a reason to call an item changed
    derived: ClassVar[tuple[str, ...]] = ("sort_name", "search_text")
    #: builds the ``search_text`` document from a row and its source ids (None: no search)
    search_document: ClassVar[Callable[[Any, list[str]], str] | None] = None

    @property
    def model(self) -> type[Model]:
        return self.spec.model

    # --- hooks -----------------------------------------------------------------------------

    def prepare(self, plan: RecordPlan) -> None:
        """Before anything is read (locks)."""
        if plan.lock and plan.key.name in self.column_keys and plan.live():
            # Column keys are not unique, so nothing in the database stops two requests from
            # creating the same sku twice: creates through such a key are serialised.
            advisory_lock(f"{self.model._meta.db_table}:{plan.key.name}")

    def resolve(self, plan: RecordPlan) -> None:
        """Resolve references and resource-specific fields of the planned rows (set-based)."""

    def check(self, plan: RecordPlan) -> None:
        """Last checks once every row is known (tree structure, removals)."""

    def write_extra(self, plan: RecordPlan) -> None:
        """Write what the resource owns besides rows and source links."""

    def extra_changed(self, item: Item) -> bool:
        return bool(item.scratch.get("extra_changed"))

    def rows_to_update(self, plan: RecordPlan) -> list[Item]:
        """Updated items whose row is written (a resource may update only links of some)."""
        return plan.live("update")

    def records_to_delete(self, plan: RecordPlan) -> list[int]:
        """Ids of the records removed items delete (a resource may only unlink some)."""
        return [item.id for item in plan.live("remove")]

    # --- plan --------------------------------------------------------------------------------

    def plan(self, items: list[Item], directives: Directives, key: BulkKey, *, lock: bool):
        plan = RecordPlan(items, key, directives, lock, timezone.now())
        self.prepare(plan)
        self._read_pairs(plan)
        rows = self._match(plan)
        self._classify(plan, rows)
        self._read_links(plan)
        for item in plan.live("create", "update"):
            self._build_row(plan, item)
        self._plan_sources(plan)
        self.resolve(plan)
        self._finish_rows(plan)
        self._allocate_slugs(plan)
        self._decide_unchanged(plan)
        self.check(plan)
        return plan

    def _mentioned_pairs(self, plan: RecordPlan) -> set[Pair]:
        pairs: set[Pair] = set()
        for item in plan.live():
            if plan.key.name == "sourceId":
                pairs.add((item.key[1], item.key[0]))
            data = item.data
            if "source" in data:
                pairs.add((data["source"], data["sourceId"]))
            for entry in data.get("sources") or ():
                pairs.add((entry["source"], entry["sourceId"]))
            pairs.update(self.referenced_pairs(item))
        return pairs

    def referenced_pairs(self, item: Item) -> Iterable[Pair]:
        """Source pairs of this resource an item refers to (category parents)."""
        return ()

    def _read_pairs(self, plan: RecordPlan) -> None:
        """One query: who owns each source pair the request mentions (keys, sources, refs)."""
        pairs = self._mentioned_pairs(plan)
        spec = self.spec
        owner = spec.source_model._meta.get_field(spec.source_owner_field).attname
        found = rows_by_pairs(
            spec.source_model, ("source", "source_id"), pairs, ["source", "source_id", owner]
        )
        plan.pair_owner = {(s, i): o for s, i, o in found}

    def _read_columns(self) -> list[str]:
        # The untranslated base columns (``name``) are never read: modeltranslation rewrites them.
        bases = set(self.spec.localized)
        return [f.attname for f in self.model._meta.concrete_fields if f.attname not in bases]

    def _match(self, plan: RecordPlan) -> dict[int, dict[str, Any]]:
        """Resolve every item's key to record ids, then load (and lock) those rows at once."""
        key, live = plan.key, plan.live()
        matches: dict[int, list[int]] = {}
        if key.name == "id":
            for item in live:
                matches[item.index] = [item.key[0]]
        elif key.name == "sourceId":
            for item in live:
                owner = plan.pair_owner.get((item.key[1], item.key[0]))
                matches[item.index] = [owner] if owner is not None else []
        else:
            col, qualifier = self.column_keys[key.name]
            values = {item.key[0] for item in live}
            found: dict[str, list[tuple[str | None, int]]] = defaultdict(list)
            if values:
                columns = [col, "pk", *([qualifier] if qualifier else [])]
                rows = plain(self.model).filter(**{f"{col}__oneof": values}).values_list(*columns)
                for value, pk, *qual in rows:
                    found[value].append((qual[0] if qual else None, pk))
            for item in live:
                value, *quals = item.key
                wanted = quals[0] if quals else None
                matches[item.index] = [
                    pk for qual, pk in found.get(value, ()) if wanted is None or qual == wanted
                ]
        plan.extra["matches"] = matches
        ids = sorted({pk for pks in matches.values() for pk in pks})
        if not ids:
            return {}
        queryset = plain(self.model).filter(pk__oneof=ids).order_by("pk")
        if plan.lock:
            # Row locks in id order: concurrent requests touching the same rows queue up instead
            # of deadlocking, and the versions read here cannot change before the write.
            queryset = queryset.select_for_update()
        rows = {row["id"]: row for row in queryset.values(*self._read_columns())}
        if plan.lock and key.name in self.column_keys:
            col, qualifier = self.column_keys[key.name]
            for item in live:
                for pk in matches[item.index]:
                    row = rows.get(pk)
                    if row is not None and row[col] != item.key[0]:
                        raise Retry(f"{key.name} of {self.spec.label} {pk} changed meanwhile")
        return rows

    def _classify(self, plan: RecordPlan, rows: dict[int, dict[str, Any]]) -> None:
        label, key = self.spec.label, plan.key
        targets: dict[int, int] = {}
        for item in plan.live():
            found = [pk for pk in plan.extra["matches"].get(item.index, ()) if pk in rows]
            text = _key_text(item, key)
            if len(found) > 1:
                item.fail(self.multiple(f"Several {label.lower()}s match {text}; use another key."))
                continue
            if found:
                pk = found[0]
                item.id, item.stored = pk, rows[pk]
                if pk in targets:
                    item.fail(
                        errors.DuplicateItemInRequest(
                            f"Item {targets[pk]} of this request already writes {label.lower()} "
                            f"[{pk}] ({text})."
                        )
                    )
                    continue
                targets[pk] = item.index
                stored_version = item.stored["version"]
                if item.version is not None and item.version != stored_version:
                    item.fail(
                        errors.VersionConflict(
                            f"{label} with {text} is at version {stored_version}, "
                            f"not {item.version}; it was left unchanged."
                        )
                    )
                    continue
                item.result = "remove" if item.action == REMOVE else "update"
            elif item.action == REMOVE or not key.creates:
                item.fail(self.not_found(f"{label} with {text} not found."))
            elif item.version is not None:
                item.fail(
                    errors.VersionConflict(
                        f"{label} with {text} does not exist (version {item.version} expected)."
                    )
                )
            elif plan.directives.skip_create:
                item.result, item.reason = "skip", SKIP_CREATE
            else:
                item.result = "create"

    def _read_links(self, plan: RecordPlan) -> None:
        # removed records' links too: their change event is a tombstone with the last keys
        ids = [item.id for item in plan.live("update", "remove")]
        if not ids:
            return
        spec = self.spec
        owner = spec.source_model._meta.get_field(spec.source_owner_field).attname
        links = (
            plain(spec.source_model)
            .filter(**{f"{owner}__oneof": ids})
            .order_by("pk")
            .values_list("pk", "source", "source_id", owner)
        )
        for pk, source, source_id, owner_id in links:
            plan.links.setdefault(owner_id, []).append((pk, (source, source_id)))
        if plan.lock and plan.key.name == "sourceId":
            for item in plan.live("update"):
                pair = (item.key[1], item.key[0])
                if pair not in {p for _, p in plan.links.get(item.id, ())}:
                    raise Retry(f"source pair {pair} moved meanwhile")

    def new_row(self, plan: RecordPlan) -> dict[str, Any]:
        """A fresh row with every column's default (computed once per plan: modeltranslation's
        ``get_default`` switches the active language for each column)."""
        template = plan.extra.get("new_row")
        if template is None:
            template = {
                f.attname: f.get_default()
                for f in self.model._meta.concrete_fields
                if not f.primary_key
            }
            template.update(created_at=plan.now, last_modified_at=plan.now, version=1)
            plan.extra["new_row"] = template
        return dict(template)

    def _build_row(self, plan: RecordPlan, item: Item) -> None:
        data = item.data
        creating = item.result == "create"
        if creating:
            missing = [n for n in self.required_on_create if self._attr(n) not in data]
            if missing:
                item.fail(
                    errors.SchemaValidationException(
                        fields={n: ["This field is required to create a record."] for n in missing}
                    )
                )
                return
        skip = frozenset() if creating else plan.directives.skip_if_not_empty
        row = self.new_row(plan) if creating else dict(item.stored)
        for name in self.scalar_fields:
            if name not in data or (name in skip and not is_empty(row[name])):
                continue
            value = data[name]
            row[name] = "" if value is None and name in self.blank_when_null else value
        replace = plan.directives.replace_translations and not creating
        for base in self.spec.localized:
            values = data.get(base)
            if values is None:
                continue
            if base in skip:
                for language, value in values.items():
                    if is_empty(row[column(base, language)]):
                        row[column(base, language)] = value
                continue
            if replace:
                for language in settings.CATALOGUE_LANGUAGES:
                    if language not in values and not (
                        base == "name" and language == row["language"]
                    ):
                        row[column(base, language)] = None
            for language, value in values.items():
                row[column(base, language)] = value
        item.row = row
        if plan.key.name == "sourceId":
            self._key_pair_into_sources(item)

    def _attr(self, api_name: str) -> str:
        f = self.schema.fields[api_name]
        return f.attr or api_name

    @staticmethod
    def _key_pair_into_sources(item: Item) -> None:
        """The key pair is the item's source: with a ``sources`` list it must be in it."""
        source_id, source = item.key
        data = item.data
        if "sources" in data:
            if {"source": source, "sourceId": source_id} not in data["sources"]:
                item.fail(
                    errors.SchemaValidationException(
                        fields={
                            "sources": [
                                f"Must include the item's key (sourceId {source_id}, "
                                f"source {source})."
                            ]
                        }
                    )
                )
        else:
            data["source"], data["sourceId"] = source, source_id

    def _plan_sources(self, plan: RecordPlan) -> None:
        """Flat pair adds; ``sources`` is the full set (create) or replaces the set (update)."""
        label = self.spec.label
        skip = plan.directives.skip_if_not_empty
        for item in plan.live("create", "update"):
            data = item.data
            current = plan.links.get(item.id, []) if item.result == "update" else []
            if "sources" in data:
                wanted = [(s["source"], s["sourceId"]) for s in data["sources"]]
                replace = item.result == "update"
            elif "source" in data:
                wanted, replace = [(data["source"], data["sourceId"])], False
            else:
                continue
            if item.result == "update" and "sources" in skip and current:
                continue
            have = {pair for _, pair in current}
            new = [pair for pair in dict.fromkeys(wanted) if pair not in have]
            for source, source_id in new:
                owner = plan.pair_owner.get((source, source_id))
                earlier = plan.claims.get((source, source_id))
                if owner is not None and owner != item.id:
                    item.fail(
                        self.spec.exists_error(
                            f"{label} with sourceId [{source_id}] and source [{source}] "
                            "already exists."
                        )
                    )
                elif earlier is not None and earlier != item.index:
                    item.fail(
                        errors.DuplicateItemInRequest(
                            f"sourceId [{source_id}] and source [{source}] are already used by "
                            f"item {earlier} of this request."
                        )
                    )
            if not item.ok:
                continue
            for pair in new:
                plan.claims[pair] = item.index
            item.scratch["link_adds"] = new
            item.scratch["link_deletes"] = (
                [pk for pk, pair in current if pair not in set(wanted)] if replace else []
            )

    def _finish_rows(self, plan: RecordPlan) -> None:
        """The default-language name (10019), the sort name and the untranslated base columns."""
        default = settings.CATALOGUE_DEFAULT_LANGUAGE
        for item in plan.live("create", "update"):
            row = item.row
            name = row.get(column("name", row["language"]))
            if not name:
                item.fail(
                    errors.DefaultTranslationRequired(
                        f"names must contain the default language {row['language'].upper()}."
                    )
                )
                continue
            row["sort_name"] = name.lower()[:255]
            for base in self.spec.localized:
                # What modeltranslation's save() stores there: the default language's value.
                row[base] = row[column(base, default)]
            if self.search_document is not None:
                row["search_text"] = self.search_document(
                    SimpleNamespace(**row), self._source_ids(plan, item)
                )

    @staticmethod
    def _source_ids(plan: RecordPlan, item: Item) -> list[str]:
        """The item's source ids once this request is written (stored links kept, added)."""
        dropped = set(item.scratch.get("link_deletes", ()))
        kept = [pair[1] for pk, pair in plan.links.get(item.id, []) if pk not in dropped]
        return kept + [source_id for _, source_id in item.scratch.get("link_adds", ())]

    def _allocate_slugs(self, plan: RecordPlan) -> None:
        """Client slugs must be free; missing ones are generated from the name, ``-2``, ``-3``….

        One query per language for every slug the request needs (plus one more, rarely, when a
        name's numbered variants are all taken), instead of one per item.
        """
        if "slug" not in self.spec.localized:
            return
        label, model = self.spec.label, self.model
        for language in settings.CATALOGUE_LANGUAGES:
            slug_col, name_col = column("slug", language), column("name", language)
            client: list[tuple[Item, str]] = []
            generate: list[tuple[Item, str]] = []
            for item in plan.live("create", "update"):
                row, stored = item.row, item.stored
                slug = row[slug_col]
                if slug:
                    if stored is None or stored[slug_col] != slug:
                        client.append((item, slug))
                elif row[name_col]:
                    generate.append((item, slugify_text(row[name_col])))
            if not client and not generate:
                continue
            sharing: dict[str, int] = defaultdict(int)
            for _, base in generate:
                sharing[base] += 1
            candidates = {slug for _, slug in client}
            for base, count in sharing.items():
                candidates.update(_numbered(base, count + SLUG_SPARE))
            taken = dict(
                plain(model)
                .filter(**{f"{slug_col}__oneof": candidates})
                .values_list(slug_col, "pk")
            )
            exhausted = [
                base
                for base, count in sharing.items()
                if all(c in taken for c in _numbered(base, count + SLUG_SPARE))
            ]
            if exhausted:
                condition = Q(pk__in=[])
                for base in exhausted:
                    condition |= Q(**{f"{slug_col}__startswith": f"{base}-"})
                taken.update(plain(model).filter(condition).values_list(slug_col, "pk"))
            reserved: dict[str, int] = {}
            for item, slug in client:
                if not item.ok:
                    continue
                owner = taken.get(slug)
                if owner is not None and owner != item.id:
                    item.fail(
                        self.spec.exists_error(
                            f"{label} with slug [{slug}] in language {language.upper()} "
                            "already exists."
                        )
                    )
                elif slug in reserved:
                    item.fail(
                        errors.DuplicateItemInRequest(
                            f"Slug [{slug}] in language {language.upper()} is already used by "
                            f"item {reserved[slug]} of this request."
                        )
                    )
                else:
                    reserved[slug] = item.index
            for item, base in generate:
                if not item.ok:
                    continue
                candidate, n = base, 1
                while (taken.get(candidate, item.id) != item.id) or candidate in reserved:
                    n += 1
                    candidate = f"{base}-{n}"
                reserved[candidate] = item.index
                item.row[slug_col] = candidate

    def _decide_unchanged(self, plan: RecordPlan) -> None:
        ignored = set(BOOKKEEPING) | set(self.derived) | set(self.spec.localized)
        ignored |= set(self.structural)
        for item in plan.live("update"):
            row, stored = item.row, item.stored
            changed = (
                any(row[name] != stored[name] for name in stored if name not in ignored)
                or bool(item.scratch.get("link_adds") or item.scratch.get("link_deletes"))
                or self.extra_changed(item)
                or self.structure_changed(item)
            )
            if changed:
                row["version"] = stored["version"] + 1
                row["last_modified_at"] = plan.now
            else:
                item.result, item.reason, item.row = "skip", SKIP_UNCHANGED, None

    def structure_changed(self, item: Item) -> bool:
        return False

    def event_changes(self, plan: RecordPlan, item: Item) -> tuple[str | None, dict[str, Any]]:
        """The item's change event beyond its row (SPEC §19): an action (None: by result) and
        changes the row cannot show (a new parent in the tree, attributes)."""
        return None, item.scratch.get("changes", {})

    # --- write -------------------------------------------------------------------------------

    def write(self, plan: RecordPlan) -> None:
        columns = [f.attname for f in self.model._meta.concrete_fields if not f.primary_key]
        updates = sorted(self.rows_to_update(plan), key=lambda i: i.id)
        if updates:
            rows = [
                {**item.row, "expected_version": item.stored["version"], "id": item.id}
                for item in updates
            ]
            fixed = {"created_at", *self.structural}
            update_columns = [c for c in columns if c not in fixed]
            written = update_rows(self.model, update_columns, rows, guard="version")
            if len(written) != len(updates):
                raise Retry(f"{len(updates) - len(written)} {self.items_key} changed meanwhile")
        creates = plan.live("create")
        if creates:
            self._insert(creates, columns)
        self._write_links(plan)
        self.write_extra(plan)
        removes = self.records_to_delete(plan)
        if removes:
            with deleting(self.model, removes):  # a default product's cluster changes too
                delete_records(self.model, removes)
        record_bulk(self, plan)  # the change events, one statement

    def _insert(self, creates: list[Item], columns: list[str]) -> None:
        """Ids follow request order (and so the file in an import), but on PostgreSQL the rows go
        in sorted by their unique slugs, as the source links below go in sorted by key: two
        requests creating overlapping records then meet at their first shared slug — the later
        waits for the earlier, then retries on the conflict — instead of each holding a slug the
        other needs (a deadlock, which PostgreSQL breaks only after ``deadlock_timeout``)."""
        rows = cast(list[dict[str, Any]], [item.row for item in creates])  # planned: a row each
        if connection.vendor != "postgresql" or "slug" not in self.spec.localized:
            ids = insert_rows(self.model, columns, rows)
        else:
            ids = reserve_ids(self.model, len(rows))
            slugs = [column("slug", language) for language in settings.CATALOGUE_LANGUAGES]
            ordered = sorted(
                ({**row, "id": pk} for row, pk in zip(rows, ids, strict=True)),
                key=lambda row: tuple(row[slug] or "" for slug in slugs),
            )
            insert_rows(self.model, ["id", *columns], ordered)
        for item, pk in zip(creates, ids, strict=True):
            item.id = pk

    def _write_links(self, plan: RecordPlan) -> None:
        spec = self.spec
        owner = spec.source_model._meta.get_field(spec.source_owner_field).attname
        stale = [pk for item in plan.live() for pk in item.scratch.get("link_deletes", ())]
        if stale:
            delete_records(spec.source_model, stale)
        rows = [
            {"source": source, "source_id": source_id, owner: item.id}
            for item in plan.live("create", "update")
            for source, source_id in item.scratch.get("link_adds", ())
        ]
        if rows:
            rows.sort(key=lambda r: (r["source"], r["source_id"]))
            insert_rows(spec.source_model, ["source", "source_id", owner], rows)


def _numbered(base: str, count: int) -> list[str]:
    return [base] + [f"{base}-{n}" for n in range(2, count + 2)]


def _key_text(item: Item, key: BulkKey) -> str:
    parts = [
        f"{name} [{value}]" for name, value in zip(key.fields, item.key, strict=False) if value
    ]
    return " and ".join(parts)


def reference_text(ref: dict[str, Any]) -> str:
    if "id" in ref:
        return f"id [{ref['id']}]"
    return f"sourceId [{ref['sourceId']}] and source [{ref['source']}]"


def first_source_pairs(links: type[Model], owner: str, ids: Iterable[int]) -> dict[int, dict]:
    """Each owner's first source pair (in ``sorted_pairs`` order), keyed by the owner's id: how
    an export refers to another record so the file means the same in another database.
    ``links`` is the owner's source-link model, ``owner`` its foreign key (``"product"``)."""
    pairs: dict[int, list[dict[str, str]]] = defaultdict(list)
    rows = plain(links).filter(**{f"{owner}_id__oneof": ids})
    for owner_id, source, source_id in rows.values_list(f"{owner}_id", "source", "source_id"):
        pairs[owner_id].append({"sourceId": source_id, "source": source})
    return {pk: sorted_pairs(found)[0] for pk, found in pairs.items()}
