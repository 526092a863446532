"""PostgreSQL-only search behaviour: the main search shapes use the GIN indexes (EXPLAIN on a
generated 20,000-product catalogue with a 100,000-word vocabulary, statistics fresh,
``enable_seqscan`` untouched), and the vocabulary triggers follow every write path."""

from __future__ import annotations

import base64

import orjson
import pytest
from django.db import connection

from catalogue.api.search import PRODUCT_SEARCH
from catalogue.models import Product
from config.api.search import run_search, search_query
from records.models import SearchWord
from records.search.matching import Term, vocabulary_query
from tests.catalogue.factories import ProductFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

NOUNS = ["jacket", "shirt", "boot", "scarf", "glove", "sweater", "cap", "trouser", "sock", "belt"]
ADJECTIVES = ["creme", "navy", "forest", "storm", "alpine", "urban", "classic", "coastal"]


def _array(words: list[str]) -> str:
    return "ARRAY[" + ", ".join(f"'{w}'" for w in words) + "]"


def generate_catalogue(count: int, words: int) -> None:
    """``count`` products in one INSERT … SELECT (names, codes, source ids and descriptions like
    the demo catalogue's; 1 in 1000 mentions "stormproof"), ``words`` made-up vocabulary words
    (a real catalogue's descriptions bring tens of thousands), then ANALYZE."""
    template = Product.objects.create(name_en="template", sort_name="template")
    name = "initcap(w.adj) || ' ' || initcap(w.noun) || ' ' || g"
    overrides = {
        "name_en": name,
        "name": name,
        "sort_name": f"lower({name})",
        "description_en": f"{name} || ': demo description.'",
        "sku": "'SKU-' || lpad(g::text, 7, '0')",
        "supplier_code": "'AC-' || g",
        "status": "(ARRAY['A', 'A', 'A', 'N', 'T'])[1 + mod(g, 5)]",
        "priority": "mod(g, 100)",
        "search_text": (
            "' ' || w.adj || ' ' || w.noun || ' ' || g || ' sku ' || lpad(g::text, 7, '0')"
            " || ' ac ' || g || ' e sku ' || lpad(g::text, 7, '0') || ' p sku '"
            " || lpad(g::text, 7, '0') || ' ' || w.adj || ' ' || w.noun || ' ' || g"
            " || ' demo description' || CASE WHEN mod(g, 1000) = 0 THEN ' stormproof' ELSE '' END"
            " || ' '"
        ),
    }
    columns = [f.column for f in Product._meta.concrete_fields if f.column != "id"]
    select = ", ".join(overrides.get(c, f't."{c}"') for c in columns)
    quoted = ", ".join(f'"{c}"' for c in columns)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO catalogue_product ({quoted}) "
            f"SELECT {select} FROM catalogue_product t, generate_series(1, %s) g, "
            f"LATERAL (SELECT ({_array(NOUNS)})[1 + mod(g, 10)] AS noun, "
            f"({_array(ADJECTIVES)})[1 + mod(g / 10, 8)] AS adj) w WHERE t.id = %s",
            [count, template.pk],
        )
        cursor.execute(
            "INSERT INTO api_searchword (word) SELECT left(translate(md5(g::text), '0123456789', "
            "'ghijklmnop'), 4 + mod(g, 9)) FROM generate_series(1, %s) g ON CONFLICT DO NOTHING",
            [words],
        )
        cursor.execute("ANALYZE catalogue_product")
        cursor.execute("ANALYZE api_searchword")


SHAPES = [
    {"term": "SKU-0012340"},  # an exact code
    {"term": "forest jacket 12340"},  # words and a number
    {"term": "jakcet 12340"},  # a typo corrected through the vocabulary
    {"term": "stormproof"},  # one rare word
    {"term": "stormprof"},  # a missing letter
    {"term": "forest jacket 1234", "status": ["A"], "hidden": False},  # with filters
]


@pytest.fixture
def generated():
    generate_catalogue(20_000, words=100_000)


def _plan(body: dict) -> str:
    query = search_query(PRODUCT_SEARCH, body)
    return query.queryset.order_by("-relevance", "id")[:51].explain()


def test_main_search_shapes_use_the_indexes(generated):
    for body in SHAPES:
        plan = _plan(body)
        assert "Bitmap Index Scan on prod_search_fts" in plan, (body, plan)
        assert "Seq Scan on catalogue_product" not in plan, (body, plan)
    # the typo lookup: primary key for dropped letters, trigram index for the other edits
    plan = vocabulary_query(["jakcet", "stormprof"]).explain()
    assert "Bitmap Index Scan on api_searchword_trgm" in plan, plan
    assert plan.count("Bitmap Index Scan on api_searchword_") == 3, plan
    assert "Seq Scan" not in plan, plan


def test_searches_on_the_generated_catalogue_find_the_right_rows(generated):
    first = run_search(PRODUCT_SEARCH, {"term": "SKU-0012340"}).data[0]
    assert first["sku"] == "SKU-0012340" and first["relevance"] >= 2
    typo = run_search(PRODUCT_SEARCH, {"term": "jakcet 12340"}).data
    assert [item["sku"] for item in typo] == ["SKU-0012340"]
    rare = run_search(PRODUCT_SEARCH, {"term": "stormprof", "withCount": True})
    assert rare.page.total == 20  # "storm" alone is four edits away


def test_vocabulary_follows_inserts_updates_and_set_based_writes(api):
    def known(*words: str) -> set[str]:
        return set(SearchWord.objects.filter(word__in=words).values_list("word", flat=True))

    response = api.post(
        "/v2/products",
        {"names": [{"language": "EN", "value": "Zephyrine Parka 2000"}], "sku": "ZP-1"},
    )
    product = response.json()["data"]["id"]
    assert known("zephyrine", "parka", "2000", "zp") == {"zephyrine", "parka"}
    api.patch(f"/v2/products/id/{product}", {"names": [{"language": "EN", "value": "Anorak"}]})
    assert known("anorak") == {"anorak"}
    ProductFactory.create_batch(2, search_text="quillwort bracken")  # bulk_create-style writes
    assert known("quillwort", "bracken") == {"quillwort", "bracken"}


def test_a_typo_of_a_new_word_is_corrected_at_once(api):
    api.post("/v2/products", {"names": [{"language": "EN", "value": "Zephyrine Parka"}]})
    assert Term.parse("zehpyrine").corrected().corrections == {"zehpyrine": ("zephyrine",)}
    data = api.post("/v2/products/search", {"term": "zehpyrine"}).json()["data"]
    assert [item["names"][0]["value"] for item in data] == ["Zephyrine Parka"]


def test_cursors_pin_the_typo_corrections(api):
    for n in range(3):
        api.post("/v2/products", {"names": [{"language": "EN", "value": f"Zephyrine {n}"}]})
    first = api.post("/v2/products/search", {"term": "zehpyrine", "pageSize": 2}).json()
    cursor = first["pagination"]["nextCursor"]
    payload = orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    assert payload["c"] == {"term": "zehpyrine", "corrections": {"zehpyrine": ["zephyrine"]}}
    # a new word one edit away does not change the walk already under way
    api.post("/v2/products", {"names": [{"language": "EN", "value": "Zephyrina"}]})
    rest = api.post("/v2/products/search", {"term": "zehpyrine", "cursor": cursor}).json()
    names = [i["names"][0]["value"] for i in first["data"] + rest["data"]]
    assert sorted(names) == ["Zephyrine 0", "Zephyrine 1", "Zephyrine 2"]
