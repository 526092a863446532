"""Security headers (issue 15): a Content-Security-Policy on the admin and docs pages."""

from __future__ import annotations

import pytest
from django.test import Client

from config.api.csp import POLICY


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/admin/login/", "/docs/", "/docs/errors"])
def test_html_pages_carry_the_policy(path):
    response = Client().get(path)
    assert response.status_code == 200
    policy = response["Content-Security-Policy"]
    assert policy == POLICY
    directives = dict(d.split(" ", 1) for d in policy.split("; "))
    assert directives["script-src"] == "'self'"  # no inline or remote script
    assert directives["object-src"] == "'none'"
    assert directives["frame-ancestors"] == "'none'"


def test_json_answers_need_no_policy(anonymous):
    response = anonymous.get("/v2/products")
    assert response.status_code == 401
    assert "Content-Security-Policy" not in response
