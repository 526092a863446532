"""Revocation takes effect at once on every worker (SPEC §3, issue 14): gunicorn with 3 workers
on a database the test shares with it; the token is used on every worker, revoked, and then
refused by every worker."""

from __future__ import annotations

import base64
import http.client
import json
import os
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import quote, urlencode

import pytest
from django.db import connection

from integrations.oauth import create_api_client

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
def gunicorn(shared_database, tmp_path):
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
        env=server_env(url),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if request(port, "GET", "/healthz")[0] == 200:
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


def request(port: int, method: str, path: str, body: str = "", headers: dict | None = None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request(method, path, body=body or None, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def answered_by(access_log: Path, path: str) -> list[tuple[str, int]]:
    """(worker pid, status) of every logged request for ``path``, in order."""
    time.sleep(0.3)  # workers flush their access log lines
    rows = [line.split() for line in access_log.read_text().splitlines()]
    return [(pid, int(status)) for pid, status, logged in rows if logged == path]


def burst(port: int, token: str, count: int) -> list[int]:
    headers = {"Authorization": f"Bearer {token}"}
    with ThreadPoolExecutor(6) as pool:
        return list(
            pool.map(
                lambda _: request(port, "GET", "/v2/products", headers=headers)[0], range(count)
            )
        )


@pytest.mark.django_db(transaction=True)  # committed rows, visible to gunicorn
def test_a_revoked_token_is_refused_by_every_worker_at_once(gunicorn):
    port, access_log, client_id, secret = gunicorn
    basic = {
        "Authorization": "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode(),
        "Content-Type": "application/x-www-form-urlencoded",
    }
    status, body = request(
        port, "POST", "/oauth2/token/", urlencode({"grant_type": "client_credentials"}), basic
    )
    assert status == 200, body
    token = json.loads(body)["access_token"]

    # use the token until every worker has answered it (each would have remembered it)
    for _ in range(20):
        assert set(burst(port, token, 12)) == {200}
        if len({pid for pid, _ in answered_by(access_log, "/v2/products")}) == WORKERS:
            break
    before = answered_by(access_log, "/v2/products")
    assert len({pid for pid, _ in before}) == WORKERS

    status, _ = request(port, "POST", "/oauth2/revoke/", urlencode({"token": token}), basic)
    assert status == 200

    # then at least 30 requests, and until every worker has refused it
    statuses = burst(port, token, 30)
    for _ in range(20):
        after = answered_by(access_log, "/v2/products")[len(before) :]
        if len({pid for pid, _ in after}) == WORKERS:
            break
        statuses += burst(port, token, 12)
    assert len(statuses) >= 30 and set(statuses) == {401}, statuses
    assert len({pid for pid, _ in after}) == WORKERS
    assert {status for _, status in after} == {401}
    print(f"revocation: {len(before)} x 200 on {WORKERS} workers, then {len(after)} x 401")
