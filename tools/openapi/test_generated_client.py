"""The Python client openapi-python-client generated from /v2/schema/ (default configuration),
driven against a live server, as an integrator would use it. Run by tools/openapi/check in the
tools' own virtualenv, with OPENAPI_BASE_URL, OPENAPI_CLIENT_ID and OPENAPI_CLIENT_SECRET set and
the generated package on the path; every call goes through the generated functions and models."""

from __future__ import annotations

import os
import uuid

import httpx
import pytest
from product_management_api_client import AuthenticatedClient
from product_management_api_client.api.categories import (
    category_collection_post,
    category_tree_get,
)
from product_management_api_client.api.products import (
    product_bulk_post,
    product_collection_get,
    product_collection_post,
    product_detail_get,
    product_detail_patch,
)
from product_management_api_client.models import (
    BulkOutcomeListResponse,
    CategoryCreate,
    CategoryTreeNode,
    ErrorEnvelope,
    IdRef,
    LocalizedName,
    ProductBulkItem,
    ProductBulkPostLookupKey,
    ProductBulkRequest,
    ProductCreate,
    ProductDetailGetLookupKey,
    ProductDetailPatchLookupKey,
    ProductPatch,
    ProductResponse,
)
from product_management_api_client.types import UNSET

BASE_URL = os.environ["OPENAPI_BASE_URL"]
RUN = uuid.uuid4().hex[:8]  # the server's database may outlive one run


@pytest.fixture(scope="module")
def client() -> AuthenticatedClient:
    token = httpx.post(
        f"{BASE_URL}/oauth2/token/",
        data={"grant_type": "client_credentials"},
        auth=(os.environ["OPENAPI_CLIENT_ID"], os.environ["OPENAPI_CLIENT_SECRET"]),
    )
    assert token.status_code == 200, token.text
    return AuthenticatedClient(base_url=BASE_URL, token=token.json()["access_token"])


def _name(text: str) -> list[LocalizedName]:
    return [LocalizedName(language="EN", value=text)]


@pytest.fixture(scope="module")
def products(client: AuthenticatedClient) -> list[ProductResponse]:
    made = []
    for index in range(5):
        response = product_collection_post.sync_detailed(
            client=client,
            body=ProductCreate(
                names=_name(f"Generated {RUN} {index}"),
                sku=f"GEN-{RUN}-{index}",
                source="GEN",
                source_id=f"{RUN}-{index}",
            ),
            idempotency_key=f"create-{RUN}-{index}",
        )
        assert response.status_code == 201, response.content
        assert isinstance(response.parsed, ProductResponse)
        assert response.headers["ETag"] == f'"{response.parsed.data.version}"'
        assert response.headers["Location"].endswith(f"/{response.parsed.data.id}")
        made.append(response.parsed)
    return made


def test_cursor_walk_over_three_pages(client, products):
    ours = {p.data.id for p in products}
    seen: list[int] = []
    cursor = UNSET
    pages = 0
    while True:
        page = product_collection_get.sync(
            client=client, page_size=2, cursor=cursor, q=f"Generated {RUN}"
        )
        assert page is not None and not isinstance(page, ErrorEnvelope)
        pages += 1
        seen += [product.id for product in page.data]
        if page.pagination.next_cursor is None:
            break
        cursor = page.pagination.next_cursor
    assert pages == 3 and set(seen) == ours and len(seen) == len(ours)


def test_get_by_source_id(client, products):
    found = product_detail_get.sync(
        ProductDetailGetLookupKey.SOURCEID, f"{RUN}-3", client=client, source="GEN"
    )
    assert isinstance(found, ProductResponse)
    assert found.data.id == products[3].data.id
    assert found.data.sources[0].source_id == f"{RUN}-3"
    assert found.data.parent is None and found.data.cluster is None


def test_patch_with_if_match_through_the_generated_parameter(client, products):
    product = products[0].data
    current = f'"{product.version}"'
    patched = product_detail_patch.sync_detailed(
        ProductDetailPatchLookupKey.ID,
        str(product.id),
        client=client,
        body=ProductPatch(priority=7),
        if_match=current,
    )
    assert patched.status_code == 200, patched.content
    assert isinstance(patched.parsed, ProductResponse)
    assert patched.parsed.data.priority == 7
    assert patched.parsed.data.version == product.version + 1
    stale = product_detail_patch.sync_detailed(
        ProductDetailPatchLookupKey.ID,
        str(product.id),
        client=client,
        body=ProductPatch(priority=8),
        if_match=current,
    )
    assert stale.status_code == 412
    assert isinstance(stale.parsed, ErrorEnvelope) and stale.parsed.error.code == 10009


def test_bulk_upsert_and_its_outcomes(client, products):
    answer = product_bulk_post.sync(
        ProductBulkPostLookupKey.SOURCEID,
        client=client,
        body=ProductBulkRequest(
            products=[
                ProductBulkItem(source="GEN", source_id=f"{RUN}-0", priority=9),
                ProductBulkItem(source="GEN", source_id=f"{RUN}-bulk", names=_name(f"Bulk {RUN}")),
            ]
        ),
    )
    assert isinstance(answer, BulkOutcomeListResponse)
    assert [o.action for o in answer.data] == ["update", "create"]
    assert all(o.success for o in answer.data)
    assert answer.data[0].id == products[0].data.id
    assert answer.summary.create == 1 and answer.summary.update == 1


def test_category_tree_three_levels_through_typed_models(client):
    parent = None
    for level in range(3):
        created = category_collection_post.sync(
            client=client,
            body=CategoryCreate(
                names=_name(f"Tree {RUN} {level}"),
                parent=IdRef(id=parent) if parent else None,
            ),
        )
        assert not isinstance(created, ErrorEnvelope) and created is not None
        parent = created.data.id
    tree = category_tree_get.sync(client=client)
    assert tree is not None and not isinstance(tree, ErrorEnvelope)
    root = next(node for node in tree.data if node.names[0].value == f"Tree {RUN} 0")
    child = root.children[0]
    grandchild = child.children[0]
    assert all(isinstance(node, CategoryTreeNode) for node in (root, child, grandchild))
    assert grandchild.names[0].value == f"Tree {RUN} 2" and grandchild.level == 2
    assert grandchild.parent is not None and grandchild.parent.id == child.id
