"""LocalizedString fields (SPEC §6) over django-modeltranslation's per-language columns.

The API never reads ``obj.name`` (its value depends on the active language); it reads and writes the
raw ``name_<lang>`` columns, so output and merges do not depend on request state.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from functools import cache
from typing import Any

from django.conf import settings

from records.components import named, or_null
from records.validation import INVALID, NUL_FREE, Errors, Field, Language, Str, add_error, join

SLUG_PATTERN = r"[a-z0-9]+(?:-[a-z0-9]+)*"


def languages() -> list[str]:
    return list(settings.CATALOGUE_LANGUAGES)


def column(base: str, language: str) -> str:
    return f"{base}_{language}"


class Localized(Field):
    """``[{"language": "EN", "value": "…"}]`` in, ``{lang: value-or-None}`` out (None clears)."""

    json_type = "array"

    def __init__(
        self, base: str, value: Str | None = None, *, name: str = "LocalizedText", **kwargs: Any
    ) -> None:
        kwargs.setdefault("attr", base)
        super().__init__(**kwargs)
        self.base = base
        self.value = value or Str(max_length=65535)
        self.language = Language()
        #: the OpenAPI component of one entry: one per kind of value (text, name, slug, URL)
        self.name = name

    def convert(self, value: Any, path: str, errors: Errors) -> Any:
        if not isinstance(value, list):
            return add_error(errors, path, "Expected an array of {language, value} objects.")
        before = len(errors)
        cleaned: dict[str, str | None] = {}
        for index, entry in enumerate(value):
            item_path = join(path, index)
            if not isinstance(entry, dict):
                add_error(errors, item_path, "Expected a {language, value} object.")
                continue
            for key in set(entry) - {"language", "value"}:
                add_error(errors, join(item_path, key), f"Unknown field '{key}'.")
            if "language" not in entry:
                add_error(errors, join(item_path, "language"), "This field is required.")
                continue
            if "value" not in entry:
                add_error(errors, join(item_path, "value"), "This field is required.")
                continue
            language = self.language.clean(entry["language"], join(item_path, "language"), errors)
            text = entry["value"]
            if text is not None:
                text = self.value.clean(text, join(item_path, "value"), errors)
                if isinstance(text, str) and not text.strip():
                    text = add_error(
                        errors,
                        join(item_path, "value"),
                        "Use null to clear a language, not an empty string.",
                    )
            if language is INVALID or text is INVALID:
                continue
            if language in cleaned:
                add_error(
                    errors,
                    join(item_path, "language"),
                    f"Language '{language.upper()}' appears twice.",
                )
                continue
            cleaned[language] = text
        return INVALID if len(errors) > before else cleaned

    def openapi(self) -> dict:
        return {
            "type": "array",
            "description": self.description or "LocalizedString: one entry per language.",
            "items": named(self.name, self.entry_schema),
        }

    def entry_schema(self) -> dict:
        """``{"language", "value"}``; a null value clears the language in a write."""
        value = self.value.openapi()
        # a blank text is refused (null clears a language): at least one non-space character
        value["minLength"] = max(1, value.get("minLength", 0))
        if value.get("pattern") == NUL_FREE:
            value["pattern"] = r"^[^\u0000]*[^\s\u0000][^\u0000]*$"
        return {
            "type": "object",
            "properties": {"language": self.language.openapi(), "value": or_null(value)},
            "required": ["language", "value"],
            "additionalProperties": False,
        }


class SlugValue(Str):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(
            max_length=255,
            pattern=SLUG_PATTERN,
            pattern_message="Lower-case a-z0-9 words joined by '-'.",
            **kwargs,
        )


def _output_languages(only: str | None) -> tuple[str, ...]:
    return (only,) if only else tuple(settings.CATALOGUE_LANGUAGES)


@cache
def _columns(base: str, langs: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    return tuple((column(base, language), language.upper()) for language in langs)


def localized_columns(base: str, only: str | None = None) -> tuple[tuple[str, str], ...]:
    """``(column, "EN")`` of ``base`` in output order: every catalogue language, or ``only``."""
    return _columns(base, _output_languages(only))


@cache
def _plan(names: tuple[tuple[str, str], ...], langs: tuple[str, ...]) -> tuple:
    return tuple((name, _columns(base, langs)) for name, base in names)


def localized_plan(
    names: Mapping[str, str], only: str | None = None
) -> tuple[tuple[str, tuple[tuple[str, str], ...]], ...]:
    """``(api name, localized_columns(base, only))`` for each ``{api name: base}``: resolved once
    for a whole representation."""
    return _plan(tuple(names.items()), _output_languages(only))


def localized_output(obj: Any, base: str, only: str | None = None) -> list[dict[str, str]]:
    """``localized_row_output`` of a model instance."""
    columns = localized_columns(base, only)
    return localized_row_output({name: getattr(obj, name, None) for name, _ in columns}, columns)


def localized_row_output(
    row: Mapping[str, Any], columns: tuple[tuple[str, str], ...]
) -> list[dict[str, str]]:
    """The languages of ``columns`` (``localized_columns``) that hold a value in ``row`` (a
    ``values()`` row: column name → value)."""
    return [
        {"language": code, "value": value}
        for name, code in columns
        if (value := row[name]) not in (None, "")
    ]


def present_languages(obj: Any, bases: Iterable[str]) -> set[str]:
    return {
        language
        for language in settings.CATALOGUE_LANGUAGES
        for base in bases
        if getattr(obj, column(base, language), None) not in (None, "")
    }


def slugify_text(text: str) -> str:
    """Lower-case ``a-z0-9`` words joined by ``-`` (accents folded: ``Crème`` → ``creme``)."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    words = re.findall(r"[a-z0-9]+", folded.lower())
    return "-".join(words)[:200].strip("-") or "item"
