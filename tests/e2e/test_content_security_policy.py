"""The Content-Security-Policy breaks nothing in a real browser: Swagger UI renders the document and
the admin logs in and edits with no policy violation reported."""

from __future__ import annotations

import pytest

from tests.catalogue.factories import ProductFactory
from tests.e2e.conftest import log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

RECORD_VIOLATIONS = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__violations.push(e.violatedDirective + " " + e.blockedURI);
});
"""


def violations(page) -> list[str]:
    return page.evaluate("window.__violations")


@pytest.fixture
def watched(page):
    page.add_init_script(RECORD_VIOLATIONS)
    refused: list[str] = []
    page.on("console", lambda m: refused.append(m.text) if "Content Security" in m.text else None)
    page.refused = refused
    return page


def test_swagger_ui_renders_every_operation_under_the_policy(watched):
    response = watched.goto("/docs/")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    watched.wait_for_selector(".opblock-summary", timeout=30_000)
    assert watched.locator(".opblock").count() > 20
    assert violations(watched) == [] and watched.refused == []


def test_admin_logs_in_and_opens_a_product_under_the_policy(watched, superuser):
    product = ProductFactory(name_en="Policy Boot")
    log_in(watched, superuser.username)
    watched.goto(f"/admin/catalogue/product/{product.pk}/change/")
    watched.click("a[href='#tab_id_name_nl']")  # jQuery UI tabs still run
    assert watched.locator("#id_name_nl").is_visible()
    assert violations(watched) == [] and watched.refused == []
    watched.goto("/admin/taxonomy/category/")
    assert violations(watched) == [] and watched.refused == []
