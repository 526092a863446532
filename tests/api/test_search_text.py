"""The search document and term parsing shared by every search surface (records/search/)."""

from __future__ import annotations

import pytest

from config.api.errors import SchemaValidationException
from records.search import matching
from records.search import text as search_text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Crème Brûlée", "creme brulee"),
        ("STRASSE Straße", "strasse strasse"),
        ("SKU-0001/b_2", "sku 0001 b 2"),
        ("  Ærø  Øl  ", "ærø øl"),  # letters without a combining mark stay (no transliteration)
        ("ﬁne Ｆｕｌｌ", "fine full"),  # compatibility forms fold
        ("Καφές", "καφεσ"),  # casefold: final sigma is sigma
        ("!!!", ""),
    ],
)
def test_normalize_folds_case_accents_and_punctuation(text, expected):
    assert search_text.normalize(text) == expected


def test_document_keeps_each_value_once_in_order():
    document = search_text.search_document(["Jacket", None, "JACKET", "", "Jas", "jacket!"])
    assert document == " jacket jas "
    assert search_text.search_document([None, "!"]) == ""


def test_document_is_cut_on_a_word_boundary(monkeypatch):
    monkeypatch.setattr(search_text, "DOCUMENT_MAX_CHARS", 12)
    assert search_text.search_document(["alpha beta gamma"]) == " alpha beta "


def test_term_parse():
    assert matching.Term.parse(None) is None
    assert matching.Term.parse("   ") is None
    term = matching.Term.parse(" Crème-Jakcet 12 ab jakcet ")
    assert term.raw == "Crème-Jakcet 12 ab jakcet"
    assert term.words == ("creme", "jakcet", "12", "ab", "jakcet")
    assert term.fuzzy_words == ("creme", "jakcet")


def test_term_without_letters_has_no_words_and_over_200_chars_is_refused():
    assert matching.Term.parse(" !;🤣 ").words == ()
    with pytest.raises(SchemaValidationException) as error:
        matching.Term.parse("x" * 201, name="q")
    assert "q" in error.value.fields


def test_one_edit_variants():
    assert "jakct" in matching._deletions("jakcet")
    edits = matching._other_edits("jakcet")
    assert "jacket" in edits  # swap
    assert "jak_et" in edits  # substitution
    assert "jakc_et" in edits  # insertion
    assert "jakcet" not in edits and "jakcet_" not in edits
    test = matching._edit_regex("jakcet")
    assert test.fullmatch("jacket") and test.fullmatch("jackets")  # swap, as a prefix
    assert test.fullmatch("jakct")  # a deletion, as a whole word only
    assert not test.fullmatch("jakctx") and not test.fullmatch("jumper")


def test_tsquery_ors_each_word_with_its_corrections():
    term = matching.Term(
        raw="jakcet 12", words=("jakcet", "12"), corrections={"jakcet": ("jacket",)}
    )
    assert matching._tsquery(term) == "('jakcet':* | 'jacket') & '12':*"
