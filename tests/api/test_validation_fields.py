"""The declarative body fields (config/api/validation.py) agree with the JSON Schema they publish."""

from __future__ import annotations

import re

import pytest

from records.validation import INVALID, Int, Str


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (2, 2),
        (2.0, 2),
        (-0.0, 0),
        (2.5, INVALID),
        (True, INVALID),
        ("2", INVALID),
        (1e300, INVALID),
    ],
)
def test_int_takes_what_json_schema_calls_an_integer(value, expected):
    """JSON Schema's ``integer`` is any number without a fractional part: ``2.0`` is one."""
    errors: dict = {}
    assert Int(maximum=10**18).clean(value, "n", errors) == expected
    assert bool(errors) == (expected is INVALID)


def test_str_documents_its_format():
    assert Str(format="date-time").openapi()["format"] == "date-time"
    assert "format" not in Str().openapi()


def test_str_documents_its_pattern_as_the_whole_value_and_refuses_nul():
    """``convert`` matches the whole value; a JSON Schema pattern searches: it is anchored."""
    slug = Str(pattern=r"[a-z]+(?:-[a-z]+)*").openapi()["pattern"]
    assert slug == r"^(?:[a-z]+(?:-[a-z]+)*)$"
    assert re.search(slug, "shoes-2") is None
    assert re.search(Str().openapi()["pattern"], "a\x00b") is None
