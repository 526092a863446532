"""mypy against a baseline that only shrinks (`make typecheck`, `make typecheck-baseline`).

``mypy-baseline.txt`` lists the errors the code base still has, one line per error, as
``path: [code] message``: no line numbers, so code moving within a file does not disturb it. The
check fails when mypy reports an error the baseline does not hold (a new error: fix it) and when
the baseline holds an error mypy no longer reports (a fixed error: shrink the baseline with
``--update``, so it cannot come back unnoticed). Errors are counted: a second copy of a known error
in the same file is a new error.

    python -m tools.typecheck            # check (exit 1 on any difference, 2 if mypy failed)
    python -m tools.typecheck --update   # rewrite the baseline from the current errors
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "mypy-baseline.txt"
HEADER = (
    "# mypy errors not fixed yet, one per line as `path: [code] message` (tools/typecheck.py).\n"
    "# It only shrinks: `make typecheck` fails on a new error and on an entry that no longer\n"
    "# occurs; after fixing errors (or moving files) run `make typecheck-baseline`.\n"
)
_LINE_REFERENCE = re.compile(r"\bline \d+\b")


@dataclass(frozen=True)
class Error:
    """One mypy error: its baseline key and where it is now."""

    path: str
    line: int
    code: str
    message: str

    @property
    def key(self) -> str:
        # Messages may cite other lines ("already defined on line 12"): those move too.
        return f"{self.path}: [{self.code}] {_LINE_REFERENCE.sub('line N', self.message)}"


class MypyFailed(RuntimeError):
    """mypy did not produce a report (bad configuration, crash, unreadable output)."""


def parse_report(output: str) -> list[Error]:
    """The errors in mypy's ``--output json`` report (notes are dropped)."""
    errors = []
    for raw in output.splitlines():
        if not raw.strip():
            continue
        try:
            entry = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise MypyFailed(f"unexpected mypy output: {raw!r}") from exc
        if entry.get("severity") == "error":
            message = " ".join(entry["message"].split())
            path = Path(entry["file"]).as_posix()
            errors.append(Error(path, entry["line"], entry.get("code") or "misc", message))
    return errors


def run_mypy() -> list[Error]:
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "--output", "json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    # 0: clean, 1: errors reported; anything else means mypy itself failed.
    if done.returncode not in (0, 1):
        raise MypyFailed(done.stderr.strip() or done.stdout.strip() or f"exit {done.returncode}")
    return parse_report(done.stdout)


def read_baseline(path: Path = BASELINE) -> Counter[str]:
    if not path.exists():
        return Counter()
    lines = path.read_text(encoding="utf-8").splitlines()
    return Counter(line for line in lines if line.strip() and not line.startswith("#"))


def render_baseline(errors: Iterable[Error]) -> str:
    return HEADER + "".join(f"{key}\n" for key in sorted(e.key for e in errors))


@dataclass
class Comparison:
    new: list[Error]  # reported, beyond what the baseline allows for its key
    fixed: Counter[str]  # in the baseline, no longer reported

    @property
    def clean(self) -> bool:
        return not self.new and not self.fixed


def compare(errors: list[Error], baseline: Counter[str]) -> Comparison:
    allowed = Counter(baseline)
    new = []
    for error in sorted(errors, key=lambda e: (e.path, e.line, e.key)):
        if allowed[error.key] > 0:
            allowed[error.key] -= 1
        else:
            new.append(error)
    return Comparison(new=new, fixed=+allowed)


def report(result: Comparison, total: int, baseline_total: int, out: TextIO = sys.stdout) -> None:
    for error in result.new:
        print(f"new: {error.path}:{error.line}: [{error.code}] {error.message}", file=out)
    for key, count in sorted(result.fixed.items()):
        print(
            f"fixed, still in the baseline: {key}" + (f" (x{count})" if count > 1 else ""), file=out
        )
    if result.new:
        print(
            f"{len(result.new)} new mypy error(s): fix them (the baseline only shrinks).", file=out
        )
    if result.fixed:
        print(
            f"{result.fixed.total()} baseline entr(y/ies) no longer occur: "
            "run `make typecheck-baseline` and commit mypy-baseline.txt.",
            file=out,
        )
    print(f"mypy: {total} error(s), baseline: {baseline_total}", file=out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--update", action="store_true", help="rewrite mypy-baseline.txt")
    args = parser.parse_args(argv)
    try:
        errors = run_mypy()
    except MypyFailed as exc:
        print(f"mypy failed: {exc}", file=sys.stderr)
        return 2
    baseline = read_baseline()
    result = compare(errors, baseline)
    if args.update:
        BASELINE.write_text(render_baseline(errors), encoding="utf-8")
        print(
            f"mypy-baseline.txt: {baseline.total()} -> {len(errors)} error(s) "
            f"({len(result.new)} added, {result.fixed.total()} removed)"
        )
        return 0
    report(result, len(errors), baseline.total())
    return 0 if result.clean else 1


if __name__ == "__main__":
    sys.exit(main())
