from __future__ import annotations

import base64
from typing import Any

import orjson
import pytest
from django.db import connection
from django.test import Client

from config.api.scopes import ALL_SCOPES
from integrations.oauth import create_api_client
from tests.api.documents import check_response


class ApiClient:
    """Django's test client speaking JSON with a real bearer token."""

    def __init__(self, token: str | None = None, client_id: str = "", secret: str = ""):
        self.token, self.client_id, self.secret = token, client_id, secret
        self.http = Client()

    def _headers(self, headers: dict | None) -> dict:
        merged = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        merged.update(headers or {})
        return merged

    def get(self, path: str, params: dict | None = None, headers: dict | None = None):
        response = self.http.get(path, params or {}, headers=self._headers(headers))
        check_response("get", response)
        return response

    def _send(self, method: str, path: str, data: Any, headers: dict | None):
        payload = data if isinstance(data, bytes | str) else orjson.dumps(data)
        response = getattr(self.http, method)(
            path, payload, content_type="application/json", headers=self._headers(headers)
        )
        check_response(method, response)
        return response

    def post(self, path: str, data: Any = None, headers: dict | None = None):
        return self._send("post", path, {} if data is None else data, headers)

    def patch(self, path: str, data: Any = None, headers: dict | None = None):
        return self._send("patch", path, {} if data is None else data, headers)

    def delete(self, path: str, headers: dict | None = None):
        response = self.http.delete(path, headers=self._headers(headers))
        check_response("delete", response)
        return response


def issue_token(client_id: str, secret: str, scope: str | None = None) -> dict:
    basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    form = {"grant_type": "client_credentials"}
    if scope is not None:
        form["scope"] = scope
    response = Client().post("/oauth2/token/", form, headers={"Authorization": f"Basic {basic}"})
    assert response.status_code == 200, response.content
    return response.json()


@pytest.fixture
def client_with_scopes(db):
    """``client_with_scopes("products:read", …)``: a client whose token came from /oauth2/token/."""

    def make(*scopes: str) -> ApiClient:
        application, secret = create_api_client(name="test", scopes=list(scopes))
        token = issue_token(application.client_id, secret)["access_token"]
        return ApiClient(token, application.client_id, secret)

    return make


@pytest.fixture
def api(client_with_scopes) -> ApiClient:
    """A client holding every scope."""
    return client_with_scopes(*ALL_SCOPES)


@pytest.fixture
def anonymous(db) -> ApiClient:
    return ApiClient()


@pytest.fixture
def shelf(db):
    """Categories Root > Shoes > Boots, and Other (``tests.taxonomy.members``)."""
    from tests.taxonomy.members import build_shelf

    return build_shelf()


@pytest.fixture
def stocked(request, shelf):
    """Members of the test module's ``KIND`` in the shelf's categories (``members.stock``)."""
    from tests.taxonomy.members import stock

    return stock(request.module.KIND, shelf)


def pytest_collection_modifyitems(config, items):
    if connection.vendor == "postgresql":
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL (run with DATABASE_URL=postgres://…)")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


def envelope_error(response, status: int, code: int) -> dict:
    """Assert the error envelope of SPEC §4 and return the error object."""
    assert response.status_code == status, response.content
    body = response.json()
    error = body["error"]
    assert error["status"] == status
    assert error["code"] == code, error
    assert error["requestId"] == response["X-Request-ID"]
    assert error["moreInfo"].endswith(f"/docs/errors#{code}")
    assert isinstance(error["messages"], list) and error["messages"]
    return error
