"""Schemathesis against the service's own OpenAPI document, in-process through WSGI, with a real
token holding every scope. The quick variant runs in the normal suite; ``make fuzz`` runs the full
one (``FUZZ_EXAMPLES=100``)."""

from __future__ import annotations

import os

import pytest
import schemathesis
from django.core.cache import cache
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.core.failures import FailureGroup

from catalogue.models import Product
from clusters.models import Cluster, ClusterConfig
from config.api.openapi import build_schema
from config.wsgi import application
from taxonomy.models import Category
from tests.api.documents import objects, operations

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "2"))


def fuzzable(document: dict) -> dict:
    """The document less two inputs no generator can get right, in every phase (the coverage
    phase does not run the ``map_*`` hooks):

    - ``cursor`` (the query parameter and the search bodies' property): a cursor is opaque and
      only ever comes from a previous page's ``nextCursor``, so any generated one is malformed
      (400 10015, covered by the pagination tests);
    - a search body's ``sort`` holds one item: a field named twice is refused (400 10007), and
      "unique by ``field``" cannot be said in JSON Schema (multi-field sorts: the search tests);
    - ``page`` and ``offset``, the reference API's paging: not with ``pageSize`` and at most
      10,000 rows deep (``page`` × ``offset``), rules across parameters that OpenAPI 3.1 cannot
      say (400 10015, covered on every list by tests/api/test_reference_paging.py);
    - the ``Idempotency-Key`` header: a key names one request, and a generator reuses its
      values ("0") across different ones, which the service rightly refuses (422 10023; covered
      by tests/api/test_idempotency.py).
    """

    for operation in operations(document):
        operation["parameters"] = [
            p
            for p in operation.get("parameters", [])
            if p["name"] not in ("cursor", "page", "offset", "Idempotency-Key")
        ]
    # the search bodies are components, referenced by their operations
    for node in objects(document["components"]["schemas"]):
        properties = node.get("properties", {})
        if "term" in properties:
            properties.pop("cursor", None)
        if properties.get("sort", {}).get("type") == "array":
            properties["sort"]["maxItems"] = 1
    return document


# the document /v2/schema serves (made fuzzable), called in-process through WSGI
schema = schemathesis.openapi.from_dict(fuzzable(build_schema()))
schema.app = application


#: Operations where schemathesis still finds schema-valid data the service refuses, because the
#: rule cannot be said in OpenAPI 3.1 / JSON Schema (see docs/testing.md, "Fuzzing"). Run, reported, not hidden.
KNOWN_GAPS = {
    "POST /v2/products": "a localized list holds one entry per language (unique by a property); "
    "the default-language name is in the document since 2026-12-04",
    "POST /v2/categories": "the same as products",
    "POST /v2/clusters": "the same as products",
    "POST /v2/clusterconfigs": "settings must not name an attribute twice (unique by a property)",
    "POST /v2/products/bulk/{lookupKey}": "items must carry the URL's lookup key (10016); a "
    "create needs the default-language name, an update not: it depends on stored records",
    "POST /v2/categories/bulk/{lookupKey}": "the same as products",
    "POST /v2/clusters/bulk/{lookupKey}": "the same as products",
    "GET /v2/changes": "recordId needs exactly one entity: a rule between two query parameters",
    "POST /v2/webhooks": "the URL's host must resolve to a public address (422 10029): DNS, not "
    "a schema rule",
    "PATCH /v2/webhooks/{webhook_id}": "the same as POST /v2/webhooks",
    "POST /v2/imports": "the lookup keys depend on the entity (a rule between two query "
    "parameters), and directives is JSON inside a query parameter",
}


