"""HTTP protocol at the edge (SPEC §18), generated from the route table: content negotiation
(406 for an ``Accept`` without JSON, RFC 9457 problem details when asked), OPTIONS (405 with
``Allow``, without a token) and CORS when ``CORS_ALLOWED_ORIGINS`` is configured."""

from __future__ import annotations

import re

import pytest
from django.test import override_settings

from catalogue.models import Product
from config.api.middleware import CORS_EXPOSED_HEADERS
from config.api.negotiation import accepts_json, wants_problem_details
from config.api.routing import api_views
from tests.api.test_mass_assignment import url_for, world  # noqa: F401  (fixture)
from tests.catalogue.factories import ProductFactory
from tests.conftest import envelope_error

pytestmark = pytest.mark.django_db

EXCLUDING_JSON = (
    "text/plain",
    "application/xml",
    "text/html, application/xhtml+xml",
    "application/json;q=0",
    "*/*;q=0",
    "image/*",
    "application/json;q=0, */*",
)
ACCEPTING_JSON = (
    None,
    "",
    "*/*",
    "application/*",
    "application/json",
    "application/json;q=0.5",
    "application/json; charset=utf-8",
    "text/plain, application/json;q=0.1",
    "text/html, */*;q=0.8",
    "garbage",
    "application/json;q=abc, */*",
)
ORIGIN = "https://app.example.com"


def routes():
    for path, view in api_views():
        yield pytest.param(path, view, id=path)


def methods_of(view) -> set[str]:
    methods = set(view.operations)
    return methods | {"HEAD"} if "GET" in methods else methods


def send(client, method: str, url: str, headers: dict):
    if method in ("GET", "DELETE"):
        return getattr(client, method.lower())(url, headers=headers)
    return getattr(client, method.lower())(url, {}, headers=headers)


@pytest.mark.parametrize("accept", EXCLUDING_JSON)
def test_accept_header_parsing_excludes_json(accept):
    assert not accepts_json(accept)


@pytest.mark.parametrize("accept", ACCEPTING_JSON)
def test_accept_header_parsing_accepts_json(accept):
    assert accepts_json(accept)
    assert not wants_problem_details(accept)


@pytest.mark.parametrize(
    ("accept", "problem"),
    [
        ("application/problem+json", True),
        ("application/problem+json, application/json", True),
        ("application/json;q=0.9, application/problem+json", True),
        ("application/problem+json;q=0.5, application/json", False),
        ("application/*", False),
        ("application/problem+json;q=0", False),
    ],
)
def test_problem_details_are_chosen_when_named_first(accept, problem):
    assert wants_problem_details(accept) is problem
    assert accepts_json(accept) is (accept != "application/problem+json;q=0")


@pytest.mark.parametrize(("path", "view"), list(routes()))
def test_an_accept_without_json_is_406_on_every_route(anonymous, world, path, view):  # noqa: F811
    url = url_for(path, world)
    for method in view.operations:
        for accept in ("text/plain", "application/xml"):
            response = send(anonymous, method, url, {"Accept": accept})
            error = envelope_error(response, 406, 10025)
            assert response["Content-Type"] == "application/json", (method, path)
            assert "Accept" in error["messages"][0]


@pytest.mark.parametrize(("path", "view"), list(routes()))
def test_problem_details_on_every_route(anonymous, world, path, view):  # noqa: F811
    url = url_for(path, world)
    for method in view.operations:
        response = send(anonymous, method, url, {"Accept": "application/problem+json"})
        assert response.status_code == 401, (method, path, response.content)
        assert response["Content-Type"] == "application/problem+json"
        problem = response.json()
        assert problem["status"] == 401 and problem["code"] == 10001
        assert problem["type"].endswith("/docs/errors#10001")
        assert problem["title"] and problem["detail"]
        assert problem["instance"] == url.split("?")[0]
        assert problem["requestId"] == response["X-Request-ID"]
        assert "error" not in problem


def test_problem_details_carry_fields_and_successes_stay_json(api):
    headers = {"Accept": "application/problem+json"}
    response = api.post("/v2/products", {"names": [{"language": "XX", "value": "a"}]}, headers)
    assert response.status_code == 400, response.content
    assert response["Content-Type"] == "application/problem+json"
    problem = response.json()
    assert problem["code"] == 10007
    assert problem["title"] == "Body or query fails type or shape validation."
    assert problem["fields"] == {"names[0].language": ["Unknown language 'XX'."]}

    response = api.post("/v2/products", {"names": [{"language": "EN", "value": "Shoe"}]}, headers)
    assert response.status_code == 201, response.content
    assert response["Content-Type"] == "application/json"
    assert response.json()["data"]["names"] == [{"language": "EN", "value": "Shoe"}]


def test_problem_details_for_a_route_that_does_not_exist(anonymous):
    response = anonymous.get("/v2/nothing-here", headers={"Accept": "application/problem+json"})
    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == 10008


@pytest.mark.parametrize("accept", ACCEPTING_JSON)
def test_accept_headers_that_allow_json_answer_json(api, accept):
    ProductFactory()
    headers = {} if accept is None else {"Accept": accept}
    response = api.get("/v2/products", headers=headers)
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/json"
    assert len(response.json()["data"]) == 1


