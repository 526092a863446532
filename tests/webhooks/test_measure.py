"""Webhook figures (issue 20), measured with a real worker; opt-in: ``WEBHOOK_MEASURE=1`` with
PostgreSQL. Prints and writes ``var/webhook-figures.json``:

- latency from commit to receipt (p50/p95) of single product writes, one every 50 ms; the commit
  time is taken when the API call returns (the commit precedes it by the answer's rendering);
- a 2,000-item bulk fanned out to two subscribers: seconds from the bulk's answer to the last
  receipt, and deliveries per second.
"""

from __future__ import annotations

import json
import os
import statistics
import time
from pathlib import Path

import orjson
import pytest

from tests.webhooks.worker import ROOT, running_worker

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not os.environ.get("WEBHOOK_MEASURE"), reason="set WEBHOOK_MEASURE=1"),
]
SINGLE_WRITES = int(os.environ.get("WEBHOOK_MEASURE_WRITES", "200"))
BULK_ITEMS = 2000


def name(value):
    return [{"language": "EN", "value": value}]


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def test_measure_latency_and_bulk_fan_out(api, allow_private, make_receiver):
    first, second = make_receiver(), make_receiver()
    for receiver in (first, second):
        receiver.tick = None
        response = api.post("/v2/webhooks", {"url": receiver.url, "events": ["product.*"]})
        assert response.status_code == 201
    figures: dict[str, object] = {}
    with running_worker():
        committed: dict[int, float] = {}
        for i in range(SINGLE_WRITES):
            response = api.post("/v2/products", {"names": name(f"L{i}")})
            committed[response.json()["data"]["id"]] = time.time()
            time.sleep(0.05)
        got = first.wait_for(SINGLE_WRITES, seconds=120)
        latencies = [
            (r.at - committed[orjson.loads(r.body)["data"]["recordId"]]) * 1000 for r in got
        ]
        figures["single_writes"] = SINGLE_WRITES
        figures["latency_ms_p50"] = round(statistics.median(latencies), 1)
        figures["latency_ms_p95"] = round(percentile(latencies, 0.95), 1)
        figures["latency_ms_max"] = round(max(latencies), 1)
        second.wait_for(SINGLE_WRITES, seconds=120)

        items = [
            {"source": "MEASURE", "sourceId": f"M-{i}", "names": name(f"Bulk {i}"), "sku": f"M{i}"}
            for i in range(BULK_ITEMS)
        ]
        begun = time.time()
        response = api.post("/v2/products/bulk/sourceId", {"products": items})
        assert response.status_code == 200, response.content[:500]
        answered = time.time()
        total = SINGLE_WRITES + BULK_ITEMS
        last = max(first.wait_for(total, 600)[-1].at, second.wait_for(total, 600)[-1].at)
        figures["bulk_request_seconds"] = round(answered - begun, 2)
        figures["bulk_fan_out_seconds"] = round(last - answered, 2)
        figures["bulk_deliveries_per_second"] = round(2 * BULK_ITEMS / (last - answered), 1)
    print("webhook figures:", json.dumps(figures))
    out = Path(ROOT) / "var" / "webhook-figures.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(figures, indent=2))
