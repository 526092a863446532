"""Development settings outside the Makefile: README commands work in a fresh shell (SPEC §17)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.ops.conftest import ROOT, fresh_env, manage


def test_readme_command_works_in_a_fresh_shell_with_the_development_env_file(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text("# written by make install\nDEBUG=1\n")
    database = tmp_path / "dev.sqlite3"
    env = fresh_env(ENV_FILE=str(env_file), DATABASE_URL=f"sqlite:///{database}")
    assert manage("migrate", "--noinput", "-v0", env=env).returncode == 0
    result = manage(
        "create_api_client", "--name", "erp", "--scopes", "products:read", "--json", env=env
    )
    assert result.returncode == 0, result.stderr
    assert '"client_id"' in result.stdout and '"scopes": ["products:read"]' in result.stdout


def test_production_still_refuses_to_start_without_a_secret_key(tmp_path):
    env = fresh_env(ENV_FILE=str(tmp_path / "absent.env"))
    result = manage("check", env=env)
    assert result.returncode != 0
    assert "SECRET_KEY is required when DEBUG is off" in result.stderr


def test_the_environment_wins_over_the_env_file(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text('DEBUG=1\nexport SECRET_KEY="from-the-file"\n')
    # DEBUG=0 in the environment beats DEBUG=1 in the file; the file's quoted secret is unquoted
    env = fresh_env(ENV_FILE=str(env_file), DEBUG="0", ALLOWED_HOSTS="api.example.com")
    result = manage(
        "shell", "-c", "from django.conf import settings; print(settings.DEBUG, settings.SECRET_KEY)",
        env=env,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "False from-the-file"


def test_plain_pytest_runs_in_a_fresh_shell_without_env_file_or_secret(tmp_path):
    """The suite's settings set their throwaway values before Django reads them (pytest-django
    imports the settings before any conftest.py runs), also over empty exported values."""
    pytest = Path(sys.executable).with_name("pytest")
    test = "tests/api/test_auth.py::test_insufficient_scope_names_the_scope"
    env = fresh_env(ENV_FILE=str(tmp_path / "absent.env"), SECRET_KEY="", ALLOWED_HOSTS="")
    result = subprocess.run(
        [str(pytest), test, "-p", "no:cacheprovider", "-p", "no:xdist"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert "1 passed" in result.stdout
