"""The success envelopes of SPEC §4; views never hand-build response bodies."""

from __future__ import annotations

from typing import Any

from rest_framework.response import Response

from config.api.pagination import OffsetPage, Page


def ok(data: Any, *messages: str, status: int = 200, headers: dict | None = None) -> Response:
    return Response({"data": data, "messages": list(messages)}, status=status, headers=headers)


def record(data: dict, *messages: str, status: int = 200, location: str | None = None) -> Response:
    """A single record with its ``ETag`` (and ``Location`` for a create)."""
    headers = {"ETag": f'"{data["version"]}"'} if "version" in data else {}
    if location:
        headers["Location"] = location
    return ok(data, *messages, status=status, headers=headers)


def deleted(*messages: str) -> Response:
    return ok({}, *messages)


def listing(page: Page | OffsetPage, data: list, *, links: bool = True) -> Response:
    return Response({"data": data, "messages": [], "pagination": page.pagination(links=links)})
