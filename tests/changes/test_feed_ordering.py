"""The feed never skips an event whose transaction commits late (SPEC §19), PostgreSQL: writers
commit in an order different from their event ids while a reader follows the cursor."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, transaction

from catalogue.services import product_create
from config.api.scopes import ALL_SCOPES
from tests.changes.helpers import feed

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def create(label: str) -> int:
    return product_create(data={"language": "en", "name": {"en": label}}).pk


def follow(client, after: str) -> tuple[list[dict], str]:
    seen: list[dict] = []
    while True:
        body = feed(client, after=after, pageSize=1000)
        after = body["pagination"]["nextCursor"]
        if not body["data"]:
            return seen, after
        seen += body["data"]


def _late_writer(started: threading.Event, release: threading.Event, out: list) -> None:
    try:
        with transaction.atomic():
            out.append(create("late"))  # the lower event id, committed last
            started.set()
            release.wait(30)
    finally:
        connection.close()


def test_a_late_commit_is_not_skipped_by_a_reader_that_polled_in_between(client_with_scopes):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite serialises writers: events always commit in id order")
    reader = client_with_scopes(*ALL_SCOPES)
    cursor = feed(reader)["pagination"]["nextCursor"]
    started, release, late = threading.Event(), threading.Event(), []
    writer = threading.Thread(target=_late_writer, args=(started, release, late))
    writer.start()
    try:
        assert started.wait(30)
        early = create("early")  # a higher event id, committed first
        seen, cursor = follow(reader, cursor)
        # the early event waits behind the transaction still in flight, rather than letting
        # the cursor step past the late one
        assert seen == []
    finally:
        release.set()
        writer.join(30)
    seen, cursor = follow(reader, cursor)
    assert sorted(e["recordId"] for e in seen) == sorted([late[0], early])
    assert follow(reader, cursor)[0] == []


def _writer(barriers: list[threading.Barrier], label: str, ids: list) -> None:
    try:
        for barrier in barriers:
            with transaction.atomic():
                ids.append(create(label))
                barrier.wait(30)  # everyone holds an open transaction with an event in it
    finally:
        connection.close()


def test_concurrent_writers_and_a_following_reader_see_every_event_exactly_once(
    client_with_scopes,
):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite serialises writers")
    reader = client_with_scopes(*ALL_SCOPES)
    cursor = feed(reader)["pagination"]["nextCursor"]
    rounds, writers = 5, 3
    barriers = [threading.Barrier(writers) for _ in range(rounds)]
    created: list[int] = []
    threads = [
        threading.Thread(target=_writer, args=(barriers, f"w{i}", created)) for i in range(writers)
    ]
    for thread in threads:
        thread.start()
    seen: list[dict] = []
    while any(thread.is_alive() for thread in threads):
        page, cursor = follow(reader, cursor)
        seen += page
    for thread in threads:
        thread.join(30)
    page, cursor = follow(reader, cursor)
    seen += page
    ids = [e["id"] for e in seen]
    assert len(ids) == len(set(ids)) == rounds * writers
    assert sorted(e["recordId"] for e in seen) == sorted(created)


def test_a_transaction_in_another_database_does_not_hold_the_feed(client_with_scopes):
    """The horizon is this database's oldest transaction in flight: a long transaction of
    another database on the same server (a report, another service) must not stall the feed."""
    if connection.vendor != "postgresql":
        pytest.skip("the horizon is PostgreSQL's")
    import psycopg

    settings = connection.settings_dict
    other = psycopg.connect(
        host=settings["HOST"] or "127.0.0.1",
        port=settings["PORT"] or 5432,
        user=settings["USER"],
        password=settings["PASSWORD"] or None,
        dbname="postgres",
    )
    reader = client_with_scopes(*ALL_SCOPES)
    cursor = feed(reader)["pagination"]["nextCursor"]
    try:
        other.execute("SELECT pg_current_xact_id()")  # holds an xid, older than the write below
        created = create("while another database waits")
        seen, _ = follow(reader, cursor)
        assert [e["recordId"] for e in seen] == [created]
    finally:
        other.rollback()
        other.close()
