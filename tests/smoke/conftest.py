"""The HTTP smoke suite against the production shape (``.ci/run``; tests/smoke/README in the module
docstring of test_production_shape.py). Skipped unless ``SMOKE_BASE_URL`` names a running shape."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
#: figures the suite measured, printed at the end of the run (and kept for the closing note)
FIGURES: dict[str, object] = {}


def pytest_collection_modifyitems(config, items):
    if os.environ.get("SMOKE_BASE_URL"):
        return
    skip = pytest.mark.skip(reason="smoke suite: set SMOKE_BASE_URL to a running `make serve`")
    for item in items:
        if "smoke" in item.keywords:
            item.add_marker(skip)


def pytest_terminal_summary(terminalreporter):
    if FIGURES:
        terminalreporter.write_line("smoke figures: " + json.dumps(FIGURES, sort_keys=True))


def shape_env(**overrides: str) -> dict[str, str]:
    """The environment of the shape's own commands (``manage.py`` against its database)."""
    env = {k: v for k, v in os.environ.items() if k not in ("TESTING", "DJANGO_SETTINGS_MODULE")}
    env.update({"DEBUG": "0", "ENV_FILE": "", "SECURE_SSL_REDIRECT": "0", **overrides})
    return env


def create_client(env: dict[str, str] | None = None, scopes: str | None = None) -> dict:
    command = [sys.executable, "manage.py", "create_api_client", "--name", "smoke", "--json"]
    if scopes:
        command += ["--scopes", scopes]
    result = subprocess.run(
        command, cwd=ROOT, env=env or shape_env(), capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def get_token(base: str, client: dict) -> str:
    response = requests.post(
        f"{base}/oauth2/token/",
        data={"grant_type": "client_credentials"},
        auth=(client["client_id"], client["client_secret"]),
        timeout=10,
    )
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


def wait_for(url: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if requests.get(url, timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise AssertionError(f"{url} did not answer 200 within {seconds} s")


@pytest.fixture(scope="session")
def base_url() -> str:
    return os.environ["SMOKE_BASE_URL"].rstrip("/")


@pytest.fixture
def token(base_url) -> str:
    return get_token(base_url, create_client())
