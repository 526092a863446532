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
      "unique by ``field``" cannot be said in OpenAPI 3.0 (multi-field sorts: the search tests);
    - ``page`` and ``offset``, the reference API's paging: not with ``pageSize`` and at most
      10,000 rows deep (``page`` × ``offset``), rules across parameters that OpenAPI 3.0 cannot
      say (400 10015, covered on every list by tests/api/test_reference_paging.py).
    """

    for operation in operations(document):
        operation["parameters"] = [
            p
            for p in operation.get("parameters", [])
            if p["name"] not in ("cursor", "page", "offset")
        ]
        for node in objects(operation.get("requestBody", {})):
            properties = node.get("properties", {})
            properties.pop("cursor", None)
            if properties.get("sort", {}).get("type") == "array":
                properties["sort"]["maxItems"] = 1
    return document


# the document /v2/schema serves (made fuzzable), called in-process through WSGI
schema = schemathesis.openapi.from_dict(fuzzable(build_schema()))
schema.app = application


#: Operations where schemathesis still finds schema-valid data the service refuses, because the
#: rule cannot be said in OpenAPI 3.0 (see docs/testing.md, "Fuzzing"). Run, reported, not hidden.
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
@pytest.mark.xfail(reason="documented gaps: rules OpenAPI 3.0 cannot express", strict=False)
@schema.include(name=list(KNOWN_GAPS)).parametrize()
@FUZZ_SETTINGS
def test_openapi_contract_known_gaps(case, transactional_db, api):
    run(case, api.token)


#: steps per stateful scenario, scenarios per run (``make fuzz``: FUZZ_STATEFUL_EXAMPLES=100)
STATEFUL_EXAMPLES = int(os.environ.get("FUZZ_STATEFUL_EXAMPLES", "3"))


@pytest.mark.fuzz
def test_openapi_stateful_links(transactional_db, api):
    """Schemathesis' stateful phase: it creates records and follows the document's links
    (create → get, patch, delete, move, sub-collections of the new record by its id), checking
    every answer with the same default checks. It found a 500 (ids beyond bigint) and wrong
    schemas (a config's name in PATCH, search bodies' date filters, statuses and ids), all
    fixed. With the fixed seeds it passes (100 scenarios, SQLite and PostgreSQL); other seeds
    (``FUZZ_RANDOM=1``) can reach a KNOWN_GAPS rule through a create's link."""

    class Workflow(schema.as_state_machine()):
        def teardown(self):
            """Each scenario starts from an empty catalogue: hypothesis replays a failing one
            to shrink it, and must see the same answers (else FlakyStrategyDefinition)."""
            for model in (Product, Cluster, ClusterConfig, Category):
                model.objects.all().delete()

        def get_call_kwargs(self, case):
            cache.clear()  # the rate limit counts fuzz requests too
            return {"headers": {"Authorization": f"Bearer {api.token}"}}

    Workflow.run(
        settings=settings(
            max_examples=STATEFUL_EXAMPLES,
            stateful_step_count=6,
            deadline=None,
            derandomize=os.environ.get("FUZZ_RANDOM") != "1",
            suppress_health_check=list(HealthCheck),
        )
    )
