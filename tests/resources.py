"""A declared API test base (NetBox's ``APIViewTestCase`` idea, in pytest style).

A resource's test module declares what is particular to it — routes, lookup keys, payloads, scopes,
the statements its reads and bulk writes cost — in one :class:`Resource`, and gets the tests every
record resource must pass from :class:`ResourceTests` (plus :class:`BulkResourceTests` when it
declares a bulk route)::

    PRODUCT = Resource(noun="Product", collection="/v2/products", scope="products", ...)
    TestProductResource = resource_tests(PRODUCT)

The generated tests cover create, read by every lookup key, update, delete, the list, the error
envelope, the scopes and the statement counts. What only one resource does stays a plain test
beside its declaration.

Routes are ``str.format`` templates over the resource's *context* (what :attr:`Resource.context`
builds, e.g. the cluster an option lives in) plus ``row`` (the record under test) in costs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any, ClassVar, TypeVar
from urllib.parse import urlencode

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.conftest import ApiClient, envelope_error

Context = SimpleNamespace
T = TypeVar("T")
UNKNOWN_KEY = 10006
INSUFFICIENT_SCOPE = 10002
PRECONDITION_FAILED = 10009


@dataclass(frozen=True)
class Lookup:
    """A lookup key: ``{detail}/{key}/{value}?{params}`` finds the record ``create`` made.
    ``value=None`` means the record's id."""

    key: str
    value: str | None = None
    params: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Cost:
    """The statements one request costs, token lookup included, once the process is warm.

    ``path`` is formatted with the context and ``row`` (the record :attr:`Resource.seed` returns);
    the count must be exactly ``statements`` both after a small and after a larger seed, so it
    neither grows with the rows nor drifts unnoticed. ``check`` asserts the response carries the
    related data the count is about (a count over empty relations proves nothing)."""

    label: str
    path: str
    statements: int
    params: Mapping[str, str] = field(default_factory=dict)
    check: Callable[[dict], bool] | None = None


@dataclass(frozen=True)
class BulkCost:
    """``POST {path}`` with ``{key: [item(i, ctx) for i in range(n)]}`` costs the same whatever
    ``n`` is (the set-based bulk path), and at most ``statements`` (PostgreSQL adds its deferred
    constraint checks, so the two databases differ)."""

    path: str
    key: str
    item: Callable[[int, Context], dict]
    statements: int
    sizes: tuple[int, int] = (2, 200)


@dataclass(frozen=True)
class Resource:
    noun: str  # "Cluster config": messages say "Cluster config created"
    collection: str  # where create posts and the list reads (a template over the context)
    scope: str  # "products": reads need products:read, writes products:write
    not_found: int  # the error code of a missing record
    create: Callable[[Context], dict]
    created: Callable[[Context], dict]  # fields of the created record, exactly
    update: dict  # a PATCH body that changes the record but none of its lookup values
    updated: dict  # fields after that PATCH, exactly
    lookups: tuple[Lookup, ...]  # besides ``id``, which every record has
    seed: Callable[[Context, int], Any]  # n records with their related rows; returns the last
    costs: tuple[Cost, ...]
    detail: str = ""  # the base of ``{detail}/{key}/{value}`` when it is not the collection
    context: Callable[[], Context] = Context
    absent: tuple[str, ...] = ()  # fields the representation must not have
    sorts: tuple[str, ...] = ()  # ``sort`` values the list pages walk besides the default
    translation: str = ""  # a language of the created record that ``/translation/{lang}`` removes
    translated: dict = field(default_factory=dict)  # more texts to create that record with
    bulk: BulkCost | None = None

    @property
    def scopes(self) -> tuple[str, str]:
        return f"{self.scope}:read", f"{self.scope}:write"

    @property
    def detail_base(self) -> str:
        return self.detail or self.collection

    @property
    def every_lookup(self) -> tuple[Lookup, ...]:
        return (Lookup("id"), *self.lookups)

    def post(self, api: ApiClient, ctx: Context, **overrides: Any) -> dict:
        """Creates the declared record (with ``overrides``) and returns its representation."""
        response = api.post(path_of(self.collection, ctx), {**self.create(ctx), **overrides})
        assert response.status_code == 201, response.content
        return response.json()["data"]


