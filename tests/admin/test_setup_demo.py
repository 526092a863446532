from __future__ import annotations

import io
import re

import pytest
from django.core.management import call_command
from django.test import Client

from tests.admin.conftest import admin_login

pytestmark = pytest.mark.django_db


def test_setup_demo_prints_admin_credentials_that_log_in():
    out = io.StringIO()
    call_command("setup_demo", stdout=out)
    text = out.getvalue()
    match = re.search(r"Admin: \S+/admin/\s+user (\S+)\s+password (\S+)", text)
    assert match, text
    client = Client()
    assert admin_login(client, match[1], match[2]).status_code == 302
    response = client.get("/admin/catalogue/product/")
    assert response.status_code == 200
    assert response.context["cl"].result_count == 200
    assert "client_id:" in text and "client_secret:" in text
    assert "200 products, 12 clusters" in text
    clusters = client.get("/admin/clusters/cluster/")
    assert clusters.status_code == 200 and clusters.context["cl"].result_count == 12


def test_setup_demo_also_creates_a_merchandiser():
    out = io.StringIO()
    call_command("setup_demo", stdout=out)
    match = re.search(
        r"user merchandiser\s+password (\S+)\s+\(Merchandiser group\)", out.getvalue()
    )
    client = Client()
    assert admin_login(client, "merchandiser", match[1]).status_code == 302
    assert client.get("/admin/catalogue/product/").status_code == 200
    assert client.get("/admin/oauth2_provider/application/").status_code == 403
    call_command("setup_demo", stdout=io.StringIO())  # idempotent: runs again cleanly
