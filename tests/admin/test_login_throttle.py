"""The admin login is throttled per username and caller address (django-axes, issue 15)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client, override_settings

from tests.admin.conftest import admin_login

pytestmark = pytest.mark.django_db
PASSWORD = "the-real-password"


@pytest.fixture
def admin_user():
    return User.objects.create_superuser("boss", password=PASSWORD)


def logged_in(client: Client) -> bool:
    return client.get("/admin/").status_code == 200


def test_the_right_password_after_25_wrong_ones_does_not_log_in(admin_user):
    client = Client(REMOTE_ADDR="192.0.2.1")
    statuses = [admin_login(client, "boss", f"guess-{n}").status_code for n in range(25)]
    assert statuses[:4] == [200] * 4  # the login form again, with its error
    assert set(statuses[5:]) == {429}
    locked = admin_login(client, "boss", PASSWORD)
    assert locked.status_code == 429
    page = locked.content.decode()
    assert "Too many failed logins for <strong>boss</strong>" in page
    assert "axes_reset_username boss" in page
    assert not logged_in(client)


def test_the_lock_is_per_username_and_address(admin_user):
    User.objects.create_superuser("other", password=PASSWORD)
    attacker = Client(REMOTE_ADDR="192.0.2.1")
    for n in range(5):
        admin_login(attacker, "boss", f"guess-{n}")
    assert admin_login(attacker, "boss", PASSWORD).status_code == 429
    # the real admin, elsewhere, and another user from the same address still log in
    colleague = Client(REMOTE_ADDR="198.51.100.7")
    assert admin_login(colleague, "boss", PASSWORD).status_code == 302 and logged_in(colleague)
    same_address = Client(REMOTE_ADDR="192.0.2.1")
    assert admin_login(same_address, "other", PASSWORD).status_code == 302


def test_a_successful_login_resets_the_count(admin_user):
    client = Client(REMOTE_ADDR="192.0.2.1")
    for n in range(4):
        assert admin_login(client, "boss", f"guess-{n}").status_code == 200
    assert admin_login(client, "boss", PASSWORD).status_code == 302
    client.logout()
    for n in range(4):
        assert admin_login(client, "boss", f"again-{n}").status_code == 200
    assert admin_login(client, "boss", PASSWORD).status_code == 302


@override_settings(TRUSTED_PROXY_HOPS=0)
def test_a_forged_forwarded_for_does_not_escape_the_lock(admin_user):
    for n in range(5):
        client = Client(REMOTE_ADDR="192.0.2.1", HTTP_X_FORWARDED_FOR=f"203.0.113.{n}")
        admin_login(client, "boss", f"guess-{n}")
    client = Client(REMOTE_ADDR="192.0.2.1", HTTP_X_FORWARDED_FOR="203.0.113.99")
    assert admin_login(client, "boss", PASSWORD).status_code == 429
