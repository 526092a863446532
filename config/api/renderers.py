"""JSON in and out with orjson: about 20x faster than DRF's renderer on large lists (spike §4b)."""

from __future__ import annotations

import orjson
from rest_framework.parsers import BaseParser
from rest_framework.renderers import BaseRenderer

from config.api.errors import InvalidJSONPayload, SchemaValidationException
from records.validation import MAX_JSON_DEPTH, NUL_MESSAGE, nests_deeper, nul_path


class FastJSONRenderer(BaseRenderer):
    media_type = "application/json"
    format = "json"
    charset = None

    def render(self, data, accepted_media_type=None, renderer_context=None) -> bytes:
        if data is None:
            return b""
        return orjson.dumps(data)


class JSONBodyParser(BaseParser):
    """Parses a JSON body; a body that does not parse, or nests deeper than ``MAX_JSON_DEPTH``,
    is 400 (10005)."""

    media_type = "application/json"

    def parse(self, stream, media_type=None, parser_context=None):
        raw = stream.read() if stream is not None else b""
        if not raw.strip():
            raise InvalidJSONPayload("The request body is empty; a JSON document is required.")
        try:
            data = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise InvalidJSONPayload(f"The request body is not valid JSON: {exc}.") from exc
        if nests_deeper(data, MAX_JSON_DEPTH):
            raise InvalidJSONPayload(
                f"The request body nests arrays and objects deeper than {MAX_JSON_DEPTH} levels."
            )
        if b"\\u0000" in raw:  # JSON spells U+0000 only this way; walk only then
            path = nul_path(data)
            if path is not None:
                raise SchemaValidationException(fields={path or "body": [NUL_MESSAGE]})
        return data
