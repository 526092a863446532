"""tools/typecheck.py: the mypy baseline only shrinks and does not care about line numbers."""

from __future__ import annotations

import io
import json
from collections import Counter

import pytest

from tools import typecheck
from tools.typecheck import Error, compare, parse_report, read_baseline, render_baseline


def _line(path: str, line: int, code: str, message: str, severity: str = "error") -> str:
    entry = {"file": path, "line": line, "column": 4, "message": message, "hint": None}
    return json.dumps({**entry, "code": code, "severity": severity})


REPORT = "\n".join(
    [
        _line(
            "config/api/a.py", 10, "union-attr", 'Item "None" of "X | None" has no attribute "y"'
        ),
        _line(
            "config/api/a.py", 30, "union-attr", 'Item "None" of "X | None" has no attribute "y"'
        ),
        _line("config/api/b.py", 5, "no-redef", 'Name "f" already defined on line 2'),
        _line("config/api/b.py", 5, "no-redef", "See the first definition", severity="note"),
    ]
)


def _baseline(tmp_path, errors: list[Error]) -> Counter[str]:
    path = tmp_path / "mypy-baseline.txt"
    path.write_text(render_baseline(errors), encoding="utf-8")
    return read_baseline(path)


def test_the_report_keeps_errors_and_drops_notes():
    errors = parse_report(REPORT + "\n")
    assert [(e.path, e.line, e.code) for e in errors] == [
        ("config/api/a.py", 10, "union-attr"),
        ("config/api/a.py", 30, "union-attr"),
        ("config/api/b.py", 5, "no-redef"),
    ]


def test_unreadable_mypy_output_is_a_failure_not_a_clean_run():
    with pytest.raises(typecheck.MypyFailed):
        parse_report("mypy: error: Cannot find implementation or library stub\n")


def test_the_same_errors_on_other_lines_match_the_baseline(tmp_path):
    baseline = _baseline(tmp_path, parse_report(REPORT))
    shifted = REPORT.replace('"line": 10', '"line": 14').replace('"line": 5,', '"line": 9,')
    shifted = shifted.replace("defined on line 2", "defined on line 6")
    result = compare(parse_report(shifted), baseline)
    assert result.clean
    assert result.new == [] and not result.fixed


def test_a_new_error_fails_even_when_its_twin_is_in_the_baseline(tmp_path):
    errors = parse_report(REPORT)
    baseline = _baseline(tmp_path, errors[1:])  # one of the two union-attr errors is known
    result = compare(errors, baseline)
    assert not result.clean
    assert [(e.path, e.line) for e in result.new] == [("config/api/a.py", 30)]
    assert not result.fixed


def test_a_fixed_error_still_in_the_baseline_fails_until_the_baseline_shrinks(tmp_path):
    errors = parse_report(REPORT)
    baseline = _baseline(tmp_path, errors)
    result = compare(errors[:2], baseline)
    assert not result.clean and result.new == []
    assert result.fixed == Counter(
        {'config/api/b.py: [no-redef] Name "f" already defined on line N': 1}
    )
    out = io.StringIO()
    typecheck.report(result, total=2, baseline_total=3, out=out)
    assert "make typecheck-baseline" in out.getvalue()
    assert compare(errors[:2], _baseline(tmp_path, errors[:2])).clean


def test_the_committed_baseline_is_sorted_and_has_no_line_numbers():
    lines = [
        line
        for line in typecheck.BASELINE.read_text(encoding="utf-8").splitlines()
        if not line.startswith("#")
    ]
    assert lines == sorted(lines)
    for line in lines:
        path, _, rest = line.partition(": [")
        assert path.endswith(".py") and ":" not in path, line
        assert "] " in rest, line