def localized(**values: str | None) -> list[dict]:
    """``localized(EN="Shoe", NL="Schoen")``: a localized string list of the API."""
    return [{"language": language, "value": value} for language, value in values.items()]


def shape(value: Any) -> Any:
    """``value`` without the ids of list items (settings, links): a declaration cannot know them."""
    if isinstance(value, list):
        return [
            {k: shape(v) for k, v in item.items() if k != "id"} if isinstance(item, dict) else item
            for item in value
        ]
    return value


def shape_all(fields: dict) -> dict:
    return {name: shape(value) for name, value in fields.items()}


def fields_of(data: dict, expected: dict) -> dict:
    return {name: shape(data[name]) for name in expected}


def many_sourced(body: dict) -> bool:
    """A page of more than two rows, each with its sources (a check for :class:`Cost`)."""
    return len(body["data"]) > 2 and all(row["sources"] for row in body["data"])


def path_of(template: str, ctx: Context, **extra: Any) -> str:
    return template.format(**vars(ctx), **extra)


def url(path: str, params: Mapping[str, str]) -> str:
    return f"{path}?{urlencode(params)}" if params else path


def statements_of(call: Callable[[], T]) -> tuple[int, T]:
    """The statements of one ``call()`` after a first call warmed the process, and its result.

    The warm-up makes the count independent of what ran before in this worker (per-process state
    filled lazily on first use, whichever test that is under xdist) and of time; only the request
    under test is counted."""
    call()
    with CaptureQueriesContext(connection) as captured:
        result = call()
    return len(captured.captured_queries), result


