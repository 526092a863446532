"""Revocation takes effect at once on every worker (SPEC §3, issue 14): gunicorn with 3 workers
on a database the test shares with it; the token is used on every worker, revoked, and then
refused by every worker."""

from __future__ import annotations

import base64
import json
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlencode

import pytest

from tests.integrations.conftest import WORKERS, http_call


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
                lambda _: http_call(port, "GET", "/v2/products", headers=headers)[0], range(count)
            )
        )


@pytest.mark.django_db(transaction=True)  # committed rows, visible to gunicorn
def test_a_revoked_token_is_refused_by_every_worker_at_once(gunicorn):
    port, access_log, client_id, secret = gunicorn
    basic = {
        "Authorization": "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode(),
        "Content-Type": "application/x-www-form-urlencoded",
    }
    status, body = http_call(
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

    status, _ = http_call(port, "POST", "/oauth2/revoke/", urlencode({"token": token}), basic)
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
