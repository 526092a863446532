"""Helpers for tests that run the service's own commands in fresh processes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
#: what a new shell has: none of the variables the test run or a developer's shell set
SERVICE_VARIABLES = ("DEBUG", "TESTING", "SECRET_KEY", "ENV_FILE", "DATABASE_URL", "REDIS_URL")


def fresh_env(**overrides: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in SERVICE_VARIABLES
        and not k.startswith(("SECURE_", "DJANGO_", "CELERY_", "PYTEST_"))
    }
    env.update(overrides)
    return env


def manage(*args: str, env: dict[str, str], timeout: int = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
