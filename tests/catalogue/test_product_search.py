"""POST /v2/products/search (SPEC §13): term matching, every list filter and sort in JSON form,
attribute filters, keyset paging by relevance, and the search document kept in step on writes."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from catalogue.models import Product
from catalogue.search import refresh_product_search_text
from tests.catalogue.factories import ProductFactory
from tests.conftest import envelope_error
from tests.taxonomy.factories import CategoryFactory

pytestmark = pytest.mark.django_db
URL = "/v2/products/search"


def create(api, **body) -> int:
    response = api.post("/v2/products", body)
    assert response.status_code == 201, response.content
    return response.json()["data"]["id"]


def names(*pairs: tuple[str, str]) -> list[dict]:
    return [{"language": language, "value": value} for language, value in pairs]


def search(api, body: dict) -> dict:
    response = api.post(URL, body)
    assert response.status_code == 200, response.content
    return response.json()


def found(api, body: dict) -> list[int]:
    return [item["id"] for item in search(api, body)["data"]]


@pytest.fixture
def catalogue(api):
    """Four products written through the API (the real write path fills search_text)."""
    leaf_parent = CategoryFactory()
    leaf = CategoryFactory(parent=leaf_parent)
    ids = {
        "jacket": create(
            api,
            names=names(("EN", "Crème Jacket"), ("NL", "Jas"), ("DE", "Jacke")),
            descriptions=names(("EN", "Waterproof shell for stormy days")),
            sku="J-100",
            eanCode="4006381333931",
            supplier="Acme",
            supplierCode="AC-77",
            manufacturer="Nordwear",
            source="ERP",
            sourceId="A-17",
            priority=5,
            parent={"id": leaf.pk},
            attributes=[
                {"name": "COLOR", "value": "red"},
                {"name": "SIZE", "value": 42},
                {"name": "WEIGHT", "value": "12.5"},
            ],
        ),
        "boot": create(
            api,
            names=names(("EN", "Storm Boot")),
            descriptions=names(("EN", "Pairs well with the J-100 jacket")),
            sku="B-200",
            status="T",
            hidden=True,
            priority=9,
            parent={"id": leaf_parent.pk},
            attributes=[{"name": "COLOR", "value": "blue"}, {"name": "SIZE", "value": 44}],
        ),
        "scarf": create(
            api,
            names=names(("EN", "Wool Scarf"), ("FR", "Écharpe")),
            sku="S-300",
            status="N",
            priority=1,
            source="PIM",
            sourceId="P-9",
            attributes=[{"name": "COLOR", "value": "red"}, {"name": "WEIGHT", "value": 0.3}],
        ),
        "cap": create(api, names=names(("EN", "Baseball Cap")), sku="C-400", priority=5),
    }
    ids["category"], ids["category_parent"] = leaf.pk, leaf_parent.pk
    return ids


def test_term_search_answers_the_list_envelope_with_relevance(api, catalogue):
    body = search(api, {"term": "jacket"})
    assert body["messages"] == []
    assert body["pagination"] == {
        "pageSize": 50,
        "nextCursor": None,
        "previousCursor": None,
        "next": None,
        "previous": None,
    }
    first = body["data"][0]
    assert first["id"] == catalogue["jacket"]
    assert first["names"][0] == {"language": "EN", "value": "Crème Jacket"}
    assert first["sku"] == "J-100" and first["relevance"] > 0
    assert {item["id"] for item in body["data"]} == {catalogue["jacket"], catalogue["boot"]}


def test_without_term_results_carry_no_relevance(api, catalogue):
    data = search(api, {})["data"]
    assert [item["id"] for item in data] == sorted(
        catalogue[k] for k in ("jacket", "boot", "scarf", "cap")
    )
    assert all("relevance" not in item for item in data)


@pytest.mark.parametrize("term", ["creme", "CRÈME", "Crème", "cReMe jAcKeT"])
def test_term_ignores_case_and_accents(api, catalogue, term):
    assert found(api, {"term": term}) == [catalogue["jacket"]]


@pytest.mark.parametrize(
    ("term", "product"),
    [
        ("jas", "jacket"),  # NL name
        ("echarpe", "scarf"),  # FR name, accent folded
        ("waterproof", "jacket"),  # description
        ("4006381333931", "jacket"),  # eanCode
        ("ac-77", "jacket"),  # supplierCode
        ("A-17", "jacket"),  # source id
        ("P-9", "scarf"),
        ("basebal", "cap"),  # a word prefix
    ],
)
def test_term_matches_names_descriptions_codes_and_source_ids_in_every_language(
    api, catalogue, term, product
):
    assert catalogue[product] in found(api, {"term": term})


@pytest.mark.parametrize("term", ["jakcet", "jaket", "jackett", "jscket", "baseabll"])
def test_term_tolerates_a_small_typo(api, catalogue, term):
    """Swapped, missing, extra and wrong letters (both backends; the matchers differ)."""
    assert catalogue["jacket" if term != "baseabll" else "cap"] in found(api, {"term": term})


def test_short_words_and_codes_do_not_match_fuzzily(api, catalogue):
    assert found(api, {"term": "cas"}) == []  # "cap" is one letter away, but too short
    assert found(api, {"term": "J-101"}) == []


def test_exact_code_match_ranks_first(api, catalogue):
    data = search(api, {"term": "J-100"})["data"]
    # the jacket has sku J-100; the boot only mentions it in its description
    assert [item["id"] for item in data] == [catalogue["jacket"], catalogue["boot"]]
    assert data[0]["relevance"] >= 2 > data[1]["relevance"]


def test_term_without_matches_is_an_empty_page(api, catalogue):
    body = search(api, {"term": "submarine"})
    assert body["data"] == [] and body["pagination"]["nextCursor"] is None


def test_term_over_200_characters_is_400(api):
    error = envelope_error(api.post(URL, {"term": "x" * 201}), 400, 10007)
    assert "term" in error["fields"]
    assert api.post(URL, {"term": "x" * 200}).status_code == 200


def test_term_without_letters_or_digits_matches_nothing(api, catalogue):
    assert found(api, {"term": "!?-"}) == []


def test_blank_term_browses_everything(api, catalogue):
    assert len(found(api, {"term": "  "})) == 4


def _filter_cases():
    now = timezone.now()
    later = (now + timedelta(days=1)).isoformat()
    earlier = (now - timedelta(days=1)).isoformat()
    return [
        ({"ids": ["jacket", "scarf"]}, {"jacket", "scarf"}),
        ({"status": ["T", "N"]}, {"boot", "scarf"}),
        ({"hidden": True}, {"boot"}),
        ({"hidden": False}, {"jacket", "scarf", "cap"}),
        ({"sku": "S-300"}, {"scarf"}),
        ({"eanCode": "4006381333931"}, {"jacket"}),
        ({"supplier": "Acme"}, {"jacket"}),
        ({"supplierCode": "AC-77"}, {"jacket"}),
        ({"manufacturer": "Nordwear"}, {"jacket"}),
        ({"source": "PIM"}, {"scarf"}),
        ({"sourceId": "A-17", "source": "ERP"}, {"jacket"}),
        ({"sourceId": "A-17", "source": "PIM"}, set()),
        ({"q": "scarf"}, {"scarf"}),
        ({"category": "category"}, {"jacket"}),
        ({"category": "category_parent"}, {"boot"}),
        ({"category": "category_parent", "includeDescendants": True}, {"jacket", "boot"}),
        ({"createdAtFrom": earlier, "createdAtTo": later}, {"jacket", "boot", "scarf", "cap"}),
        ({"createdAtFrom": later}, set()),
        ({"lastModifiedAtTo": earlier}, set()),
        ({"lastModifiedAtFrom": earlier}, {"jacket", "boot", "scarf", "cap"}),
        ({"attributes": [{"name": "COLOR", "value": "red"}]}, {"jacket", "scarf"}),
        ({"attributes": [{"name": "SIZE", "value": 42}]}, {"jacket"}),
        ({"attributes": [{"name": "SIZE", "value": "42"}]}, {"jacket"}),
        ({"attributes": [{"name": "COLOR", "values": ["blue", "green"]}]}, {"boot"}),
        ({"attributes": [{"name": "SIZE", "from": 43, "to": 44}]}, {"boot"}),
        ({"attributes": [{"name": "SIZE", "from": 42, "to": 42}]}, {"jacket"}),  # inclusive
        ({"attributes": [{"name": "SIZE", "from": 44, "to": 43}]}, set()),  # an empty range
        ({"attributes": [{"name": "WEIGHT", "from": 1}]}, {"jacket"}),  # "12.5" is numeric
        ({"attributes": [{"name": "WEIGHT", "to": 0.5}]}, {"scarf"}),
        (
            {
                "attributes": [
                    {"name": "COLOR", "value": "red"},
                    {"name": "WEIGHT", "to": 100},
                ]
            },
            {"jacket", "scarf"},
        ),
        ({"attributes": [{"name": "COLOR", "value": "red"}], "term": "wool"}, {"scarf"}),
        ({"term": "jacket", "status": ["A"]}, {"jacket"}),
    ]


@pytest.mark.parametrize(("body", "expected"), _filter_cases())
def test_every_list_filter_works_in_the_search_body(api, catalogue, body, expected):
    body = dict(body)
    if "ids" in body:
        body["ids"] = [catalogue[name] for name in body["ids"]]
    if "category" in body:
        body["category"] = catalogue[body["category"]]
    assert set(found(api, body)) == {catalogue[name] for name in expected}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"status": ["X"]}, "status[0]"),
        ({"status": "A"}, "status"),
        ({"ids": "1,2"}, "ids"),
        ({"ids": []}, "ids"),
        ({"hidden": "yes"}, "hidden"),
        ({"sku": ""}, "sku"),
        ({"createdAtFrom": "yesterday"}, "createdAtFrom"),
        ({"category": "x"}, "category"),
        ({"colour": "red"}, "colour"),
        ({"attributes": [{"name": "COLOR"}]}, "attributes[0]"),
        ({"attributes": [{"name": "color", "value": "red"}]}, "attributes[0].name"),
        ({"attributes": [{"name": "SIZE", "from": "1"}]}, "attributes[0].from"),
        ({"attributes": [{"name": "SIZE", "value": ["a"]}]}, "attributes[0].value"),
        ({"attributes": [{"name": "SIZE", "values": []}]}, "attributes[0].values"),
        ({"sort": [{"field": "colour"}]}, "sort[0].field"),
        ({"sort": [{"field": "id", "order": "up"}]}, "sort[0].order"),
        ({"sort": [{"field": "relevance"}]}, "sort[0].field"),  # no term
        ({"language": "XX"}, "language"),
        ({"withCount": "true"}, "withCount"),
    ],
)
def test_invalid_search_bodies_are_400_naming_the_field(api, body, field):
    error = envelope_error(api.post(URL, body), 400, 10007)
    assert field in error["fields"], error["fields"]


@pytest.mark.parametrize("size", [0, 501, "ten", True])
def test_bad_page_size_is_10015(api, size):
    envelope_error(api.post(URL, {"pageSize": size}), 400, 10015)


def test_bad_cursor_is_10015(api, catalogue):
    envelope_error(api.post(URL, {"cursor": "nonsense"}), 400, 10015)
    cursor = search(api, {"pageSize": 1})["pagination"]["nextCursor"]
    envelope_error(api.post(URL, {"cursor": cursor, "sort": [{"field": "sku"}]}), 400, 10015)


@pytest.mark.parametrize(
    ("sort", "query"),
    [
        ([{"field": "sku"}], "sku"),
        ([{"field": "sku", "order": "desc"}], "-sku"),
        ([{"field": "name"}], "name"),
        ([{"field": "name", "order": "desc"}], "-name"),
        ([{"field": "priority", "order": "desc"}, {"field": "name"}], "-priority,name"),
        ([{"field": "priority"}], "priority"),
        ([{"field": "createdAt"}], "createdAt"),
        ([{"field": "lastModifiedAt", "order": "desc"}], "-lastModifiedAt"),
        ([{"field": "id", "order": "desc"}], "-id"),
    ],
)
def test_every_sort_matches_the_list_order(api, catalogue, sort, query):
    listed = [p["id"] for p in api.get("/v2/products", {"sort": query}).json()["data"]]
    assert found(api, {"sort": sort}) == listed
    assert len(listed) == 4


def test_term_with_another_sort_still_reports_relevance(api, catalogue):
    data = search(api, {"term": "j", "sort": [{"field": "sku", "order": "desc"}]})["data"]
    assert [item["sku"] for item in data] == sorted((item["sku"] for item in data), reverse=True)
    assert all("relevance" in item for item in data)


def test_relevance_ascending_reverses_the_ranking(api, catalogue):
    down = found(api, {"term": "J-100"})
    up = found(api, {"term": "J-100", "sort": [{"field": "relevance", "order": "asc"}]})
    assert up == down[::-1]


def test_with_count_adds_total(api, catalogue):
    body = search(api, {"term": "jacket", "withCount": True, "pageSize": 1})
    assert body["pagination"]["total"] == 2
    assert len(body["data"]) == 1 and body["pagination"]["nextCursor"]


def test_language_narrows_localized_output(api, catalogue):
    data = search(api, {"term": "jas", "language": "nl"})["data"]
    assert data[0]["names"] == [{"language": "NL", "value": "Jas"}]


@pytest.fixture
def ranked():
    """Sixty products whose relevance for "storm jacket" varies, with many ties."""
    words = ["Storm Jacket", "Stormy Jacket", "Jacket Storm", "Storm Jakcet", "Storm Jackets"]
    products = ProductFactory.create_batch(60)
    for index, product in enumerate(products):
        product.name_en = f"{words[index % len(words)]} {'x' * (index % 7)} {index}"
        product.save()
    ProductFactory.create_batch(5, name_en="Unrelated Sock")
    refresh_product_search_text(Product.objects.values_list("pk", flat=True))
    return products


def _walk(api, body: dict, direction: str = "nextCursor") -> list[dict]:
    seen = []
    page = search(api, body)
    while True:
        seen.extend(page["data"])
        cursor = page["pagination"][direction]
        if not cursor:
            return seen
        page = search(api, {**body, "cursor": cursor})


def test_paging_by_relevance_returns_every_match_once_in_order(api, ranked):
    body = {"term": "storm jacket", "pageSize": 7}
    walked = _walk(api, body)
    everything = search(api, {"term": "storm jacket", "pageSize": 500})["data"]
    assert [item["id"] for item in walked] == [item["id"] for item in everything]
    assert len({item["id"] for item in walked}) == len(walked) == 60
    keys = [(-item["relevance"], item["id"]) for item in everything]
    assert keys == sorted(keys)  # relevance desc, then id asc


def test_paging_backwards_by_relevance_mirrors_forwards(api, ranked):
    body = {"term": "storm jacket", "pageSize": 9}
    forward = _walk(api, body)
    page = search(api, body)
    while page["pagination"]["nextCursor"]:
        page = search(api, {**body, "cursor": page["pagination"]["nextCursor"]})
    backward = list(page["data"])
    while page["pagination"]["previousCursor"]:
        page = search(api, {**body, "cursor": page["pagination"]["previousCursor"]})
        backward = page["data"] + backward
    assert [item["id"] for item in backward] == [item["id"] for item in forward]


def test_rows_added_while_paging_never_duplicate_or_hide_others(api, ranked):
    body = {"term": "storm jacket", "pageSize": 10}
    page = search(api, body)
    seen = [item["id"] for item in page["data"]]
    newcomer = ProductFactory(name_en="Storm Jacket newcomer")
    refresh_product_search_text([newcomer.pk])
    while page["pagination"]["nextCursor"]:
        page = search(api, {**body, "cursor": page["pagination"]["nextCursor"]})
        seen.extend(item["id"] for item in page["data"])
    assert len(seen) == len(set(seen))
    assert {p.pk for p in ranked} <= set(seen)


def test_search_query_count_does_not_grow_with_the_page(api, ranked):
    def count(size: int) -> int:
        with CaptureQueriesContext(connection) as queries:
            assert len(found(api, {"term": "storm jacket", "pageSize": size})) == size
        return len(queries)

    count(3)  # warm-up
    assert count(3) == count(40)
    assert count(40) <= 10


def test_search_needs_search_read(client_with_scopes, catalogue):
    reader = client_with_scopes("products:read")
    error = envelope_error(reader.post(URL, {"term": "jacket"}), 403, 10002)
    assert "search:read" in error["messages"][0]
    searcher = client_with_scopes("search:read")
    assert searcher.post(URL, {"term": "jacket"}).status_code == 200


def test_anonymous_search_is_401(anonymous):
    envelope_error(anonymous.post(URL, {}), 401, 10001)


def test_search_document_follows_updates_sources_and_translation_removal(api, catalogue):
    jacket = catalogue["jacket"]
    response = api.patch(
        f"/v2/products/id/{jacket}",
        {"names": names(("EN", "Rain Coat")), "sources": [{"source": "ERP", "sourceId": "Z-9"}]},
    )
    assert response.status_code == 200, response.content
    assert jacket not in found(api, {"term": "creme"})
    assert jacket in found(api, {"term": "rain coat"})
    assert jacket in found(api, {"term": "Z-9"})
    assert found(api, {"term": "A-17"}) == []
    assert jacket in found(api, {"term": "jas"})
    assert api.delete(f"/v2/products/id/{jacket}/translation/nl").status_code == 200
    assert found(api, {"term": "jas"}) == []
    assert api.delete(f"/v2/products/id/{jacket}").status_code == 200
    assert found(api, {"term": "rain"}) == []


def test_unchanged_patch_keeps_the_version_even_with_a_stale_document(api, catalogue):
    jacket = catalogue["jacket"]
    Product.objects.filter(pk=jacket).update(search_text=" stale ")  # e.g. a newer definition
    response = api.patch(f"/v2/products/id/{jacket}", {"sku": "J-100"})
    assert response.json()["data"]["version"] == 1


def test_a_cursor_only_continues_its_own_search(api, ranked):
    cursor = search(api, {"term": "storm jacket", "pageSize": 5})["pagination"]["nextCursor"]
    envelope_error(api.post(URL, {"term": "jacket storm", "cursor": cursor}), 400, 10015)
    envelope_error(api.post(URL, {"cursor": cursor, "sort": [{"field": "id"}]}), 400, 10015)
    plain = search(api, {"pageSize": 5})["pagination"]["nextCursor"]
    envelope_error(api.post(URL, {"term": "storm", "cursor": plain}), 400, 10015)


def test_rebuild_command_fills_documents_written_around_the_services(api):
    from django.core.management import call_command

    product = ProductFactory(name_en="Bypassed Lantern")  # a raw write: no search_text
    assert found(api, {"term": "lantern"}) == []
    out = io.StringIO()
    call_command("rebuild_search_text", stdout=out, stderr=io.StringIO())
    assert "1 products" in out.getvalue()
    assert found(api, {"term": "lantern"}) == [product.pk]
