"""Content negotiation (SPEC §18): every ``/v2/`` route answers JSON.

An ``Accept`` header that leaves JSON out is 406 (10025), answered in JSON all the same (RFC 9110
lets an error ignore ``Accept``, and a client must be able to read why). A client that lists
``application/problem+json`` at least as high as JSON gets its errors as RFC 9457 problem
details; its successes are still JSON.
"""

from __future__ import annotations

import functools

from rest_framework.negotiation import DefaultContentNegotiation

from config.api import errors

JSON = "application/json"
PROBLEM_JSON = "application/problem+json"


#: media ranges read from one ``Accept`` header; real clients send a handful, and 5,000 cost a
#: second per request to parse
MAX_MEDIA_RANGES = 32


@functools.lru_cache(maxsize=256)
def _media_ranges(accept: str) -> tuple[tuple[str, str, float], ...]:
    """``(type, subtype, q)`` of each well-formed media range among the first
    ``MAX_MEDIA_RANGES``; malformed ones are skipped."""
    ranges = []
    for part in accept.split(",", MAX_MEDIA_RANGES)[:MAX_MEDIA_RANGES]:
        media, *params = (piece.strip() for piece in part.split(";"))
        kind, slash, subtype = media.lower().partition("/")
        if not (slash and kind and subtype) or (kind == "*" and subtype != "*"):
            continue
        q = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value.strip())
                except ValueError:
                    q = -1.0
        if 0 <= q <= 1:
            ranges.append((kind, subtype, q))
    return tuple(ranges)


def quality(accept: str | None, media_type: str) -> tuple[float, int]:
    """The ``q`` that ``accept`` gives ``media_type`` and how specifically it names it (2 exact,
    1 ``type/*``, 0 ``*/*``); ``(1.0, 0)`` without a usable header (as if ``*/*``): the most
    specific range that matches decides (RFC 9110 §12.5.1)."""
    ranges = _media_ranges(accept or "")
    if not ranges:
        return 1.0, 0
    kind, subtype = media_type.split("/")
    best: tuple[int, float] | None = None
    for r_kind, r_subtype, q in ranges:
        if (r_kind, r_subtype) == (kind, subtype):
            rank = 2
        elif (r_kind, r_subtype) == (kind, "*"):
            rank = 1
        elif (r_kind, r_subtype) == ("*", "*"):
            rank = 0
        else:
            continue
        if best is None or rank > best[0]:
            best = (rank, q)
    return (0.0, 0) if best is None else (best[1], best[0])


def accepts_json(accept: str | None) -> bool:
    """Whether a JSON answer is acceptable: JSON itself, or problem details named explicitly
    (such a client reads JSON successes too; a wildcard that JSON is excluded from is not)."""
    problem_q, problem_rank = quality(accept, PROBLEM_JSON)
    return quality(accept, JSON)[0] > 0 or (problem_rank == 2 and problem_q > 0)


def wants_problem_details(accept: str | None) -> bool:
    """Whether errors go out as RFC 9457 problem details: the client names
    ``application/problem+json`` itself (a wildcard is no request for it), at least as high as
    plain JSON."""
    q, rank = quality(accept, PROBLEM_JSON)
    return rank == 2 and q > 0 and q >= quality(accept, JSON)[0]


def not_acceptable() -> errors.ApiError:
    return errors.NotAcceptable(
        f"This route answers {JSON} (errors also as {PROBLEM_JSON}); "
        "the Accept header excludes both."
    )


class JsonOnlyNegotiation(DefaultContentNegotiation):
    """Every ``/v2/`` view renders JSON: 406 (10025) when ``Accept`` excludes it, before
    authentication (DRF negotiates first). DRF's own negotiation raised ``NotAcceptable`` for
    ``text/plain`` and for ``application/problem+json`` alike, which became a 500; it also read a
    ``?format=`` override, which no route offers."""

    def select_renderer(self, request, renderers, format_suffix=None):
        if not accepts_json(request.META.get("HTTP_ACCEPT")):
            raise not_acceptable()
        return renderers[0], renderers[0].media_type
