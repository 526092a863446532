"""Terms and how they match a search document (see ``records.search``)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from django.db import connection
from django.db.models import F, Lookup, Q, QuerySet

from config.api.errors import PaginatedResponseException, SchemaValidationException
from records.filters import MAX_TERM_LENGTH
from records.search.text import normalize

FUZZY_MIN_LENGTH = 5
#: Bounds on the work one term may ask for (issue 15: one 200-letter word cost 17–39 s of
#: PostgreSQL planning, since the trigram index analyses the edit regex at plan time, and its
#: size grows with the square of the word's length). Longer words match as prefixes only and
#: only the first typo-tolerant words are corrected.
FUZZY_MAX_LENGTH = 20  # letters of the longest word that gets typo corrections
MAX_FUZZY_WORDS = 4  # words per term that get typo corrections
MAX_TERM_WORDS = 16  # words per term that must match; later ones are ignored
MAX_CORRECTIONS = 20  # known words one edit away, per term word


@dataclass(frozen=True)
class Term:
    """A parsed search term: the raw text (for exact code matches), its normalised words and,
    on PostgreSQL, the typo corrections found for its typo-tolerant words (``corrected``)."""

    raw: str
    words: tuple[str, ...]
    corrections: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    @classmethod
    def parse(cls, raw: str | None, *, name: str = "term") -> Term | None:
        """``None`` for an absent or blank term (no term filter); 400 (10007) past 200
        characters. A term without a letter or digit has no words and matches nothing."""
        if raw is None or not raw.strip():
            return None
        if len(raw) > MAX_TERM_LENGTH:
            raise SchemaValidationException(
                fields={name: [f"At most {MAX_TERM_LENGTH} characters."]}
            )
        return cls(raw=raw.strip(), words=tuple(normalize(raw).split()[:MAX_TERM_WORDS]))

    @property
    def text(self) -> str:
        return " ".join(self.words)

    @property
    def fuzzy_words(self) -> tuple[str, ...]:
        """The words that may match with a typo: alphabetic, ``FUZZY_MIN_LENGTH`` to
        ``FUZZY_MAX_LENGTH`` letters, the first ``MAX_FUZZY_WORDS`` of them."""
        fuzzy = dict.fromkeys(
            w for w in self.words if w.isalpha() and FUZZY_MIN_LENGTH <= len(w) <= FUZZY_MAX_LENGTH
        )
        return tuple(fuzzy)[:MAX_FUZZY_WORDS]

    def corrected(self, pinned: Any = None) -> Term:
        """The term with its typo corrections: those ``pinned`` in a cursor (so that every page
        of a walk runs the same query) or, on PostgreSQL, looked up in the vocabulary."""
        if pinned is not None:
            return replace(self, corrections=_check_pinned(self, pinned))
        if connection.vendor != "postgresql" or not self.fuzzy_words:
            return self
        return replace(self, corrections=_look_up_corrections(self.fuzzy_words))

    def pin(self) -> dict[str, Any]:
        """What a cursor carries: the term (a cursor only continues its own search) and the
        corrections its query was built with (see ``corrected``)."""
        return {"term": self.text, "corrections": {w: list(c) for w, c in self.corrections.items()}}


def _deletions(word: str) -> set[str]:
    return {word[:i] + word[i + 1 :] for i in range(len(word))} - {word}


def _other_edits(word: str) -> set[str]:
    """Two neighbours swapped, a letter replaced or inserted (``_`` is any one character);
    an insertion at the very end is left out: the word as a prefix already covers it."""
    n = len(word)
    variants = {word[:i] + word[i + 1] + word[i] + word[i + 2 :] for i in range(n - 1)}
    variants |= {word[:i] + "_" + word[i + 1 :] for i in range(n)}
    variants |= {word[:i] + "_" + word[i:] for i in range(n)}
    return variants - {word}


def _edit_regex(word: str) -> re.Pattern[str]:
    """Python: is a (whole) vocabulary word one edit away from ``word`` used as a prefix?"""
    starts = "|".join(v.replace("_", ".") for v in sorted(_other_edits(word)))
    deletions = "|".join(sorted(_deletions(word)))
    return re.compile(rf"(?:{starts}).*|{deletions}")


class _Like(Lookup):
    """``lhs LIKE rhs`` with the pattern as given (``_`` and ``%`` are wildcards)."""

    lookup_name = "search_like"

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} LIKE {rhs}", [*lhs_params, *rhs_params]


class _FullText(Lookup):
    """``to_tsvector('simple', lhs) @@ to_tsquery('simple', rhs)``: the GIN expression index."""

    lookup_name = "search_full_text"

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        sql = f"to_tsvector('simple'::regconfig, {lhs}) @@ to_tsquery('simple'::regconfig, {rhs})"
        return sql, [*lhs_params, *rhs_params]


def vocabulary_query(words: Iterable[str]) -> QuerySet:
    """Known words one edit away from any of ``words`` (a superset: see ``_edit_regex``)."""
    from records.models import SearchWord

    words = list(words)
    condition = Q(word__in=sorted({d for w in words for d in _deletions(w)}))
    for word in words:
        starts = "|".join(v.replace("_", ".") for v in sorted(_other_edits(word)))
        condition |= Q(word__regex=f"^({starts})")  # one trigram index scan per word
    return SearchWord.objects.filter(condition).values_list("word", flat=True)


def _look_up_corrections(words: tuple[str, ...]) -> dict[str, tuple[str, ...]]:
    """One query on the vocabulary (trigram index for the patterns, primary key for the exact
    words): the known words one edit away from each of ``words``, at most
    ``MAX_CORRECTIONS`` each, shortest first."""
    found = sorted(vocabulary_query(words))
    corrections = {}
    for word in words:
        test = _edit_regex(word)
        matching = [c for c in found if not c.startswith(word) and test.fullmatch(c)]
        corrections[word] = tuple(sorted(matching, key=lambda c: (len(c), c))[:MAX_CORRECTIONS])
    return corrections


def _check_pinned(term: Term, pinned: Any) -> dict[str, tuple[str, ...]]:
    corrections = pinned.get("corrections") if isinstance(pinned, dict) else None
    valid = (
        isinstance(corrections, dict)
        and pinned.get("term") == term.text
        and set(corrections) <= set(term.fuzzy_words)
        and all(
            isinstance(v, list)
            and len(v) <= MAX_CORRECTIONS
            and all(isinstance(c, str) and c.isalpha() and len(c) <= 64 for c in v)
            for v in corrections.values()
        )
    )
    if not valid:
        raise PaginatedResponseException(
            "The cursor belongs to a different search.",
            fields={"cursor": ["The cursor does not match the term."]},
        )
    return {word: tuple(v) for word, v in corrections.items()}


def _tsquery(term: Term) -> str:
    """Every word as a prefix, or one of its corrections exactly. Normalised words hold letters
    and digits only, so quoting them is safe."""
    parts = []
    for word in term.words:
        options = [f"'{word}':*", *(f"'{c}'" for c in term.corrections.get(word, ()))]
        parts.append(options[0] if len(options) == 1 else "(" + " | ".join(options) + ")")
    return " & ".join(parts)


def sqlite_typo(column: str, word: str) -> Q:
    """SQLite: a document word is one edit away from ``word`` (a LIKE per variant)."""
    condition = Q()
    for variant in sorted(_deletions(word)):
        condition |= Q(_Like(F(column), f"% {variant} %"))
    for variant in sorted(_other_edits(word)):
        condition |= Q(_Like(F(column), f"% {variant}%"))
    return condition


def term_condition(term: Term, column: str = "search_text") -> Q:
    """Rows whose search document matches every word of ``term`` (see the module docstring);
    none for a term without words (punctuation only)."""
    if not term.words:
        return Q(pk__in=[])
    if connection.vendor == "postgresql":
        return Q(_FullText(F(column), _tsquery(term)))
    condition = Q()
    for word in dict.fromkeys(term.words):
        matches = Q(_Like(F(column), f"% {word}%"))
        if word in term.fuzzy_words:
            matches |= sqlite_typo(column, word)
        condition &= matches
    return condition
