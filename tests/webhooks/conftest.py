from __future__ import annotations

import pytest

from tests.webhooks.receivers import Receiver
from webhooks import dispatch


@pytest.fixture
def allow_private(settings):
    settings.WEBHOOK_ALLOW_PRIVATE = True
    return settings


@pytest.fixture
def receiver():
    made = Receiver().start()
    yield made
    made.stop()


@pytest.fixture
def make_receiver():
    made: list[Receiver] = []

    def make(**kwargs) -> Receiver:
        one = Receiver(**kwargs).start()
        made.append(one)
        return one

    yield make
    for one in made:
        one.stop()


@pytest.fixture(autouse=True)
def _fresh_active_cache():
    dispatch.forget_active()
    yield
    dispatch.forget_active()
