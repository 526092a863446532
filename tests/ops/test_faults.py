"""Faults (SPEC §18): the database away → 503 with Retry-After, never 500; /readyz reports the
database, Redis and the broker, and only the database decides 503; Redis clients time out fast."""

from __future__ import annotations

import socket
import time
from unittest import mock

import psycopg
import pytest
from django.db import OperationalError, ProgrammingError
from django.test import Client, override_settings

from config.api import health
from tests.conftest import envelope_error

CLOSED_PORT = 16381  # this suite's own Redis port range: nothing listens here during these tests


def raising(exc: Exception):
    return mock.patch("catalogue.selectors.product_list", side_effect=exc)


def django_error(django_type, cause: Exception, message: str):
    exc = django_type(message)
    exc.__cause__ = cause
    return exc


@pytest.mark.parametrize(
    "exc",
    [
        OperationalError("database is locked"),
        django_error(
            OperationalError,
            psycopg.OperationalError("connection failed: Connection refused"),
            "connection failed",
        ),
        django_error(
            OperationalError,
            psycopg.errors.AdminShutdown("terminating connection due to administrator command"),
            "terminating connection",
        ),
    ],
    ids=["sqlite-locked", "postgres-refused", "postgres-shutdown"],
)
def test_database_away_is_503_with_retry_after(api, exc):
    with raising(exc):
        response = api.get("/v2/products")
    error = envelope_error(response, 503, 10030)
    assert error["type"] == "ServiceUnavailable"
    assert response["Retry-After"] == "1"
    assert "terminating" not in response.content.decode()


@pytest.mark.parametrize(
    "exc",
    [
        OperationalError("no such table: catalogue_product"),
        django_error(ProgrammingError, psycopg.errors.UndefinedTable("x"), 'relation "x"'),
    ],
)
def test_a_fault_in_the_code_stays_a_500(api, exc):
    with raising(exc):
        envelope_error(api.get("/v2/products"), 500, 10021)


@pytest.fixture(autouse=True)
def forget_dependency_checks():
    health._checked.clear()
    yield
    health._checked.clear()


@pytest.mark.django_db
def test_readiness_without_redis_or_broker_reports_them_as_such():
    with override_settings(CACHE_URL="", CELERY_BROKER_URL="memory://"):
        response = Client().get("/readyz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "database": "ok",
        "redis": "not configured",
        "broker": "in-process",
    }


@pytest.mark.django_db
def test_redis_down_is_reported_quickly_but_does_not_make_the_service_unready():
    down = f"redis://127.0.0.1:{CLOSED_PORT}/0"
    started = time.monotonic()
    with override_settings(CACHE_URL=down, CELERY_BROKER_URL=down):
        response = Client().get("/readyz")
    assert time.monotonic() - started < 1  # refused at once: no retries with backoff
    assert response.status_code == 200
    assert response.json() == {
        "status": "degraded",
        "database": "ok",
        "redis": "unavailable",
        "broker": "unavailable",
    }


def listening(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError:
        return False
    return True


@pytest.mark.django_db
def test_readiness_reports_a_reachable_redis_and_rabbitmq():
    if not (listening(6379) and listening(5672)):
        pytest.skip("needs Redis on 6379 and RabbitMQ on 5672 (as in CI)")
    with override_settings(
        CACHE_URL="redis://127.0.0.1:6379/1",
        CELERY_BROKER_URL="amqp://guest:guest@127.0.0.1:5672//",
    ):
        body = Client().get("/readyz").json()
    assert body == {"status": "ok", "database": "ok", "redis": "ok", "broker": "ok"}


@pytest.mark.django_db
def test_unreachable_rabbitmq_is_reported():
    with override_settings(CELERY_BROKER_URL="amqp://guest:guest@127.0.0.1:18199//"):
        body = Client().get("/readyz").json()
    assert (body["status"], body["broker"]) == ("degraded", "unavailable")


def test_database_down_is_503_whatever_redis_says():
    with mock.patch("config.api.health.connection") as conn:
        conn.cursor.side_effect = OperationalError("down")
        response = Client().get("/readyz")
    assert response.status_code == 503
    assert response.json()["status"] == "unavailable"
    assert response.json()["database"] == "unavailable"


def test_every_redis_client_has_short_socket_timeouts_and_no_retries(settings):
    options = settings.REDIS_CLIENT_OPTIONS
    assert 0 < options["socket_timeout"] <= 1 and 0 < options["socket_connect_timeout"] <= 1
    assert options["retry"].get_retries() == 0


def test_a_paused_redis_costs_one_socket_timeout(settings):
    """A server that accepts and never answers (a paused Redis) holds a request for one timeout."""
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)
    url = f"redis://127.0.0.1:{silent.getsockname()[1]}/0"
    try:
        started = time.monotonic()
        assert health._redis_ping(url) == "unavailable"
        elapsed = time.monotonic() - started
    finally:
        silent.close()
        health._redis_clients.pop(url, None)
    assert elapsed < settings.REDIS_SOCKET_TIMEOUT_SECONDS * 2 + 0.2, elapsed


def test_persistent_connections_are_health_checked(settings):
    assert settings.DATABASES["default"]["CONN_HEALTH_CHECKS"] is True
