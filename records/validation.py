"""A small declarative validator for request bodies, shared by single-record and bulk endpoints.

A DRF serializer per object costs more than the rules it runs; bulk requests validate thousands
of items, so bodies are checked by these plain field objects instead. Each field knows
its JSON shape (``openapi()``), the model attribute it feeds (``attr``) and how to clean a value,
reporting errors under the JSON path (``names[0].language``) that SPEC §4 shows in ``fields``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable
from typing import Any

import orjson
from django.conf import settings

from config.api.errors import SchemaValidationException
from records.components import named, or_null

INVALID = object()  # returned by clean() when the value produced an error
Errors = dict[str, list[str]]


def add_error(errors: Errors, path: str, message: str) -> object:
    errors.setdefault(path or "body", []).append(message)
    return INVALID


def join(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


#: the largest row id: the top of a bigint (PostgreSQL) and of an INTEGER (SQLite)
MAX_ID = 2**63 - 1

#: PostgreSQL text cannot hold U+0000: every string input refuses it (400), and says so
NUL = "\x00"
NUL_MESSAGE = "Must not contain the NUL character (U+0000)."
NUL_FREE = r"^[^\u0000]*$"
#: the schema of free text without other rules (attribute values)
TEXT: dict[str, Any] = {"type": "string", "pattern": NUL_FREE}


def nul_path(value: Any, path: str = "") -> str | None:
    """Where the first U+0000 is in parsed JSON (a string, or an object's key), or None."""
    if isinstance(value, str):
        return path if NUL in value else None
    items = (
        value.items()
        if isinstance(value, dict)
        else enumerate(value)
        if isinstance(value, list)
        else ()
    )
    for key, item in items:
        here = join(path, key)
        if isinstance(key, str) and NUL in key:
            return here
        found = nul_path(item, here)
        if found is not None:
            return found
    return None


#: how deep request JSON (a body, a cursor) may nest: the deepest body the API reads (a bulk cluster's nested
#: products' localized names) is 6 levels. Deeper input only costs: walking it recursively
#: raised RecursionError (500) at ~1,000 levels.
MAX_JSON_DEPTH = 32


def nests_deeper(data: Any, limit: int) -> bool:
    """Whether ``data`` has arrays or objects more than ``limit`` levels deep. Level by level,
    without recursion, looking at containers only: for a bulk body of 2,000 products it costs
    about what orjson takes to parse it, a tenth of validating its items."""
    containers = (dict, list)
    level = [data] if type(data) in containers else []
    for _ in range(limit):
        level = [
            child
            for node in level
            for child in (node.values() if type(node) is dict else node)
            if type(child) in containers
        ]
        if not level:
            return False
    return bool(level)


class Field:
    json_type: str = "string"

    def __init__(
        self,
        *,
        attr: str | None = None,
        nullable: bool = False,
        description: str = "",
        read_only: bool = False,
    ) -> None:
        self.attr = attr
        self.nullable = nullable
        self.description = description
        self.read_only = read_only

    def clean(self, value: Any, path: str, errors: Errors) -> Any:
        if value is None:
            if self.nullable:
                return None
            return add_error(errors, path, "This field may not be null.")
        return self.convert(value, path, errors)

    def convert(self, value: Any, path: str, errors: Errors) -> Any:
        return value

    def openapi(self) -> dict:
        schema: dict[str, Any] = {"type": self.json_type}
        if self.description:
            schema["description"] = self.description
        if self.read_only:
            schema["readOnly"] = True
        return schema

    def document(self, schema: dict[str, Any]) -> dict[str, Any]:
        """``schema`` as this field documents it: with null when the field takes null."""
        return or_null(schema) if self.nullable else schema


class Str(Field):
    def __init__(
        self,
        *,
        max_length: int = 255,
        min_length: int = 0,
        pattern: str | None = None,
        pattern_message: str = "",
        format: str | None = None,  # noqa: A002 - OpenAPI's name; documented, checked by the caller
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.max_length, self.min_length, self.format = max_length, min_length, format
        self.pattern = re.compile(pattern) if pattern else None
        self.pattern_message = pattern_message

    def convert(self, value: Any, path: str, errors: Errors) -> Any:
        if not isinstance(value, str):
            return add_error(errors, path, "Expected a string.")
        if len(value) > self.max_length:
            return add_error(errors, path, f"At most {self.max_length} characters.")
        if len(value) < self.min_length:
            return add_error(errors, path, f"At least {self.min_length} characters.")
        if self.pattern and not self.pattern.fullmatch(value):
            return add_error(errors, path, self.pattern_message or "Invalid format.")
        return value

    def openapi(self) -> dict:
        schema = super().openapi()
        schema["maxLength"] = self.max_length
        if self.min_length:
            schema["minLength"] = self.min_length
        # JSON Schema patterns search; ``convert`` matches the whole value: anchor them
        schema["pattern"] = f"^(?:{self.pattern.pattern})$" if self.pattern else NUL_FREE
        if self.format:
            schema["format"] = self.format
        return self.document(schema)


class Int(Field):
    json_type = "integer"

    def __init__(
        self, *, minimum: int | None = None, maximum: int | None = 2**31 - 1, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.minimum = -(2**31) if minimum is None else minimum
        self.maximum = maximum

    def convert(self, value: Any, path: str, errors: Errors) -> Any:
        if isinstance(value, float) and value.is_integer():
            value = int(value)  # 2.0 is an integer in JSON Schema (and so in the document)
        if isinstance(value, bool) or not isinstance(value, int):
            return add_error(errors, path, "Expected an integer.")
        if value < self.minimum:
            return add_error(errors, path, f"Must be at least {self.minimum}.")
        if self.maximum is not None and value > self.maximum:
            return add_error(errors, path, f"Must be at most {self.maximum}.")
        return value

    def openapi(self) -> dict:
        schema = super().openapi()
        schema["minimum"] = self.minimum
        if self.maximum is not None:
            schema["maximum"] = self.maximum
        return self.document(schema)


class Id(Int):
    """A row id, 1 to ``MAX_ID``: a larger number cannot name a row, and reaching the database
    with one failed there (SQLite cannot bind it, PostgreSQL refuses it past 2^64)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(minimum=1, maximum=MAX_ID, **kwargs)


class Number(Field):
    """A finite JSON number (integer or decimal)."""

    json_type = "number"

    def convert(self, value: Any, path: str, errors: Errors) -> Any:
        if isinstance(value, bool) or not isinstance(value, int | float):
            return add_error(errors, path, "Expected a number.")
        if isinstance(value, float) and not math.isfinite(value):
            return add_error(errors, path, "Numbers must be finite.")
        return value


class Bool(Field):
    json_type = "boolean"

    def convert(self, value: Any, path: str, errors: Errors) -> Any:
        if not isinstance(value, bool):
            return add_error(errors, path, "Expected true or false.")
        return value


class Choice(Field):
    def __init__(self, choices: Iterable[str], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.choices = tuple(choices)

    def convert(self, value: Any, path: str, errors: Errors) -> Any:
        if value not in self.choices:
            return add_error(errors, path, f"Must be one of {', '.join(self.choices)}.")
        return value

    def openapi(self) -> dict:
        schema = super().openapi()
        schema["enum"] = list(self.choices)
        return self.document(schema)


class Language(Field):
    """An ISO 639-1 code of a configured catalogue language, any case in, lower-case out."""

    def convert(self, value: Any, path: str, errors: Errors) -> Any:
        if not isinstance(value, str) or value.lower() not in settings.CATALOGUE_LANGUAGES:
            return add_error(errors, path, f"Unknown language '{value}'.")
        return value.lower()

    def openapi(self) -> dict:
        schema = super().openapi()
        codes = ", ".join(code.upper() for code in settings.CATALOGUE_LANGUAGES)
        schema["description"] = f"{schema.get('description', '')} {codes}, in any case.".strip()
        schema["pattern"] = any_case_pattern(settings.CATALOGUE_LANGUAGES)
        schema["examples"] = [settings.CATALOGUE_DEFAULT_LANGUAGE.upper()]
        return self.document(schema)


def any_case_pattern(words: Iterable[str]) -> str:
    """An ECMA-262 pattern matching exactly ``words`` in any letter case (``^(?:[eE][nN])$``):
    JSON Schema patterns have no case-insensitive flag."""
    spelled = (
        "".join(f"[{c.lower()}{c.upper()}]" if c.lower() != c.upper() else re.escape(c) for c in w)
        for w in words
    )
    return f"^(?:{'|'.join(spelled)})$"


class ListOf(Field):
    json_type = "array"

    def __init__(
        self,
        item: Field,
        *,
        max_items: int = 1000,
        min_items: int = 0,
        max_bytes: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.item, self.max_items, self.min_items = item, max_items, min_items
        #: the most bytes the cleaned array may take as compact JSON (what is stored and served)
        self.max_bytes = max_bytes

    def convert(self, value: Any, path: str, errors: Errors) -> Any:
        if not isinstance(value, list):
            return add_error(errors, path, "Expected an array.")
        if len(value) > self.max_items:
            return add_error(errors, path, f"At most {self.max_items} items.")
        if len(value) < self.min_items:
            return add_error(errors, path, f"At least {self.min_items} item(s).")
        before = len(errors)
        cleaned = [self.item.clean(v, join(path, i), errors) for i, v in enumerate(value)]
        if len(errors) > before:
            return INVALID
        if self.max_bytes is not None and len(orjson.dumps(cleaned)) > self.max_bytes:
            return add_error(errors, path, f"At most {self.max_bytes:,} bytes as JSON.")
        return cleaned

    def openapi(self) -> dict:
        schema = super().openapi()
        schema["items"] = self.item.openapi()
        schema["maxItems"] = self.max_items
        if self.min_items:
            schema["minItems"] = self.min_items
        if self.max_bytes is not None:
            limit = f"At most {self.max_bytes:,} bytes as compact JSON."
            schema["description"] = f"{schema.get('description', '')} {limit}".strip()
        return self.document(schema)


class Obj(Field):
    """A JSON object with known keys; unknown keys are errors naming the key."""

    json_type = "object"

    def __init__(
        self,
        fields: dict[str, Field],
        *,
        required: Iterable[str] = (),
        check: Callable[[dict, str, Errors], None] | None = None,
        rules: Iterable[dict[str, Any]] = (),
        name: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.fields = fields
        self.required = tuple(required)
        self.check = check
        #: what ``check`` enforces, as far as JSON Schema can say it (OpenAPI ``allOf``)
        self.rules = tuple(rules)
        #: the OpenAPI component this body is documented as (``records.components``)
        self.name = name

    def convert(self, value: Any, path: str, errors: Errors, *, partial: bool = False) -> Any:
        if not isinstance(value, dict):
            return add_error(errors, path, "Expected an object.")
        before = len(errors)
        cleaned: dict[str, Any] = {}
        for key, raw in value.items():
            field = self.fields.get(key)
            if field is None or field.read_only:
                add_error(errors, join(path, key), f"Unknown field '{key}'.")
                continue
            result = field.clean(raw, join(path, key), errors)
            if result is not INVALID:
                cleaned[field.attr or key] = result
        if not partial:
            for key in self.required:
                if key not in value:
                    add_error(errors, join(path, key), "This field is required.")
        if self.check and len(errors) == before:
            self.check(cleaned, path, errors)
        return INVALID if len(errors) > before else cleaned

    def openapi(self, *, for_write: bool = True) -> dict:
        """The body's schema; a reference to its component when it is named (as written)."""
        if self.name and for_write:
            schema = named(self.name, self.object_schema, owner=self)
            return self.document({**schema, **self._annotations()})
        return self.document(self.object_schema(for_write=for_write))

    def _annotations(self) -> dict[str, Any]:
        notes: dict[str, Any] = {"description": self.description} if self.description else {}
        return {**notes, "readOnly": True} if self.read_only else notes

    def object_schema(self, *, for_write: bool = True) -> dict:
        """The object itself, never a reference (a schema that extends this one starts here)."""
        schema: dict[str, Any] = {"type": "object", **self._annotations()}
        schema["properties"] = {
            key: field.openapi()
            for key, field in self.fields.items()
            if not (for_write and field.read_only)
        }
        schema["additionalProperties"] = False
        if self.required:
            schema["required"] = list(self.required)
        if self.rules:
            schema["allOf"] = [dict(rule) for rule in self.rules]
        return schema

    def validate(self, data: Any, *, partial: bool = False) -> dict:
        """Clean a whole request body or raise 400 (10007) with every problem in ``fields``."""
        errors: Errors = {}
        cleaned = self.convert(data, "", errors, partial=partial)
        if errors or cleaned is INVALID:
            raise SchemaValidationException(fields=errors or {"body": ["Invalid body."]})
        return cleaned


class OneOfShapes(Field):
    """One of several object shapes, chosen by which keys are present (lookups)."""

    json_type = "object"

    def __init__(self, shapes: list[Obj], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.shapes = shapes

    def convert(self, value: Any, path: str, errors: Errors) -> Any:
        if not isinstance(value, dict):
            return add_error(errors, path, "Expected an object.")
        for shape in self.shapes:
            if set(value) == set(shape.fields):
                return shape.convert(value, path, errors)
        described = " or ".join("{" + ", ".join(s.fields) + "}" for s in self.shapes)
        return add_error(errors, path, f"Expected {described}.")

    def openapi(self) -> dict:
        schema: dict[str, Any] = {"oneOf": [s.openapi() for s in self.shapes]}
        if self.description:
            schema["description"] = self.description
        return self.document(schema)


class Ean(Str):
    """GTIN-8/12/13/14 with a valid check digit."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(
            max_length=14,
            min_length=8,
            pattern=r"\d{8}|\d{12,14}",
            pattern_message="Must be 8, 12, 13 or 14 digits.",
            **kwargs,
        )

    def convert(self, value: Any, path: str, errors: Errors) -> Any:
        value = super().convert(value, path, errors)
        if value is INVALID:
            return value
        digits = [int(c) for c in value]
        body, check = digits[:-1], digits[-1]
        total = sum(d * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
        if (10 - total % 10) % 10 != check:
            return add_error(errors, path, "Invalid EAN check digit.")
        return value


#: what a URL may not hold, spelled out: Python's ``\s`` and ECMA-262's differ (``\x1c``-``\x1f``,
#: ``\x85``, ``\ufeff``), so the document's pattern and this validator would disagree; also
#: NUL and the other control characters (refused in every string, or never part of a URL)
_URL_EXCLUDED = r"\u0000-\u0020\u007f-\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
URL_PATTERN = rf"https?://[^{_URL_EXCLUDED}/$.?#][^{_URL_EXCLUDED}]*"


class Url(Str):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(
            max_length=2000,
            pattern=URL_PATTERN,
            pattern_message="Must be an http(s) URL.",
            **kwargs,
        )


class Scalar(Field):
    """An attribute value: a string, a finite number, a boolean or an array of strings, with
    strings of at most ``max_length`` characters and arrays of at most ``max_items`` items."""

    def __init__(self, *, max_length: int = 10_000, max_items: int = 1_000, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.max_length, self.max_items = max_length, max_items

    def convert(self, value: Any, path: str, errors: Errors) -> Any:
        if isinstance(value, bool):
            return value
        if isinstance(value, str):
            if len(value) > self.max_length:
                return add_error(errors, path, f"At most {self.max_length:,} characters.")
            return value
        if isinstance(value, int | float):
            if isinstance(value, float) and not math.isfinite(value):
                return add_error(errors, path, "Numbers must be finite.")
            return value
        if isinstance(value, list) and len(value) > self.max_items:  # before reading the items
            return add_error(errors, path, f"At most {self.max_items:,} items.")
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            for index, item in enumerate(value):
                if len(item) > self.max_length:
                    message = f"At most {self.max_length:,} characters."
                    return add_error(errors, join(path, index), message)
            return value
        return add_error(errors, path, "Expected a string, number, boolean or array of strings.")

    def openapi(self) -> dict:
        text = {**TEXT, "maxLength": self.max_length}
        return {
            "oneOf": [
                text,
                {"type": "number"},
                {"type": "boolean"},
                {"type": "array", "items": text, "maxItems": self.max_items},
            ]
        }