def test_a_write_under_an_accept_without_json_writes_nothing(api):
    body = {"names": [{"language": "EN", "value": "Shoe"}]}
    envelope_error(api.post("/v2/products", body, {"Accept": "text/plain"}), 406, 10025)
    assert not Product.objects.exists()


def test_the_openapi_document_negotiates_too(anonymous):
    assert anonymous.get("/v2/schema/", headers={"Accept": "text/plain"}).status_code == 406
    for accept in ("application/vnd.oai.openapi+json", "application/json", "*/*"):
        response = anonymous.get("/v2/schema/", headers={"Accept": accept})
        assert response.status_code == 200
        assert response.json()["openapi"].startswith("3.")


def test_the_document_declares_406_and_problem_details(anonymous):
    document = anonymous.get("/v2/schema/").json()
    assert "ProblemDetails" in document["components"]["schemas"]
    for item in document["paths"].values():
        for operation in item.values():
            answer = operation["responses"]["406"]
            assert "10025 NotAcceptable" in answer["description"]
            assert set(answer["content"]) == {"application/json", "application/problem+json"}


# OPTIONS and CORS ---------------------------------------------------------------------------


@pytest.mark.parametrize(("path", "view"), list(routes()))
def test_options_is_405_with_allow_on_every_route_without_a_token(anonymous, world, path, view):  # noqa: F811
    url = url_for(path, world)
    response = anonymous.http.options(url)
    error = envelope_error(response, 405, 10003)
    assert "OPTIONS" in error["messages"][0]
    assert set(re.split(r",\s*", response["Allow"])) == methods_of(view)
    assert "Access-Control-Allow-Origin" not in response


@pytest.mark.parametrize(("path", "view"), list(routes()))
@override_settings(CORS_ALLOWED_ORIGINS=[ORIGIN], CORS_MAX_AGE=321)
def test_a_preflight_from_a_listed_origin_is_answered(anonymous, world, path, view):  # noqa: F811
    url = url_for(path, world)
    method = next(iter(view.operations))
    response = anonymous.http.options(
        url,
        headers={
            "Origin": ORIGIN,
            "Access-Control-Request-Method": method,
            "Access-Control-Request-Headers": "authorization, content-type",
        },
    )
    assert response.status_code == 204, response.content
    assert response["Access-Control-Allow-Origin"] == ORIGIN
    assert set(re.split(r",\s*", response["Access-Control-Allow-Methods"])) == methods_of(view)
    allowed_headers = {
        h.lower() for h in re.split(r",\s*", response["Access-Control-Allow-Headers"])
    }
    assert {"authorization", "content-type", "if-match", "idempotency-key"} <= allowed_headers
    assert response["Access-Control-Max-Age"] == "321"
    assert "Origin" in response["Vary"]


@override_settings(CORS_ALLOWED_ORIGINS=[ORIGIN])
def test_a_preflight_from_another_origin_is_a_plain_405(anonymous):
    response = anonymous.http.options(
        "/v2/products",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"},
    )
    envelope_error(response, 405, 10003)
    assert "Access-Control-Allow-Origin" not in response
    assert "Access-Control-Allow-Methods" not in response


@override_settings(CORS_ALLOWED_ORIGINS=[ORIGIN])
def test_actual_responses_to_a_listed_origin_name_it_and_expose_headers(api, anonymous):
    ProductFactory()
    response = api.get("/v2/products", headers={"Origin": ORIGIN})
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == ORIGIN
    exposed = set(re.split(r",\s*", response["Access-Control-Expose-Headers"]))
    assert exposed == set(CORS_EXPOSED_HEADERS)
    assert "Origin" in response["Vary"]
    assert "Access-Control-Allow-Credentials" not in response

    # errors too, so that a browser script can read them
    response = anonymous.get("/v2/products", headers={"Origin": ORIGIN})
    envelope_error(response, 401, 10001)
    assert response["Access-Control-Allow-Origin"] == ORIGIN

    # and the 413 refused before any view
    with override_settings(MAX_REQUEST_BYTES=10):
        response = api.post("/v2/products", {"names": []}, headers={"Origin": ORIGIN})
    envelope_error(response, 413, 10011)
    assert response["Access-Control-Allow-Origin"] == ORIGIN

    response = api.get("/v2/products", headers={"Origin": "https://evil.example"})
    assert response.status_code == 200
    assert "Access-Control-Allow-Origin" not in response
    assert "Origin" in response["Vary"]


def test_without_cors_configured_no_cors_headers(api):
    response = api.get("/v2/products", headers={"Origin": ORIGIN})
    assert response.status_code == 200
    assert "Access-Control-Allow-Origin" not in response


def test_only_the_first_media_ranges_are_read(anonymous):
    """5,000 ranges took 0.8 s per request to parse; ranges after the 32nd are not read."""
    many = ",".join(["text/html;q=0.1"] * 5000)
    assert not accepts_json(many + ", application/json")
    assert accepts_json(",".join(["text/html"] * 31) + ", application/json")
    response = anonymous.get("/v2/products", headers={"Accept": many})
    envelope_error(response, 406, 10025)
