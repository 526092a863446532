"""Limits counted in Redis, failing open when Redis is down or paused (SPEC §18).

A redis-server of the test's own (port 16382) is started here and stopped by its PID; the shared
services of the machine are never touched.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import socket
import subprocess
import time

import pytest
import redis
from django.core.checks import run_checks
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.test import Client, override_settings

from config.api import ratelimit
from tests.api.test_auth import basic
from tests.conftest import envelope_error

pytestmark = pytest.mark.django_db
PORT = 16382
URL = f"redis://127.0.0.1:{PORT}/0"
TIMEOUT = 0.3


def redis_caches() -> dict:
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    return {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": URL,
            "OPTIONS": {
                "socket_connect_timeout": TIMEOUT,
                "socket_timeout": TIMEOUT,
                "retry_on_timeout": False,
                "retry": Retry(NoBackoff(), 0),
            },
        }
    }


class OwnRedis:
    def __init__(self) -> None:
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(PORT), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                if redis.Redis(port=PORT, socket_timeout=0.5).ping():
                    return
            except redis.RedisError:
                time.sleep(0.05)
        raise RuntimeError("own redis-server did not start")

    def stop(self) -> None:
        if self.process is not None:
            os.kill(self.process.pid, signal.SIGCONT)  # in case a test left it paused
            self.process.terminate()
            self.process.wait(10)
            self.process = None

    def signal(self, sig: int) -> None:
        assert self.process is not None
        os.kill(self.process.pid, sig)


@pytest.fixture
def own_redis():
    if not shutil.which("redis-server"):
        pytest.skip("needs redis-server")
    try:
        socket.create_connection(("127.0.0.1", PORT), timeout=0.2).close()
        pytest.skip(f"port {PORT} is already in use")
    except OSError:
        pass
    server = OwnRedis()
    server.start()
    ratelimit._outage_logged_at = float("-inf")
    with override_settings(CACHES=redis_caches(), CACHE_URL=URL):
        yield server
    server.stop()


def timed(call):
    began = time.monotonic()
    response = call()
    return response, time.monotonic() - began


@override_settings(RATE_LIMIT_PER_MINUTE=3)
def test_counters_live_in_redis(own_redis, client_with_scopes):
    api = client_with_scopes("products:read")
    statuses = [api.get("/v2/products").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    keys = redis.Redis(port=PORT).keys(f"*rl:api:{api.client_id}:*")
    assert len(keys) == 1  # shared by every worker that reads the same Redis


@override_settings(RATE_LIMIT_PER_MINUTE=3, TOKEN_FAILURES_PER_MINUTE=2)
def test_redis_down_lets_requests_through_and_logs_once(own_redis, client_with_scopes, caplog):
    api = client_with_scopes("products:read", "products:write")
    own_redis.stop()
    caplog.set_level(logging.WARNING, logger="catalogue.limits")
    answers = [timed(lambda: api.get("/v2/products")) for _ in range(8)]
    assert [r.status_code for r, _ in answers] == [200] * 8  # over the limit of 3: fail open
    assert max(seconds for _, seconds in answers) < 1.0
    created = api.post("/v2/products", {"names": [{"language": "EN", "value": "Shoe"}]})
    assert created.status_code == 201
    bad = basic(api.client_id, "wrong")
    for _ in range(3):
        response = Client().post(
            "/oauth2/token/", {"grant_type": "client_credentials"}, headers=bad
        )
        assert response.status_code == 401
    good = Client().post(
        "/oauth2/token/",
        {"grant_type": "client_credentials"},
        headers=basic(api.client_id, api.secret),
    )
    assert good.status_code == 200
    outage_lines = [r for r in caplog.records if r.name == "catalogue.limits"]
    assert len(outage_lines) == 1 and outage_lines[0].exc_info is None
    assert "fail open" in outage_lines[0].getMessage()


@override_settings(RATE_LIMIT_PER_MINUTE=100)
def test_paused_redis_costs_a_bounded_wait_not_a_frozen_worker(own_redis, client_with_scopes):
    api = client_with_scopes("products:read")
    assert api.get("/v2/products")["RateLimit-Remaining"] == "99"
    own_redis.signal(signal.SIGSTOP)
    try:
        answers = [timed(lambda: api.get("/v2/products")) for _ in range(3)]
    finally:
        own_redis.signal(signal.SIGCONT)
    assert [r.status_code for r, _ in answers] == [200] * 3
    assert max(seconds for _, seconds in answers) < 3 * TIMEOUT + 0.5
    # counting resumes once Redis answers again: a resumed process may need a moment to be
    # scheduled on a loaded machine (each request still costs at most one socket timeout)
    deadline = time.monotonic() + 5
    while True:
        resumed = api.get("/v2/products")
        assert resumed.status_code == 200
        if int(resumed["RateLimit-Remaining"]) < 99 or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert int(resumed["RateLimit-Remaining"]) < 99


@override_settings(RATE_LIMIT_PER_MINUTE=1)
def test_rate_limit_still_holds_with_redis_up(own_redis, client_with_scopes):
    api = client_with_scopes("products:read")
    assert api.get("/v2/products").status_code == 200
    envelope_error(api.get("/v2/products"), 429, 10012)


def deploy_errors() -> list[str]:
    return [m.id for m in run_checks(include_deployment_checks=True) if m.id == "api.E002"]


LIMITS_OFF = {
    "RATE_LIMIT_PER_MINUTE": 0,
    "TOKEN_FAILURES_PER_MINUTE": 0,
    "TOKEN_REQUESTS_PER_MINUTE": 0,
}


def test_check_deploy_reports_limits_without_redis():
    with override_settings(CACHE_URL="", **{**LIMITS_OFF, "RATE_LIMIT_PER_MINUTE": 10}):
        assert deploy_errors() == ["api.E002"]
        with pytest.raises(SystemCheckError, match="REDIS_URL is not set"):
            call_command("check", "--deploy", "--fail-level", "ERROR")
    with override_settings(CACHE_URL="", **{**LIMITS_OFF, "TOKEN_FAILURES_PER_MINUTE": 5}):
        assert deploy_errors() == ["api.E002"]
    with override_settings(CACHE_URL="", **{**LIMITS_OFF, "TOKEN_REQUESTS_PER_MINUTE": 5}):
        assert deploy_errors() == ["api.E002"]
    with override_settings(CACHE_URL="", **LIMITS_OFF):
        assert deploy_errors() == []
    with override_settings(CACHE_URL=URL, RATE_LIMIT_PER_MINUTE=10):
        assert deploy_errors() == []
