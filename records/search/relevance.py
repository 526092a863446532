"""Relevance of a matching record to a term (see ``records.search``)."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import connection
from django.db.models import Case, ExpressionWrapper, F, FloatField, Q, Value, When
from django.db.models.functions import Cast, Least, StrIndex
from django.db.models.lookups import GreaterThan

from records.search.matching import Term, sqlite_typo

CODE_BONUS = 2.0


def _position(column: str, text: str):
    """1-based position of ``text`` in the document (0 when absent): STRPOS/INSTR."""
    return StrIndex(F(column), Value(text))


def relevance(term: Term, code_columns: Iterable[str] = (), column: str = "search_text"):
    """A float, higher is better, computed from the row and the term only (so keyset pages by
    relevance are stable), with cheap string functions (the same on both databases):

    ``2`` exact code + ``1`` the whole term found as a phrase at a word start, plus up to
    ``0.25`` the earlier it appears (names come first in the document) + ``0.5`` × the share of
    term words found at a word start (a typo-corrected word counts half).
    """

    def case(*whens: When) -> Case:
        return Case(*whens, default=Value(0.0), output_field=FloatField())

    def typo_of(word: str) -> Q:
        typo = Q()
        if connection.vendor == "postgresql":
            for correction in term.corrections.get(word, ()):
                typo |= Q(GreaterThan(_position(column, f" {correction} "), 0))
        elif word in term.fuzzy_words:
            typo = sqlite_typo(column, word)
        return typo

    words = list(dict.fromkeys(term.words))
    phrase = _position(column, f" {term.text}")
    early = Cast(Least(phrase, Value(256)), FloatField()) / Value(1024.0)
    # one word: the phrase is that word, so its share (0.5) folds into the phrase's case
    whens = [When(GreaterThan(phrase, 0), then=Value(1.25 if len(words) > 1 else 1.75) - early)]
    if len(words) == 1 and (typo := typo_of(words[0])):
        whens.append(When(typo, then=Value(0.25)))
    parts = [case(*whens)]
    codes = Q()
    for code_column in code_columns:
        codes |= Q(**{f"{code_column}__iexact": term.raw})
    if codes:
        parts.append(case(When(codes, then=Value(CODE_BONUS))))
    for word in words if len(words) > 1 else ():
        share = 1 / len(words)
        whens = [When(GreaterThan(_position(column, f" {word}"), 0), then=Value(0.5 * share))]
        if typo := typo_of(word):
            whens.append(When(typo, then=Value(0.25 * share)))
        parts.append(case(*whens))
    score = parts[0]
    for part in parts[1:]:
        score = score + part
    return ExpressionWrapper(score, output_field=FloatField())
