from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from tests.webhooks.receivers import Receiver
from webhooks import dispatch
from webhooks.tasks import sweep


def until(predicate: Callable[[], bool], seconds: float = 10.0) -> None:
    """Run beat's sweep (dispatch, due retries) until ``predicate()`` holds."""
    deadline = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < deadline, "the condition did not come true in time"
        sweep()
        time.sleep(0.02)


@pytest.fixture
def allow_private(settings):
    settings.WEBHOOK_ALLOW_PRIVATE = True
    return settings


@pytest.fixture
def receiver():
    made = Receiver(tick=sweep).start()
    yield made
    made.stop()


@pytest.fixture
def make_receiver():
    made: list[Receiver] = []

    def make(**kwargs) -> Receiver:
        one = Receiver(tick=sweep, **kwargs).start()
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
