"""PostgreSQL-only cluster search behaviour: the cluster search shapes use the GIN full text index
(EXPLAIN on 20,000 generated clusters, statistics fresh, ``enable_seqscan`` untouched), and the
vocabulary triggers follow cluster writes, so typos of new words are corrected at once."""

from __future__ import annotations

import re

import pytest
from django.db import connection

from clusters.api.search import CLUSTER_SEARCH
from clusters.models import Cluster, ClusterConfig
from config.api.search import run_search, search_query
from records.models import SearchWord
from tests.clusters.factories import ClusterConfigFactory, ClusterFactory
from tests.taxonomy.factories import CategoryFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

NOUNS = ["jacket", "shirt", "boot", "scarf", "glove", "sweater", "cap", "trouser", "sock", "belt"]
ADJECTIVES = ["creme", "navy", "forest", "storm", "alpine", "urban", "classic", "coastal"]


def _array(words: list[str]) -> str:
    return "ARRAY[" + ", ".join(f"'{w}'" for w in words) + "]"


def generate_clusters(count: int, configs: list[ClusterConfig]) -> None:
    """``count`` clusters in one INSERT … SELECT, spread over ``configs`` (1 in 1000 mentions
    "stormproof"), then ANALYZE."""
    template = ClusterFactory(cluster_config=configs[0], name_en="template", code="TEMPLATE")
    name = "initcap(w.adj) || ' ' || initcap(w.noun) || ' ' || g"
    config_ids = "ARRAY[" + ", ".join(str(c.pk) for c in configs) + "]"
    overrides = {
        "name_en": name,
        "name": name,
        "slug_en": "'generated-' || g",
        "sort_name": f"lower({name})",
        "code": "'CL-' || lpad(g::text, 6, '0')",
        "cluster_config_id": f"({config_ids})[1 + mod(g, {len(configs)})]",
        "hidden": "mod(g, 7) = 0",
        "search_text": (
            "' ' || w.adj || ' ' || w.noun || ' ' || g || ' cl ' || lpad(g::text, 6, '0')"
            " || ' demo cluster description'"
            " || CASE WHEN mod(g, 1000) = 0 THEN ' stormproof' ELSE '' END || ' '"
        ),
    }
    columns = [f.column for f in Cluster._meta.concrete_fields if f.column != "id"]
    select = ", ".join(overrides.get(c, f't."{c}"') for c in columns)
    quoted = ", ".join(f'"{c}"' for c in columns)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO clusters_cluster ({quoted}) "
            f"SELECT {select} FROM clusters_cluster t, generate_series(1, %s) g, "
            f"LATERAL (SELECT ({_array(NOUNS)})[1 + mod(g, 10)] AS noun, "
            f"({_array(ADJECTIVES)})[1 + mod(g / 10, 8)] AS adj) w WHERE t.id = %s",
            [count, template.pk],
        )
        cursor.execute("ANALYZE clusters_cluster")
        cursor.execute("ANALYZE api_searchword")


@pytest.fixture
def generated():
    configs = [ClusterConfigFactory() for _ in range(20)]
    generate_clusters(20_000, configs)
    return configs


def shapes(configs):
    return [
        {"term": "CL-012340"},  # an exact code
        {"term": "forest jacket 12340"},  # words and a number
        {"term": "jakcet 12340"},  # a typo corrected through the vocabulary
        {"term": "stormproof"},  # one rare word
        {"term": "stormprof"},  # a missing letter
        {"term": "forest jacket 1234", "clusterConfig": configs[3].pk, "hidden": False},
    ]


def test_cluster_search_shapes_use_the_full_text_index(generated):
    for body in shapes(generated):
        query = search_query(CLUSTER_SEARCH, body)
        plan = query.queryset.order_by("-relevance", "id")[:51].explain()
        # the full-text index, or (a nested loop over the 20 configs joined for the
        # representation) the config's index: either reaches the matching rows by an index
        assert re.search(r"Index Scan on (clu_search_fts|clusters_cluster_cluster_config)", plan), (
            body,
            plan,
        )
        # (the 20 configs joined for the representation may be scanned; the clusters never)
        assert not re.search(r"Seq Scan on clusters_cluster\s", plan), (body, plan)


def test_searches_on_the_generated_clusters_find_the_right_rows(generated):
    first = run_search(CLUSTER_SEARCH, {"term": "CL-012340"}).data[0]
    assert first["code"] == "CL-012340" and first["relevance"] >= 2
    typo = run_search(CLUSTER_SEARCH, {"term": "jakcet 12340"}).data
    assert [item["code"] for item in typo] == ["CL-012340"]
    rare = run_search(CLUSTER_SEARCH, {"term": "stormprof", "withCount": True})
    assert rare.page.total == 20


def test_vocabulary_follows_cluster_writes(api):
    config = ClusterConfigFactory()
    category = CategoryFactory()
    body = {
        "names": [{"language": "EN", "value": "Quixotic Parka"}],
        "clusterConfig": {"id": config.pk},
        "parent": {"id": category.pk},
    }
    created = api.post("/v2/clusters", body).json()["data"]
    assert SearchWord.objects.filter(word__in=["quixotic", "parka"]).count() == 2
    # a typo of the new word is corrected at once (the vocabulary lookup sees it)
    hits = api.post("/v2/clusters/search", {"term": "quixtoic"}).json()["data"]
    assert [h["id"] for h in hits] == [created["id"]]
    patch = {"names": [{"language": "EN", "value": "Zephyrean Parka"}]}
    assert api.patch(f"/v2/clusters/id/{created['id']}", patch).status_code == 200
    assert SearchWord.objects.filter(word="zephyrean").exists()
    hits = api.get("/v2/search", {"q": "zephyraen", "types": "clusters"}).json()["data"]
    assert [h["id"] for h in hits] == [created["id"]]
