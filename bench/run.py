"""``python -m bench``: build the dataset, serve with gunicorn, drive it over HTTP, report ratios.

Every target is a ratio measured in one run (this machine is shared and noisy); medians over
``--reps`` repetitions. Query counts are the deterministic part, checked in ``--quick`` mode too.
"""

from __future__ import annotations

import argparse
import base64
import http.client
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable


@dataclass
class Result:
    scenario: str
    ours_ms: float
    baselines: dict[str, float]
    targets: dict[str, str]  # baseline -> "naive/ours >= 20" style description
    ratios: dict[str, float] = field(default_factory=dict)
    passed: bool = True
    deterministic: bool = False
    notes: str = ""


class Http:
    """A keep-alive HTTP client (one connection, sequential requests)."""

    def __init__(self, port: int, token: str = "") -> None:
        self.port, self.token = port, token
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)

    def request(
        self, method: str, path: str, body: bytes | None = None, auth: bool = True
    ) -> tuple[int, bytes, dict[str, str]]:
        headers = {"Content-Type": "application/json"} if body is not None else {}
        if auth and self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        try:
            self.conn.request(method, path, body=body, headers=headers)
            response = self.conn.getresponse()
        except (http.client.HTTPException, ConnectionError):
            self.conn.close()
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=300)
            self.conn.request(method, path, body=body, headers=headers)
            response = self.conn.getresponse()
        return response.status, response.read(), dict(response.getheaders())

    def timed(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        auth: bool = True,
        expect: int = 200,
    ) -> tuple[float, dict[str, str]]:
        start = time.perf_counter()
        status, content, headers = self.request(method, path, body, auth)
        elapsed = (time.perf_counter() - start) * 1000
        if status != expect:
            raise RuntimeError(f"{method} {path} -> {status}: {content[:300]!r}")
        return elapsed, headers


def median_of_reps(run_once: Callable[[], float], reps: int, per_rep: int) -> float:
    """Median over ``reps`` repetitions of the median of ``per_rep`` calls (after a warm-up)."""
    run_once()
    return statistics.median(
        statistics.median(run_once() for _ in range(per_rep)) for _ in range(reps)
    )


def env_for(args) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "DATABASE_URL": args.database_url,
            "DJANGO_SETTINGS_MODULE": "bench.settings",
            "SECRET_KEY": "bench-secret-key-" + "x" * 40,
            "DEBUG": "0",
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "RATE_LIMIT_PER_MINUTE": "0",
            # plain HTTP on loopback: no redirect to https, no HSTS
            "SECURE_SSL_REDIRECT": "0",
            "SECURE_HSTS_SECONDS": "0",
            "ENV_FILE": "",
            "CONN_MAX_AGE": "600",
            # the naive tree of 5,000 nodes runs one query per node: over a minute when contended
            "GUNICORN_TIMEOUT": "900",
        }
    )
    if getattr(args, "broker_url", None):
        # jobs (SPEC §21): the server sends them to the broker, the scenario's worker runs them
        env["CELERY_BROKER_URL"] = args.broker_url
    return env


def manage(args, *command: str, capture: bool = False) -> str:
    result = subprocess.run(
        [PYTHON, "manage.py", *command],
        cwd=ROOT,
        env=env_for(args),
        text=True,
        stdout=subprocess.PIPE if capture else None,
    )
    result.check_returncode()  # its stderr was not captured: the reason is printed above
    return result.stdout if capture else ""


