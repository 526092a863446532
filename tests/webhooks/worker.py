"""A real Celery worker process for the webhook tests and the measurement (PostgreSQL only): it
reads the test database, takes tasks from this helper's Redis db, and runs beat's sweep every
second. The test process sends its tasks there too while ``sending_to`` is active."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import redis
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]
BROKER = os.environ.get("WEBHOOK_TEST_BROKER", "redis://127.0.0.1:6379/4")


def database_url() -> str:
    s = connection.settings_dict
    return f"postgres://{s['USER']}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


@contextlib.contextmanager
def running_worker(concurrency: int = 8, **env_overrides: str):
    """``celery -A config worker -P threads -B`` against the test database; stopped by PID."""
    redis.Redis.from_url(BROKER).flushdb()
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("CELERY_", "PYTEST_", "DATABASE_URL", "REDIS_URL"))
    }
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings_test",
        DATABASE_URL=database_url(),
        CELERY_BROKER_URL=BROKER,
        WEBHOOK_ALLOW_PRIVATE="1",
        WEBHOOK_SWEEP_SECONDS="1",
        **env_overrides,
    )
    state = tempfile.mkdtemp(prefix="hooks-worker-")
    log = open(Path(state) / "worker.log", "w+")  # noqa: SIM115 - closed below
    process = subprocess.Popen(
        [
            sys.executable, "-m", "celery", "-A", "config", "worker", "-B",
            "-s", str(Path(state) / "beat-schedule"), "-P", "threads", "-c", str(concurrency),
            "--without-gossip", "--without-mingle", "--without-heartbeat", "-l", "info",
        ],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while "ready" not in Path(log.name).read_text():
            assert process.poll() is None, Path(log.name).read_text()[-3000:]
            assert time.monotonic() < deadline, "the worker did not start in 60 s"
            time.sleep(0.2)
        with sending_to(BROKER):
            yield process, Path(log.name)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
        log.close()


@contextlib.contextmanager
def sending_to(broker: str):
    """This process sends tasks to ``broker`` (not eagerly in-process) while inside."""
    from config.celery import app

    saved = app.conf.task_always_eager, app.conf.broker_url
    app.conf.task_always_eager, app.conf.broker_url = False, broker
    try:
        yield
    finally:
        app.conf.task_always_eager, app.conf.broker_url = saved
        app.pool.force_close_all()
        app._pool = None
