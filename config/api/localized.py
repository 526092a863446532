"""LocalizedString fields (SPEC §6) over django-modeltranslation's per-language columns.

The API never reads ``obj.name`` (its value depends on the active language); it reads and writes the
raw ``name_<lang>`` columns, so output and merges do not depend on request state.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver

from config.api.validation import INVALID, Errors, Field, Language, Str, add_error, join

SLUG_PATTERN = r"[a-z0-9]+(?:-[a-z0-9]+)*"
_SLUG_RE = re.compile(SLUG_PATTERN)


def languages() -> list[str]:
    return list(settings.CATALOGUE_LANGUAGES)


def column(base: str, language: str) -> str:
    return f"{base}_{language}"


class Localized(Field):
    """``[{"language": "EN", "value": "…"}]`` in, ``{lang: value-or-None}`` out (None clears)."""

    json_type = "array"

    def __init__(self, base: str, value: Str | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("attr", base)
        super().__init__(**kwargs)
        self.base = base
        self.value = value or Str(max_length=65535)
        self.language = Language()

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
        value = self.value.openapi()
        value["nullable"] = True
        return {
            "type": "array",
            "description": self.description or "LocalizedString: one entry per language.",
            "items": {
                "type": "object",
                "properties": {"language": self.language.openapi(), "value": value},
                "required": ["language", "value"],
                "additionalProperties": False,
            },
        }


class SlugValue(Str):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(
            max_length=255,
            pattern=SLUG_PATTERN,
            pattern_message="Lower-case a-z0-9 words joined by '-'.",
            **kwargs,
        )


def _columns(base: str) -> tuple[tuple[str, str, str], ...]:
    """``(language, LANGUAGE, column)`` of ``base`` in every catalogue language."""
    found = _COLUMNS.get(base)
    if found is None:
        found = _COLUMNS[base] = tuple(
            (language, language.upper(), column(base, language))
            for language in settings.CATALOGUE_LANGUAGES
        )
    return found


_COLUMNS: dict[str, tuple[tuple[str, str, str], ...]] = {}


@receiver(setting_changed)
def _languages_changed(setting: str, **kwargs: Any) -> None:
    if setting == "CATALOGUE_LANGUAGES":
        _COLUMNS.clear()


def localized_output(obj: Any, base: str, only: str | None = None) -> list[dict[str, str]]:
    out = []
    for language, upper, name in _columns(base):
        if only and language != only:
            continue
        value = getattr(obj, name, None)
        if value not in (None, ""):
            out.append({"language": upper, "value": value})
    return out


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


def is_valid_slug(value: str) -> bool:
    return bool(_SLUG_RE.fullmatch(value))