def ensure_database(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    admin = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def dataset(args) -> None:
    """Seed once per dataset shape; a marker row records what is loaded."""
    import psycopg

    wanted = f"products={args.products} categories={args.categories} seed=1"
    with psycopg.connect(args.database_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS bench_marker (shape text)")
        row = conn.execute("SELECT shape FROM bench_marker").fetchone()
        if row and row[0] == wanted:
            return
        print(f"building dataset: {wanted}", file=sys.stderr)
    manage(args, "flush", "--noinput")
    manage(
        args,
        "seed_demo_catalogue",
        "--products",
        str(args.products),
        "--categories",
        str(args.categories),
        "--seed",
        "1",
    )
    with psycopg.connect(args.database_url, autocommit=True) as conn:
        conn.execute("DELETE FROM bench_marker")
        conn.execute("INSERT INTO bench_marker VALUES (%s)", [wanted])
        conn.execute("VACUUM ANALYZE")


#: sources of the products the write scenarios create (bulk: BULK, import: RSS)
SCRATCH_SOURCES = ("BULK", "RSS")


def drop_scratch(args) -> None:
    """Delete what earlier runs' write scenarios added, so every run reads the seeded shape
    (a full run's import alone adds 420,000 products)."""
    import psycopg

    with psycopg.connect(args.database_url) as conn:
        conn.execute(
            "CREATE TEMP TABLE scratch ON COMMIT DROP AS SELECT DISTINCT product_id AS id "
            "FROM catalogue_productsource WHERE source = ANY(%s)",
            [list(SCRATCH_SOURCES)],
        )
        (count,) = conn.execute("SELECT count(*) FROM scratch").fetchone()
        if not count:
            return
        for table in ("clusters_cluster", "clusters_clusteroption"):
            conn.execute(
                f"UPDATE {table} SET default_product_id = NULL "
                "WHERE default_product_id IN (SELECT id FROM scratch)"
            )
        for table in (
            "catalogue_productattribute",
            "catalogue_productcategory",
            "catalogue_productsource",
            "clusters_clusterproduct",
            "clusters_optionproduct",
        ):
            conn.execute(f"DELETE FROM {table} WHERE product_id IN (SELECT id FROM scratch)")
        conn.execute("DELETE FROM catalogue_product WHERE id IN (SELECT id FROM scratch)")
    with psycopg.connect(args.database_url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE catalogue_product")
    print(f"removed {count} products earlier runs wrote", file=sys.stderr)


def serve(args) -> subprocess.Popen:
    process = subprocess.Popen(
        [
            PYTHON,
            "-m",
            "gunicorn",
            "-c",
            "gunicorn.conf.py",
            "--workers",
            "2",
            "--bind",
            f"127.0.0.1:{args.port}",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env_for(args),
    )
    for _ in range(100):
        try:
            if Http(args.port).request("GET", "/healthz", auth=False)[0] == 200:
                return process
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError("gunicorn did not start")


def token(args, client: dict) -> str:
    basic = base64.b64encode(f"{client['client_id']}:{client['client_secret']}".encode()).decode()
    conn = http.client.HTTPConnection("127.0.0.1", args.port)
    conn.request(
        "POST",
        "/oauth2/token/",
        body="grant_type=client_credentials",
        headers={
            "Authorization": f"Basic {basic}",
            "Content-Type": "application/x-www-form-urlencoded",
        },
    )
    response = conn.getresponse()
    body = response.read()
    if response.status != 200:
        raise RuntimeError(f"token request answered {response.status}: {body[:300]!r}")
    return json.loads(body)["access_token"]


def ratio_check(result: Result, name: str, ratio: float, op: str, bound: float) -> None:
    result.ratios[name] = round(ratio, 2)
    ok = ratio >= bound if op == ">=" else ratio <= bound
    result.passed = result.passed and ok


def report(results: list[Result], path: Path) -> bool:
    header = (
        f"{'scenario':<44} {'ours ms':>9} {'baselines ms':<28} {'ratios':<34} {'target':<30} ok"
    )
    print(header)
    print("-" * len(header))
    for r in results:
        baselines = ", ".join(f"{k} {v:.1f}" for k, v in r.baselines.items())
        ratios = ", ".join(f"{k} {v}" for k, v in r.ratios.items())
        targets = "; ".join(r.targets.values())
        print(
            f"{r.scenario:<44} {r.ours_ms:>9.2f} {baselines:<28} {ratios:<34} {targets:<30} "
            f"{'PASS' if r.passed else 'FAIL'}"
        )
        if r.notes:
            print(f"    {r.notes}")
    path.write_text(json.dumps([asdict(r) for r in results], indent=2))
    print(f"\nwritten: {path}")
    return all(r.passed for r in results)


def main(argv: list[str] | None = None) -> int:
    from bench import scenarios

    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--quick", action="store_true", help="small dataset, fewer repetitions")
    parser.add_argument("--products", type=int)
    parser.add_argument("--categories", type=int)
    parser.add_argument("--reps", type=int)
    parser.add_argument("--port", type=int, default=8123)
    parser.add_argument(
        "--database-url",
        default=os.environ.get(
            "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/catalogue_bench"
        ),
    )
    parser.add_argument("--json", default=str(ROOT / "bench" / "results.json"))
    parser.add_argument("--only", help="comma-separated scenario names")
    parser.add_argument(
        "--import-size",
        type=int,
        help="products for the import_catalogue scenario (default 200000; 0 skips; --quick: 0)",
    )
    parser.add_argument(
        "--broker-url",
        default=os.environ.get("BENCH_BROKER_URL", ""),
        help="Celery broker for the job import scenario (jobimport; skipped without one)",
    )
    args = parser.parse_args(argv)
    args.products = args.products or (10_000 if args.quick else 100_000)
    args.categories = args.categories or (500 if args.quick else 5_000)
    args.reps = args.reps or (3 if args.quick else 5)
    if args.import_size is None:
        args.import_size = 0 if args.quick else 200_000

    ensure_database(args.database_url)
    manage(args, "migrate", "--noinput", "-v0")
    dataset(args)
    drop_scratch(args)
    client = json.loads(
        manage(args, "create_api_client", "--name", "bench", "--json", capture=True)
    )
    server = serve(args)
    try:
        http_client = Http(args.port, token(args, client))
        results = scenarios.run_all(http_client, args)
    finally:
        server.terminate()
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
    ok = report(results, Path(args.json))
    if args.quick:
        # CI fails only on the deterministic checks; timing ratios are printed for information.
        return 0 if all(r.passed for r in results if r.deterministic) else 1
    return 0 if ok else 1


def query(params: dict) -> str:
    return "?" + urlencode(params)
