"""Peak memory of ``import_catalogue`` as the file grows (issue 5: it must stay flat).

Writes NDJSON files of N products (2 languages, a source, a parent category, 3 attributes),
imports each with ``manage.py import_catalogue`` in a child process and samples the child's
resident set size (``/proc/<pid>/status``) while it runs. A streaming import has the same peak
for 20,000 and 200,000 records.

Usage (a dedicated, migrated database; every run adds N products)::

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/catalogue_bench DEBUG=0 SECRET_KEY=x \\
        python bench/import_rss.py --sizes 20000 200000
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parent.parent


def write_file(path: Path, count: int, tag: str) -> None:
    with path.open("wb") as out:
        for i in range(count):
            key = f"{tag}-{i}"
            out.write(
                orjson.dumps(
                    {
                        "sourceId": key,
                        "source": "RSS",
                        "names": [
                            {"language": "EN", "value": f"Imported product {key}"},
                            {"language": "NL", "value": f"Geimporteerd product {key}"},
                        ],
                        "sku": f"R-{key}",
                        "parent": {"source": "BENCH", "sourceId": "PARENT"},
                        "attributes": [
                            {"name": "COLOR", "value": ["red", "blue", "green"][i % 3]},
                            {"name": "SIZE", "value": i % 50},
                            {"name": "ORGANIC", "value": i % 2 == 0},
                        ],
                    }
                )
                + b"\n"
            )


def rss_kib(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except FileNotFoundError:
        return None
    return None


def measure(path: Path, batch_size: int) -> dict:
    command = [
        sys.executable,
        str(ROOT / "manage.py"),
        "import_catalogue",
        str(path),
        "--entity",
        "products",
        "--batch-size",
        str(batch_size),
        "--no-progress",
    ]
    started = time.monotonic()
    child = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    samples: list[tuple[float, int]] = []
    while child.poll() is None:
        value = rss_kib(child.pid)
        if value:
            samples.append((time.monotonic() - started, value))
        time.sleep(0.2)
    out, err = child.communicate()
    if child.returncode != 0:
        sys.exit(f"import failed: {err.decode()[-2000:]}")
    peak = max(v for _, v in samples)
    quarter = [samples[int(len(samples) * f) - 1][1] for f in (0.25, 0.5, 0.75, 1.0)]
    return {
        "seconds": time.monotonic() - started,
        "peak_kib": peak,
        "quarters_kib": quarter,
        "summary": out.decode().strip().splitlines()[-1],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[20_000, 200_000])
    parser.add_argument("--batch-size", type=int, default=1000)
    args = parser.parse_args()
    if "postgres" not in os.environ.get("DATABASE_URL", ""):
        print("note: DATABASE_URL is not PostgreSQL; measuring on SQLite")
    with tempfile.TemporaryDirectory() as tmp:
        parent = Path(tmp) / "parent.ndjson"
        parent.write_bytes(
            orjson.dumps(
                {
                    "sourceId": "PARENT",
                    "source": "BENCH",
                    "names": [{"language": "EN", "value": "Bench parent"}],
                }
            )
        )
        subprocess.run(
            [sys.executable, str(ROOT / "manage.py"), "import_catalogue", str(parent),
             "--entity", "categories"],
            cwd=ROOT,
            check=True,
            capture_output=True,
        )  # fmt: skip
        for size in args.sizes:
            path = Path(tmp) / f"products-{size}.ndjson"
            write_file(path, size, f"rss{time.time_ns() % 10**9}-{size}")
            result = measure(path, args.batch_size)
            print(
                f"{size:>8} records ({path.stat().st_size / 2**20:6.1f} MiB): "
                f"peak RSS {result['peak_kib'] / 1024:6.1f} MiB, RSS at 25/50/75/100 % "
                f"{' / '.join(f'{v / 1024:.1f}' for v in result['quarters_kib'])} MiB, "
                f"{result['seconds']:6.1f} s ({size / result['seconds']:.0f} records/s)",
                flush=True,
            )
            print(f"         {result['summary']}")
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    print(f"largest child peak (getrusage ru_maxrss): {children / 1024:.1f} MiB")


if __name__ == "__main__":
    main()