class ResourceTests:
    """The tests every record resource passes; subclasses set :attr:`resource`."""

    resource: ClassVar[Resource]

    def pytest_generate_tests(self, metafunc: pytest.Metafunc) -> None:
        res = self.resource
        if "lookup" in metafunc.fixturenames:
            lookups = res.every_lookup
            ids = [f"{lk.key}-{'-'.join(lk.params.values()) or 'plain'}" for lk in lookups]
            metafunc.parametrize("lookup", lookups, ids=ids)
        if "cost" in metafunc.fixturenames:
            metafunc.parametrize("cost", res.costs, ids=[c.label for c in res.costs])

    # -- helpers ----------------------------------------------------------------------------

    @pytest.fixture
    def ctx(self, db) -> Context:
        return self.resource.context()

    def created_record(self, api: ApiClient, ctx: Context) -> dict:
        return self.resource.post(api, ctx)

    def id_path(self, record_id: int | str) -> str:
        return f"{self.resource.detail_base}/id/{record_id}"

    # -- create -----------------------------------------------------------------------------

    def test_create_returns_201_envelope_location_and_etag(self, api, ctx):
        res = self.resource
        response = api.post(path_of(res.collection, ctx), res.create(ctx))
        assert response.status_code == 201, response.content
        body = response.json()
        assert set(body) == {"data", "messages"}
        data = body["data"]
        assert body["messages"] == [f"{res.noun} created"]
        assert response["Location"].endswith(self.id_path(data["id"]))
        assert response["ETag"] == '"1"' and data["version"] == 1
        assert data["createdAt"].endswith("Z") and len(data["createdAt"]) == 24
        expected = res.created(ctx)
        assert fields_of(data, expected) == shape_all(expected)
        assert not set(res.absent) & set(data), data

    # -- lookups ----------------------------------------------------------------------------

    def test_every_lookup_key_reads_updates_and_deletes_the_record(self, api, ctx, lookup):
        res = self.resource
        created = self.created_record(api, ctx)
        path = url(f"{res.detail_base}/{lookup.key}/{lookup.value or created['id']}", lookup.params)
        response = api.get(path)
        assert response.status_code == 200, response.content
        body = response.json()
        assert body["messages"] == [] and body["data"]["id"] == created["id"]
        if "language" not in lookup.params:  # ?language= narrows the localized fields
            assert body["data"] == created
        assert response["ETag"] == '"1"'
        patched = api.patch(path, res.update)
        assert patched.status_code == 200, patched.content
        assert patched.json()["data"]["version"] == 2
        assert api.delete(path).status_code == 200
        envelope_error(api.get(path), 404, res.not_found)

    def test_missing_record_is_404_and_unknown_key_is_400(self, api, ctx):
        res = self.resource
        self.created_record(api, ctx)
        error = envelope_error(api.get(self.id_path(999999)), 404, res.not_found)
        assert error["messages"] == [f"{res.noun} with id [999999] not found."]
        for impossible in ("abc", "0", str(2**70)):  # no row can have these ids
            envelope_error(api.get(self.id_path(impossible)), 404, res.not_found)
        envelope_error(api.get(f"{res.detail_base}/nokey/x"), 400, UNKNOWN_KEY)

    # -- update -----------------------------------------------------------------------------

    def test_patch_changes_bumps_version_and_a_repeat_changes_nothing(self, api, ctx):
        res = self.resource
        created = self.created_record(api, ctx)
        path = self.id_path(created["id"])
        response = api.patch(path, res.update, headers={"If-Match": '"1"'})
        assert response.status_code == 200, response.content
        body = response.json()
        assert body["messages"] == [f"{res.noun} updated"]
        data = body["data"]
        assert fields_of(data, res.updated) == shape_all(res.updated)
        assert data["version"] == 2 and response["ETag"] == '"2"'
        untouched = set(created) - set(res.update) - {"version", "lastModifiedAt", "slugs"}
        assert {k: data[k] for k in untouched} == {k: created[k] for k in untouched}
        again = api.patch(path, res.update).json()["data"]
        assert again["version"] == 2 and again["lastModifiedAt"] == data["lastModifiedAt"]

    def test_stale_if_match_is_412_and_changes_nothing(self, api, ctx):
        created = self.created_record(api, ctx)
        path = self.id_path(created["id"])
        stale = {"If-Match": '"7"'}
        envelope_error(
            api.patch(path, self.resource.update, headers=stale), 412, PRECONDITION_FAILED
        )
        envelope_error(api.delete(path, headers=stale), 412, PRECONDITION_FAILED)
        assert api.get(path).json()["data"] == created

    # -- delete -----------------------------------------------------------------------------

    def test_delete_returns_empty_data_and_the_record_is_gone(self, api, ctx):
        res = self.resource
        created = self.created_record(api, ctx)
        path = self.id_path(created["id"])
        response = api.delete(path, headers={"If-Match": '"1"'})
        assert response.status_code == 200
        assert response.json() == {"data": {}, "messages": [f"{res.noun} deleted"]}
        envelope_error(api.get(path), 404, res.not_found)
        envelope_error(api.delete(path), 404, res.not_found)

    # -- list -------------------------------------------------------------------------------

    def test_list_pages_walk_every_record_once_and_count_them(self, api, ctx):
        res = self.resource
        res.seed(ctx, 5)
        collection = path_of(res.collection, ctx)
        everything = api.get(collection, {"pageSize": 100, "withCount": "true"}).json()
        assert set(everything) == {"data", "messages", "pagination"}
        ids = [row["id"] for row in everything["data"]]
        assert len(ids) == len(set(ids)) == everything["pagination"]["total"] >= 5
        for sort in ("", *res.sorts):
            params = {"pageSize": "2", **({"sort": sort} if sort else {})}
            seen, next_url = [], url(collection, params)
            while next_url:
                page = api.get(next_url).json()
                assert len(page["data"]) <= 2
                seen += [row["id"] for row in page["data"]]
                next_url = page["pagination"]["next"]
            if sort:  # another order still visits every record once
                assert sorted(seen) == sorted(ids), sort
            else:
                assert seen == ids

    # -- scopes -----------------------------------------------------------------------------

    def test_read_scope_reads_and_write_scope_is_needed_to_write(self, client_with_scopes, ctx):
        res = self.resource
        read, write = res.scopes
        record = self.created_record(client_with_scopes(read, write), ctx)
        reader = client_with_scopes(read)
        assert reader.get(path_of(res.collection, ctx)).status_code == 200
        assert reader.get(self.id_path(record["id"])).status_code == 200
        refused = reader.post(path_of(res.collection, ctx), res.create(ctx))
        assert write in envelope_error(refused, 403, INSUFFICIENT_SCOPE)["messages"][0]
        refused = reader.patch(self.id_path(record["id"]), res.update)
        envelope_error(refused, 403, INSUFFICIENT_SCOPE)
        writer = client_with_scopes(write)
        refused = writer.get(self.id_path(record["id"]))
        assert read in envelope_error(refused, 403, INSUFFICIENT_SCOPE)["messages"][0]

    # -- statement counts -------------------------------------------------------------------

    def test_statement_count(self, api, ctx, cost):
        res = self.resource
        counts = []
        for n in (2, 12):
            row = res.seed(ctx, n)
            path = path_of(cost.path, ctx, row=row)

            def call(path=path):
                response = api.get(path, cost.params)
                assert response.status_code == 200, response.content
                return response.json()

            count, body = statements_of(call)
            counts.append(count)
            if cost.check is not None:
                assert cost.check(body), f"{cost.label}: the seed left the relations empty"
        assert counts == [cost.statements] * 2, f"{cost.label}: {counts}"


