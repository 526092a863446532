"""The same ``Idempotency-Key`` fired 8 times at once at gunicorn with 3 workers (SPEC §18): one
write, eight byte-identical answers, whichever worker answers (issue 14).

gunicorn runs on the test database (committed data: ``transactional_db``) on a port of this
helper's range and is stopped by its PID.
"""

from __future__ import annotations

import http.client
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import orjson
import pytest
from django.db import connection

from catalogue.models import Product
from config.api.models import IdempotencyRecord

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
PORT = 18201
ROOT = Path(__file__).resolve().parents[2]
DUPLICATES = 8


@pytest.fixture
def gunicorn():
    db = connection.settings_dict
    url = f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    env = {**os.environ, "DATABASE_URL": url, "DEBUG": "1", "LOG_LEVEL": "WARNING"}
    gunicorn_bin = Path(sys.executable).with_name("gunicorn")
    process = subprocess.Popen(
        [str(gunicorn_bin), "-c", "gunicorn.conf.py", "--bind", f"127.0.0.1:{PORT}",
         "--workers", "3"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if request("GET", "/healthz")[0] == 200:
                    break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise
                time.sleep(0.2)
        yield
    finally:
        os.kill(process.pid, signal.SIGTERM)
        process.wait(30)


def request(method: str, path: str, body: bytes | None = None, headers: dict | None = None):
    conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=30)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        conn.close()


def test_eight_concurrent_duplicates_on_three_workers_write_once(api, gunicorn):
    body = orjson.dumps(
        {"names": [{"language": "EN", "value": "Shoe"}], "source": "ERP", "sourceId": "G-1"}
    )
    headers = {
        "Authorization": f"Bearer {api.token}",
        "Content-Type": "application/json",
        "Idempotency-Key": "gunicorn-1",
    }
    barrier, answers = threading.Barrier(DUPLICATES), [None] * DUPLICATES

    def fire(i: int) -> None:
        barrier.wait(10)
        began = time.monotonic()
        answers[i] = (*request("POST", "/v2/products", body, headers), time.monotonic() - began)

    threads = [threading.Thread(target=fire, args=(i,)) for i in range(DUPLICATES)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    statuses = [status for status, *_ in answers]
    assert statuses == [201] * DUPLICATES, answers
    assert len({content for _, _, content, _ in answers}) == 1
    for name in ("Content-Type", "Location", "ETag"):
        assert len({h[name] for _, h, _, _ in answers}) == 1, name
    replayed = [h.get("Idempotent-Replayed") for _, h, _, _ in answers]
    assert replayed.count("true") == DUPLICATES - 1
    assert Product.objects.count() == 1 and IdempotencyRecord.objects.count() == 1
    print("answer seconds:", sorted(round(seconds, 3) for *_, seconds in answers))
