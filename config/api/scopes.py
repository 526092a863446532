"""The scope table of SPEC §3: the only list of scopes in the service."""

from __future__ import annotations

SCOPES: dict[str, str] = {
    "products:read": "Read products",
    "products:write": "Create, update and delete products",
    "clusters:read": "Read clusters and the products inside them",
    "clusters:write": "Write clusters and the products inside them",
    "categories:read": "Read categories and the tree",
    "categories:write": "Create, update, move and delete categories",
    "cluster-configs:read": "Read cluster configurations",
    "cluster-configs:write": "Write cluster configurations and their settings",
    "cluster-options:read": "Read cluster options",
    "cluster-options:write": "Write cluster options and their selectable products",
    "relationships:read": "Read category links of products and clusters",
    "relationships:write": "Link and unlink products and clusters to categories",
    "bulk:write": "Use bulk endpoints (with the entity's own write scope)",
    "search:read": "Search, global search and identifier resolution",
    "webhooks:read": "Read the client's own webhook subscriptions and their deliveries",
    "webhooks:write": "Create, change, test and delete the client's own webhook subscriptions",
}
ALL_SCOPES: tuple[str, ...] = tuple(SCOPES)
