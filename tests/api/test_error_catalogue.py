"""The error catalogue is a set of class statements: each error is a type mypy and readers can see."""

from __future__ import annotations

import ast
import inspect

import pytest

from config.api import errors


def test_every_catalogue_entry_is_a_class_statement_of_the_module():
    tree = ast.parse(inspect.getsource(errors))
    declared = {
        node.name
        for node in tree.body
        if isinstance(node, ast.ClassDef)
        and any(isinstance(b, ast.Name) and b.id == "ApiError" for b in node.bases)
    }
    assert {e.__name__ for e in errors.catalogue()} == declared
    assert len(declared) > 50


def test_codes_and_type_names_are_unique():
    entries = errors.catalogue()
    assert len({e.code for e in entries}) == len(entries)
    assert len({e.type_name() for e in entries}) == len(entries)


def test_an_error_must_declare_its_code_status_and_description():
    with pytest.raises(TypeError, match="Incomplete must declare code, description"):

        class Incomplete(errors.ApiError):
            status = 400


def test_the_default_message_is_the_description_unless_declared():
    assert errors.CategoryNotFound().message == errors.CategoryNotFound.description
    assert errors.Unauthorized().message == (
        "Authentication credentials were not provided or are invalid."
    )
    assert errors.Unauthorized.description == "No, malformed, expired or revoked token."
    assert errors.CategoryNotFound("Category 7 not found.").message == "Category 7 not found."
