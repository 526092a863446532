"""Static files in production: ``collectstatic`` with the manifest storage and DEBUG off, then the
admin, /docs/ and /docs/errors answer 200 with their assets served by whitenoise (SPEC §17)."""

from __future__ import annotations

import re

import pytest
from django.test import Client, override_settings

from tests.ops.conftest import fresh_env, manage

MANIFEST = "whitenoise.storage.CompressedManifestStaticFilesStorage"


@pytest.fixture(scope="module")
def collected(tmp_path_factory):
    root = tmp_path_factory.mktemp("static")
    env = fresh_env(DEBUG="0", SECRET_KEY="x" * 50, STATIC_ROOT=str(root), ENV_FILE="")
    result = manage("collectstatic", "--noinput", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    return root


@pytest.fixture
def production(collected):
    storages = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": MANIFEST},
    }
    with override_settings(DEBUG=False, STATIC_ROOT=collected, STORAGES=storages):
        yield Client()


def test_collectstatic_collects_only_the_jquery_ui_file_the_admin_uses(collected):
    names = sorted(p.name for p in (collected / "jquery-ui").iterdir())
    assert any(re.fullmatch(r"jquery-ui\.min\.[0-9a-f]{12}\.js", n) for n in names), names
    assert not (collected / "jquery-ui" / "images").exists()
    assert (collected / "staticfiles.json").is_file()


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/admin/login/", "/docs/", "/docs/errors"])
def test_pages_answer_200_with_debug_off_and_link_hashed_assets(production, path):
    response = production.get(path)
    assert response.status_code == 200, response.content[:500]
    html = response.content.decode()
    assets = re.findall(r'(?:href|src)="(/static/[^"]+)"', html)
    if path != "/docs/errors":  # the error page is self-contained
        assert assets, html[:500]
    for url in assets:
        assert re.search(r"\.[0-9a-f]{12}\.(css|js)$", url), url  # the manifest's names
        asset = production.get(url)
        assert asset.status_code == 200, url
        assert "max-age=315360000" in asset["Cache-Control"]  # whitenoise, immutable file
        body = b"".join(asset.streaming_content)
        assert body, url
