from __future__ import annotations

import threading

import pytest
from django.db import connection

from tests.catalogue.factories import ProductFactory


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_sixteen_writers_with_the_same_if_match_one_wins(api):
    product = ProductFactory()
    barrier = threading.Barrier(16)
    statuses: list[int] = []

    def writer(n: int) -> None:
        try:
            barrier.wait(10)
            response = api.patch(
                f"/v2/products/id/{product.pk}", {"sku": f"W-{n}"}, headers={"If-Match": '"1"'}
            )
            statuses.append(response.status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(statuses) == [200] + [412] * 15
    product.refresh_from_db()
    assert product.version == 2
