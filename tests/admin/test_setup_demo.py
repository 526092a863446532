from __future__ import annotations

import io
import re

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from oauth2_provider.models import AccessToken, Application

from tests.admin.conftest import admin_login

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(tmp_path, monkeypatch):
    """``setup_demo`` with its credentials file under ``tmp_path`` (never the checkout's var/)."""
    monkeypatch.delenv("PORT", raising=False)
    path = tmp_path / "demo-credentials.json"

    def run(*args: str) -> str:
        out = io.StringIO()
        call_command("setup_demo", "--credentials-file", str(path), *args, stdout=out)
        return out.getvalue()

    run.path = path
    return run


def credentials(text: str) -> dict[str, str]:
    found = {
        "client_id": re.search(r"client_id:\s+(\S+)", text),
        "client_secret": re.search(r"client_secret:\s+(\S+)", text),
        "admin": re.search(r"user admin\s+password (\S+)", text),
        "merchandiser": re.search(r"user merchandiser\s+password (\S+)", text),
    }
    assert all(found.values()), text
    return {name: match[1] for name, match in found.items()}


def token(client_id: str, secret: str) -> str:
    response = Client().post(
        "/oauth2/token/",
        {"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret},
    )
    assert response.status_code == 200, response.content
    return response.json()["access_token"]


def test_setup_demo_prints_admin_credentials_that_log_in(demo):
    text = demo()
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


def test_setup_demo_also_creates_a_merchandiser(demo):
    merchandiser = credentials(demo())["merchandiser"]
    client = Client()
    assert admin_login(client, "merchandiser", merchandiser).status_code == 302
    assert client.get("/admin/catalogue/product/").status_code == 200
    assert client.get("/admin/oauth2_provider/application/").status_code == 403


def test_a_second_run_keeps_the_credentials_and_the_tokens(demo):
    first = credentials(demo())
    access = token(first["client_id"], first["client_secret"])
    second_text = demo()
    assert credentials(second_text) == first
    assert "Kept from the last run: client secret, admin password, merchandiser password" in (
        second_text
    )
    assert "Demo catalogue" not in second_text  # the catalogue is loaded once
    assert AccessToken.objects.count() == 1
    api = Client(headers={"Authorization": f"Bearer {access}"})
    assert api.get("/v2/products?pageSize=1").status_code == 200
    for user in ("admin", "merchandiser"):
        assert admin_login(Client(), user, first[user]).status_code == 302
    assert token(first["client_id"], first["client_secret"])
    assert Application.objects.filter(name="demo").count() == 1


def test_reset_credentials_makes_new_ones_and_ends_the_old(demo):
    first = credentials(demo())
    access = token(first["client_id"], first["client_secret"])
    text = demo("--reset-credentials")
    reset = credentials(text)
    assert "New credentials" in text
    assert all(reset[name] != first[name] for name in first)
    api = Client(headers={"Authorization": f"Bearer {access}"})
    assert api.get("/v2/products?pageSize=1").status_code == 401
    assert admin_login(Client(), "admin", first["admin"]).status_code != 302
    assert admin_login(Client(), "admin", reset["admin"]).status_code == 302
    assert token(reset["client_id"], reset["client_secret"])
    assert credentials(demo()) == reset  # and the new ones are kept from then on


def test_credentials_that_no_longer_match_are_replaced(demo):
    """A changed password or a deleted client (by hand, another tool) cannot be printed again:
    that credential alone is made anew, the others are kept."""
    first = credentials(demo())
    Application.objects.filter(name="demo").delete()
    second = credentials(demo())
    assert second["client_id"] != first["client_id"]
    assert second["admin"] == first["admin"]
    assert second["merchandiser"] == first["merchandiser"]
    run_without_file = credentials(demo("--credentials-file", str(demo.path) + ".missing"))
    assert run_without_file["client_secret"] != second["client_secret"]


def test_the_port_comes_from_the_environment(demo, monkeypatch):
    assert "http://127.0.0.1:8000/admin/" in demo()
    monkeypatch.setenv("PORT", "8123")
    text = demo()
    assert "http://127.0.0.1:8123/admin/" in text and "127.0.0.1:8123/oauth2/token/" in text
    assert "http://127.0.0.1:9000/docs/" in demo("--port", "9000")
    monkeypatch.setenv("PORT", "eighty")
    with pytest.raises(CommandError, match="PORT must be a number from 1 to 65535"):
        demo()


def test_the_credentials_file_is_private(demo):
    demo()
    assert demo.path.stat().st_mode & 0o077 == 0
