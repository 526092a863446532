"""Reading the change feed over HTTP, as an integration would."""

from __future__ import annotations

from tests.conftest import ApiClient


def feed(client: ApiClient, **params) -> dict:
    response = client.get("/v2/changes", params)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["pagination"]["nextCursor"]
    return body


def events(client: ApiClient, **params) -> list[dict]:
    """Every event after ``after`` (all of them without), following nextCursor to the end."""
    out: list[dict] = []
    while True:
        body = feed(client, pageSize=1000, **params)
        out += body["data"]
        if not body["data"]:
            return out
        params = {k: v for k, v in params.items() if k != "since"}
        params["after"] = body["pagination"]["nextCursor"]


def only(client: ApiClient, **params) -> dict:
    """The one event the feed holds (after ``after``)."""
    found = events(client, **params)
    assert len(found) == 1, found
    return found[0]


def cursor(client: ApiClient) -> str:
    """A cursor standing after every event so far."""
    found = events(client)
    return found[-1]["id"] if found else feed(client)["pagination"]["nextCursor"]
