"""Fixtures of the OAuth2 endpoint tests, and a gunicorn server on a database shared with the
test."""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

import pytest
from django.core.cache import cache
from django.db import connection

from integrations.oauth import create_api_client


def wait_for_a_fresh_minute(seconds_needed: float = 10) -> None:
    """Limits count per clock minute: let a counting sequence start well inside one."""
    into = time.time() % 60
    if into > 60 - seconds_needed:
        time.sleep(60 - into + 0.05)


@pytest.fixture
def fresh_counters():
    """Each test starts inside a fresh minute's first 50 seconds, with nothing counted."""
    wait_for_a_fresh_minute()
    cache.clear()
    yield
    cache.clear()


ROOT = Path(__file__).resolve().parents[2]
WORKERS = 3
PORTS = range(18310, 18330)  # this helper's range; the first free one is used


def free_port() -> int:
    for port in PORTS:
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port in 18310-18329")


def server_env(database_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"REDIS_URL", "DJANGO_SETTINGS_MODULE"}}
    env.update(
        DATABASE_URL=database_url,
        DEBUG="0",
        TESTING="1",
        SECRET_KEY="revocation-test-" + "k" * 40,
        ALLOWED_HOSTS="127.0.0.1",
        RATE_LIMIT_PER_MINUTE="0",
    )
    return env


@pytest.fixture
def shared_database(tmp_path):
    """A database URL gunicorn can open, and a client (id, secret) stored in it: the test
    database on PostgreSQL (the test commits, see the marker), a migrated file on SQLite."""
    if connection.vendor == "postgresql":
        s = connection.settings_dict
        auth = quote(s["USER"]) + (f":{quote(s['PASSWORD'])}" if s["PASSWORD"] else "")
        url = f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"
        application, secret = create_api_client(name="erp", scopes=["products:read"])
        return url, application.client_id, secret
    url = f"sqlite:///{tmp_path / 'served.sqlite3'}"
    manage = [sys.executable, "manage.py"]
    env = server_env(url)
    subprocess.run([*manage, "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    created = subprocess.run(
        [*manage, "create_api_client", "--name", "erp", "--scopes", "products:read", "--json"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    client = json.loads(created.stdout)
    return url, client["client_id"], client["client_secret"]


@pytest.fixture
def server_settings() -> dict[str, str]:
    """Extra environment of the gunicorn server; a test module overrides it."""
    return {}


@pytest.fixture
def gunicorn(shared_database, server_settings, tmp_path):
    """gunicorn with WORKERS workers on ``shared_database``; yields (port, access log, client id,
    secret). The access log lines are ``<worker pid> <status> <path>``."""
    url, client_id, secret = shared_database
    port = free_port()
    access_log = tmp_path / "access.log"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "config.wsgi:application",
            "--workers",
            str(WORKERS),
            "--bind",
            f"127.0.0.1:{port}",
            "--access-logfile",
            str(access_log),
            "--access-logformat",
            "%(p)s %(s)s %(U)s",  # worker pid, status, path
        ],
        cwd=ROOT,
        env={**server_env(url), **server_settings},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if http_call(port, "GET", "/healthz")[0] == 200:
                    break
            except OSError:
                time.sleep(0.2)
        else:
            raise RuntimeError("gunicorn did not start")
        yield port, access_log, client_id, secret
    finally:
        process.terminate()  # by PID: only the server this test started
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def http_call(port: int, method: str, path: str, body: str = "", headers: dict | None = None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request(method, path, body=body or None, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()
