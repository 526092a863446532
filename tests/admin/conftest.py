from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, User
from django.test import Client

from config.permissions import MERCHANDISER


def _field_data(form) -> dict:
    data: dict = {}
    for bound in form:
        if bound.field.disabled:
            continue
        value = bound.value()
        if value is None or value is False:
            continue
        if value is True:
            value = "on"
        data[bound.html_name] = value if isinstance(value, list) else str(value)
    return data


def changeform_data(response, **changes) -> dict:
    """The POST body a browser would send for an admin change form, with ``changes`` applied."""
    data = _field_data(response.context["adminform"].form)
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        data.update(_field_data(formset.management_form))
        for form in formset.forms:
            data.update(_field_data(form))
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


#: a product change form's inline edit: its one source (ERP 1) replaced by PIM 9, an attribute added
INLINE_EDIT = {
    "sources-0-DELETE": "on",
    "sources-TOTAL_FORMS": "2",
    "sources-1-source": "PIM",
    "sources-1-source_id": "9",
    "attributes-TOTAL_FORMS": "1",
    "attributes-0-name": "SIZES",
    "attributes-0-value": '["S", "M"]',
}


def admin_login(client: Client, username: str, password: str):
    """Log in through the admin's login form, as a browser does (django-axes counts it)."""
    return client.post("/admin/login/", {"username": username, "password": password})


@pytest.fixture
def merchandiser(db) -> User:
    user = User.objects.create_user("merch", password="pw", is_staff=True)
    user.groups.add(Group.objects.get(name=MERCHANDISER))
    return user


@pytest.fixture
def merchandiser_client(merchandiser) -> Client:
    client = Client()
    client.force_login(merchandiser)
    return client