@pytest.fixture(autouse=True)
def keep_test_connection():
    """Like Django's test client: the WSGI app must not close the test's connection at the end
    of each request (an in-memory SQLite database lives only as long as its connection).

    The fuzz tests use ``transactional_db``: each request commits on its own, as in production,
    so on PostgreSQL one refused statement does not abort a transaction every later example
    shares (the tables are flushed after each test)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def run(case, token: str) -> None:
    cache.clear()  # the rate limit counts fuzz requests too
    case.call_and_validate(headers={"Authorization": f"Bearer {token}"})


FUZZ_SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=os.environ.get("FUZZ_RANDOM") != "1",
    suppress_health_check=list(HealthCheck),
)


@pytest.mark.fuzz
@schema.exclude(name=list(KNOWN_GAPS)).parametrize()
@FUZZ_SETTINGS
def test_openapi_contract(case, transactional_db, api):
    run(case, api.token)


@pytest.mark.fuzz
@pytest.mark.xfail(reason="documented gaps: rules OpenAPI 3.1 cannot express", strict=False)
@schema.include(name=list(KNOWN_GAPS)).parametrize()
@FUZZ_SETTINGS
def test_openapi_contract_known_gaps(case, transactional_db, api):
    run(case, api.token)


def one_entry_per_key(body):
    """``body`` less the entries that break a KNOWN_GAPS rule "unique by a property", which the
    stateful phase reaches through a create's link (it sent ``fr`` and ``fR`` in one product's
    names: 400, rightly): per list of objects, one entry per ``language`` (any case) and per
    ``attributeName`` (a config's settings). Of the entries of one language it keeps one with a
    text ``value`` if there is one, so the body still holds what the document's rules demand
    (the default-language name) and stays valid against it; every other entry is kept as
    generated. The contract phase keeps the raw bodies (KNOWN_GAPS, reported as xfail)."""
    if isinstance(body, dict):
        return {key: one_entry_per_key(value) for key, value in body.items()}
    if not isinstance(body, list):
        return body
    items = [one_entry_per_key(item) for item in body]
    for key in ("language", "attributeName"):
        if not all(isinstance(item, dict) and isinstance(item.get(key), str) for item in items):
            continue
        chosen: dict[str, int] = {}
        for index, item in enumerate(items):
            seen = chosen.setdefault(item[key].lower(), index)
            if isinstance(item.get("value"), str) and not isinstance(items[seen].get("value"), str):
                chosen[item[key].lower()] = index
        items = [items[index] for index in sorted(chosen.values())]
    return items


#: steps per stateful scenario, scenarios per run (``make fuzz``: FUZZ_STATEFUL_EXAMPLES=100)
STATEFUL_EXAMPLES = int(os.environ.get("FUZZ_STATEFUL_EXAMPLES", "3"))


@pytest.mark.fuzz
def test_openapi_stateful_links(transactional_db, api):
    """Schemathesis' stateful phase: it creates records and follows the document's links
    (create → get, patch, delete, move, sub-collections of the new record by its id), checking
    every answer with the same default checks. It found a 500 (ids beyond bigint) and wrong
    schemas (a config's name in PATCH, search bodies' date filters, statuses and ids), all
    fixed. A create reached through a link can break a KNOWN_GAPS rule "unique by a property"
    (two entries of one language): ``one_entry_per_key`` keeps such bodies to one entry per
    key before each call, here only."""

    class Workflow(schema.as_state_machine()):
        def teardown(self):
            """Each scenario starts from an empty catalogue: hypothesis replays a failing one
            to shrink it, and must see the same answers (else FlakyStrategyDefinition)."""
            for model in (Product, Cluster, ClusterConfig, Category):
                model.objects.all().delete()

        def before_call(self, case):
            case.body = one_entry_per_key(case.body)

        def get_call_kwargs(self, case):
            cache.clear()  # the rate limit counts fuzz requests too
            return {"headers": {"Authorization": f"Bearer {api.token}"}}

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            """Schemathesis' known false positive (schemathesis#4332): a negative case whose
            shrinking removed the only invalid part — here every part: no body for an optional
            body, no parameters — is still reported as "schema-violating request accepted".
            Such a request is valid; only that one report is dropped."""
            try:
                super().validate_response(response, case, additional_checks, **kwargs)
            except FailureGroup as group:
                if not (_emptied_negative(case) and _only_accepted_negative(group)):
                    raise

    Workflow.run(
        settings=settings(
            max_examples=STATEFUL_EXAMPLES,
            stateful_step_count=6,
            deadline=None,
            derandomize=os.environ.get("FUZZ_RANDOM") != "1",
            suppress_health_check=list(HealthCheck),
        )
    )


def _emptied_negative(case) -> bool:
    body = case.operation.definition.raw.get("requestBody", {})
    return (
        case.body is None
        and not body.get("required", False)
        and not case.query
        and not case.path_parameters
        and not {k for k in (case.headers or {}) if k.lower() != "authorization"}
    )


def _only_accepted_negative(group: FailureGroup) -> bool:
    return all(type(failure).__name__ == "AcceptedNegativeData" for failure in group.exceptions)


def test_the_stateful_bodies_keep_one_entry_per_language_and_a_text_where_there_is_one():
    body = {
        "names": [
            {"language": "fr", "value": None},
            {"language": "en", "value": "Shirt"},
            {"language": "fR", "value": "Chemise"},
            {"language": "EN", "value": "Other"},
        ],
        "settings": [{"attributeName": "SIZE"}, {"attributeName": "SIZE", "priority": 2}],
        "attributes": [{"name": "a", "value": 1}, {"name": "a", "value": 2}],
        "sources": [],
    }
    assert one_entry_per_key(body) == {
        "names": [{"language": "en", "value": "Shirt"}, {"language": "fR", "value": "Chemise"}],
        "settings": [{"attributeName": "SIZE"}],
        "attributes": [{"name": "a", "value": 1}, {"name": "a", "value": 2}],
        "sources": [],
    }
