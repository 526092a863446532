"""The readiness report of ``GET /v2/clusters/{lk}/{lv}/validate`` (SPEC §11).

Each check has its own problem code so that integrations can act on it:

=================================== ========================================================
``NO_PRODUCTS``                     the cluster has no products
``DEFAULT_PRODUCT_MISSING``         no default product is set
``DEFAULT_PRODUCT_NOT_IN_CLUSTER``  the default product is not one of the cluster's products
``MISSING_ATTRIBUTE_VALUE``         products lack a value for one of the config's attributes
                                    (one problem per attribute; ``""`` and ``[]`` count as no
                                    value)
``DUPLICATE_ATTRIBUTE_COMBINATION`` products share one combination of the config's attribute
                                    values (one problem per combination)
``REQUIRED_OPTION_UNAVAILABLE``     a required option has no selectable product that is
                                    available (status ``A``) and not hidden (carries
                                    ``optionId``)
=================================== ========================================================

The report costs a constant number of queries whatever the size of the cluster.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import orjson

from catalogue.models import Product, ProductAttribute
from clusters.models import (
    Cluster,
    ClusterConfigSetting,
    ClusterOption,
    ClusterProduct,
    OptionProduct,
)

NO_PRODUCTS = "NO_PRODUCTS"
DEFAULT_PRODUCT_MISSING = "DEFAULT_PRODUCT_MISSING"
DEFAULT_PRODUCT_NOT_IN_CLUSTER = "DEFAULT_PRODUCT_NOT_IN_CLUSTER"
MISSING_ATTRIBUTE_VALUE = "MISSING_ATTRIBUTE_VALUE"
DUPLICATE_ATTRIBUTE_COMBINATION = "DUPLICATE_ATTRIBUTE_COMBINATION"
REQUIRED_OPTION_UNAVAILABLE = "REQUIRED_OPTION_UNAVAILABLE"
PROBLEM_CODES = (
    NO_PRODUCTS,
    DEFAULT_PRODUCT_MISSING,
    DEFAULT_PRODUCT_NOT_IN_CLUSTER,
    MISSING_ATTRIBUTE_VALUE,
    DUPLICATE_ATTRIBUTE_COMBINATION,
    REQUIRED_OPTION_UNAVAILABLE,
)


@dataclass
class Problem:
    code: str
    message: str
    product_ids: list[int] = field(default_factory=list)
    option_id: int | None = None

    def as_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "code": self.code,
            "message": self.message,
            "productIds": self.product_ids,
        }
        if self.option_id is not None:
            body["optionId"] = self.option_id
        return body


def _has_value(value: Any) -> bool:
    return value is not None and value != "" and value != []


def _text(value: Any) -> str:
    return value if isinstance(value, str) else orjson.dumps(value).decode()


def cluster_problems(cluster: Cluster) -> list[Problem]:
    problems: list[Problem] = []
    member_ids = sorted(
        ClusterProduct.objects.filter(cluster=cluster).values_list("product_id", flat=True)
    )
    members = set(member_ids)
    if not member_ids:
        problems.append(Problem(NO_PRODUCTS, "The cluster has no products."))
    if cluster.default_product_id is None:
        problems.append(Problem(DEFAULT_PRODUCT_MISSING, "The cluster has no default product."))
    elif cluster.default_product_id not in members:
        problems.append(
            Problem(
                DEFAULT_PRODUCT_NOT_IN_CLUSTER,
                f"The default product [{cluster.default_product_id}] is not in the cluster.",
                [cluster.default_product_id],
            )
        )
    problems += _attribute_problems(cluster, member_ids)
    problems += _option_problems(cluster)
    return problems


def _attribute_problems(cluster: Cluster, member_ids: list[int]) -> list[Problem]:
    names = list(
        ClusterConfigSetting.objects.filter(config_id=cluster.cluster_config_id)
        .order_by("priority", "pk")
        .values_list("attribute_name", flat=True)
    )
    if not names or not member_ids:
        return []
    values: dict[int, dict[str, Any]] = defaultdict(dict)
    rows = ProductAttribute.objects.filter(
        product__cluster_membership__cluster=cluster, name__in=names
    ).values_list("product_id", "name", "value")
    for product_id, name, value in rows:
        if _has_value(value):
            values[product_id][name] = value

    problems: list[Problem] = []
    for name in names:
        lacking = [pk for pk in member_ids if name not in values[pk]]
        if lacking:
            problems.append(
                Problem(
                    MISSING_ATTRIBUTE_VALUE,
                    f"{len(lacking)} product(s) lack a value for attribute {name}.",
                    lacking,
                )
            )
    combinations: dict[bytes, list[int]] = defaultdict(list)
    for pk in member_ids:
        if len(values[pk]) == len(names):
            combinations[orjson.dumps([values[pk][n] for n in names])].append(pk)
    for group in combinations.values():
        if len(group) > 1:
            shown = ", ".join(f"{n}={_text(values[group[0]][n])}" for n in names)
            problems.append(
                Problem(
                    DUPLICATE_ATTRIBUTE_COMBINATION,
                    f"Products {group} share the combination {shown}.",
                    group,
                )
            )
    return problems


def _option_problems(cluster: Cluster) -> list[Problem]:
    required = list(
        ClusterOption.objects.filter(cluster=cluster, is_required=True).order_by("priority", "pk")
    )
    if not required:
        return []
    links = OptionProduct.objects.filter(option__in=required).values_list(
        "option_id", "product_id", "product__status", "product__hidden"
    )
    products: dict[int, list[int]] = defaultdict(list)
    usable: set[int] = set()
    for option_id, product_id, status, hidden in links.order_by("option_id", "position"):
        products[option_id].append(product_id)
        if status == Product.Status.AVAILABLE and not hidden:
            usable.add(option_id)
    return [
        Problem(
            REQUIRED_OPTION_UNAVAILABLE,
            f"Required option [{option.pk}] has no selectable product that is available "
            "and not hidden.",
            products[option.pk],
            option.pk,
        )
        for option in required
        if option.pk not in usable
    ]


def cluster_report(cluster: Cluster) -> dict[str, Any]:
    problems = cluster_problems(cluster)
    return {"valid": not problems, "problems": [p.as_dict() for p in problems]}
