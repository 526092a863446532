"""Error hygiene: a failing database and an unexpected exception answer the 500 envelope with the
request id and nothing internal; ``check --deploy`` is clean with production settings."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from unittest import mock

import pytest
from django.db import OperationalError, connection

from config.api.routing import api_views
from tests.api.test_mass_assignment import url_for, world  # noqa: F401  (fixture)
from tests.conftest import envelope_error

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]
LEAKS = ("Traceback", "SELECT", "INSERT", "UPDATE ", "secret-internals", ".py", "psycopg", "sqlite")


def assert_clean_500(response) -> None:
    error = envelope_error(response, 500, 10021)
    assert error["type"] == "InternalError"
    assert re.fullmatch(r"[0-9a-f]{32}|[A-Za-z0-9._:-]+", error["requestId"])
    body = response.content.decode()
    for leak in LEAKS:
        assert leak not in body, (leak, body)


def broken_table(table: str):
    """A database that fails every statement on ``table`` (as a dropped or locked table would)."""

    def execute(run, sql, params, many, context):
        if table in sql:
            raise OperationalError(f"secret-internals: could not run {sql} with {params}")
        return run(sql, params, many, context)

    return connection.execute_wrapper(execute)


DB_FAILURES = [
    ("GET", "/v2/products", None, "catalogue_product"),
    ("GET", "/v2/products/{lookup_key}/{lookup_value}", None, "catalogue_product"),
    ("POST", "/v2/products", {"names": [{"language": "EN", "value": "Shoe"}]}, "catalogue_product"),
    ("PATCH", "/v2/products/{lookup_key}/{lookup_value}", {"sku": "X"}, "catalogue_product"),
    ("GET", "/v2/categories", None, "taxonomy_category"),
    (
        "POST",
        "/v2/categories",
        {"names": [{"language": "EN", "value": "Shoes"}]},
        "taxonomy_category",
    ),
    ("POST", "/v2/products/bulk/sku", {"products": [{"sku": "A"}]}, "catalogue_product"),
    ("GET", "/v2/clusters", None, "clusters_cluster"),
    ("POST", "/v2/products/search", {"term": "shoe"}, "catalogue_product"),
]


@pytest.mark.parametrize(("method", "path", "body", "table"), DB_FAILURES)
def test_database_error_is_clean_500(api, world, method, path, body, table):  # noqa: F811
    url = url_for(path, world)
    with broken_table(table):
        if method in ("GET", "DELETE"):
            response = getattr(api, method.lower())(url)
        else:
            response = getattr(api, method.lower())(url, body)
    assert_clean_500(response)


def every_operation():
    for path, view in api_views():
        for method, op in view.operations.items():
            if op.scopes:
                yield pytest.param(method, path, id=f"{method} {path}")


@pytest.mark.parametrize(("method", "path"), list(every_operation()))
def test_unexpected_exception_is_clean_500_on_every_operation(api, world, method, path):  # noqa: F811
    url = url_for(path, world)
    boom = RuntimeError("secret-internals in /srv/app/config/x.py: SELECT * FROM oauth")
    # the per-client rate budget runs inside every view, after authentication and scopes
    with mock.patch("config.api.routing.request_budget", side_effect=boom):
        if method in ("GET", "DELETE"):
            response = getattr(api, method.lower())(url)
        else:
            response = getattr(api, method.lower())(url, {})
    assert_clean_500(response)


def test_check_deploy_is_clean_with_production_settings(tmp_path):
    """HSTS and the HTTPS redirect are on by default: only what every deployment sets anyway."""
    env = {
        **{
            k: v
            for k, v in os.environ.items()
            if k not in ("DEBUG", "TESTING") and not k.startswith("SECURE_")
        },
        "DEBUG": "0",
        "ENV_FILE": "",
        "SECRET_KEY": "k7#Qp2v!xR9m$Lw4zT8n&Yb6Hc1Jd5Fg3Ks0Ae-Ui_Oo+Pl=Mn",
        "ALLOWED_HOSTS": "catalogue.example.com",
        "REDIS_URL": "redis://127.0.0.1:6379/2",  # shared limits (api.E002); check connects to none
        "DJANGO_SETTINGS_MODULE": "config.settings",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout, result.stdout


def test_unsafe_method_to_no_route_is_json_404_even_with_csrf_enforced(api):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    for method in ("post", "patch", "delete"):
        response = getattr(client, method)(
            "/v2/clusters/id/1/options/not-a-number",
            headers={"Authorization": f"Bearer {api.token}"},
        )
        envelope_error(response, 404, 10008)
