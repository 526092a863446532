"""Resolving product and cluster references of request bodies, set-based.

A product reference is ``{"id": n}``, ``{"sourceId": s, "source": s}`` or ``{"sku": s}``; a cluster
reference ``{"id": n}``, ``{"sourceId": s, "source": s}`` or ``{"code": s}``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from django.db.models import Q

from catalogue.models import Product, ProductSource
from clusters.models import Cluster
from config.api import errors
from integrations.services import pairs_condition


def lookup_key_of(ref: dict[str, Any]) -> tuple[str, Any]:
    """The ``lookupKey`` and ``key`` an outcome reports for a reference."""
    for key in ("id", "sourceId", "sku", "code"):
        if key in ref:
            return key, ref[key]
    raise ValueError(f"Not a reference: {ref!r}")


def _describe(ref: dict[str, Any]) -> str:
    if "sourceId" in ref:
        return f"sourceId [{ref['sourceId']}] and source [{ref['source']}]"
    key, value = lookup_key_of(ref)
    return f"{key} [{value}]"


def resolve_products(refs: Sequence[dict[str, Any]]) -> list[int | errors.ApiError]:
    """One product id or error (80006 not found, 80005 ambiguous sku) per reference, in order.

    At most three queries (ids, source pairs, skus) whatever the number of references.
    """
    ids = {ref["id"] for ref in refs if "id" in ref}
    pairs = [(ref["source"], ref["sourceId"]) for ref in refs if "sourceId" in ref]
    skus = {ref["sku"] for ref in refs if "sku" in ref}
    found_ids = (
        set(Product.objects.filter(pk__in=ids).values_list("pk", flat=True)) if ids else set()
    )
    by_pair: dict[tuple[str, str], int] = {}
    if pairs:
        rows = ProductSource.objects.filter(pairs_condition(pairs)).values_list(
            "source", "source_id", "product_id"
        )
        by_pair = {(source, source_id): pk for source, source_id, pk in rows}
    by_sku: dict[str, list[int]] = defaultdict(list)
    if skus:
        for sku, pk in Product.objects.filter(sku__in=skus).values_list("sku", "pk"):
            by_sku[sku].append(pk)

    results: list[int | errors.ApiError] = []
    for ref in refs:
        text = _describe(ref)
        if "id" in ref:
            hit = ref["id"] if ref["id"] in found_ids else None
        elif "sourceId" in ref:
            hit = by_pair.get((ref["source"], ref["sourceId"]))
        else:
            matches = by_sku.get(ref["sku"], [])
            if len(matches) > 1:
                results.append(
                    errors.ProductMultipleFound(f"Several products match {text}; use another key.")
                )
                continue
            hit = matches[0] if matches else None
        results.append(
            hit if hit is not None else errors.ProductNotFound(f"Product with {text} not found.")
        )
    return results


def cluster_by_ref(ref: dict[str, Any]) -> Cluster:
    """Resolve one cluster reference or raise ClusterNotFound (20006)."""
    if "id" in ref:
        condition = Q(pk=ref["id"])
    elif "code" in ref:
        condition = Q(code=ref["code"])
    else:
        condition = Q(sources__source=ref["source"], sources__source_id=ref["sourceId"])
    cluster = Cluster.objects.filter(condition).first()
    if cluster is None:
        raise errors.ClusterNotFound(f"Cluster with {_describe(ref)} not found.")
    return cluster
