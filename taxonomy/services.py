"""Every structural write to the category tree, serialised by one tree lock."""

from __future__ import annotations

from django.db import connection

TREE_LOCK_KEY = 0x43415447  # "CATG": one advisory lock for the whole category forest


def lock_category_tree() -> None:
    """Take the tree lock for the rest of the current transaction (PostgreSQL; no-op on SQLite).

    mptt computes lft/rght in Python from values it read earlier; two concurrent writers corrupt
    the tree without this (spike §4: 18 duplicate positions). SQLite serialises writers itself.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [TREE_LOCK_KEY])