class BulkResourceTests(ResourceTests):
    """:class:`ResourceTests` plus the statement count of the resource's bulk route."""

    def test_bulk_statement_count_does_not_grow_with_the_items(self, api, ctx):
        bulk = self.resource.bulk
        assert bulk is not None
        path = path_of(bulk.path, ctx)

        def post(first: int, n: int) -> None:
            items = [bulk.item(first + i, ctx) for i in range(n)]
            response = api.post(path, {bulk.key: items})
            assert response.status_code == 200, response.content
            assert response.json()["summary"]["create"] == n, response.json()["summary"]

        post(0, 1)  # warms the process (see statements_of)
        counts = []
        for first, n in zip((10_000, 20_000), bulk.sizes, strict=True):
            with CaptureQueriesContext(connection) as captured:
                post(first, n)
            counts.append(len(captured.captured_queries))
        assert counts[0] == counts[1] <= bulk.statements, counts


class TranslatedResourceTests(ResourceTests):
    """:class:`ResourceTests` plus removing one language's texts of a record."""

    def test_translation_removal_drops_every_text_in_that_language(self, api, ctx):
        res = self.resource
        language = res.translation.upper()
        created = res.post(api, ctx, **res.translated)
        base = f"{self.id_path(created['id'])}/translation"
        response = api.delete(f"{base}/{language}")
        assert response.status_code == 200, response.content
        assert response.json()["messages"] == ["Translation deleted"]
        data = response.json()["data"]
        texts = [name for name, value in created.items() if is_localized(value)]
        assert any(t["language"] == language for name in texts for t in created[name])
        for name in texts:
            assert data[name] == [t for t in created[name] if t["language"] != language], name
        assert data["version"] == 2
        envelope_error(api.delete(f"{base}/{language.lower()}"), 404, 10018)
        envelope_error(api.delete(f"{base}/{created.get('language', 'EN').lower()}"), 422, 10019)
        envelope_error(api.delete(f"{base}/xx"), 400, 10007)
        envelope_error(api.delete(f"{self.id_path(999999)}/translation/nl"), 404, res.not_found)


def is_localized(value: Any) -> bool:
    return isinstance(value, list) and all(
        isinstance(item, dict) and set(item) == {"language", "value"} for item in value
    )


def resource_tests(resource: Resource) -> type[ResourceTests]:
    """The generated test class of ``resource``: ``TestProductResource = resource_tests(PRODUCT)``."""
    bases = (
        *([BulkResourceTests] if resource.bulk else []),
        *([TranslatedResourceTests] if resource.translation else []),
    ) or (ResourceTests,)
    name = f"Test{resource.noun.title().replace(' ', '')}Resource"
    return type(name, bases, {"resource": resource})
