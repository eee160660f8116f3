"""A change committed through the API wakes the in-process worker: no waiting for its next poll."""

from __future__ import annotations

import asyncio
import json
import time

import pytest

from pms_app.app import make_app
from pms_app.delivery.worker import WorkerTiming
from tests.pms_app.helpers import create_guest
from tests.support.delivery import delivery_settings, running_worker
from tests.support.receivers import Receiver

# A worker that, left alone, would look for work only once a minute.
SLEEPY = WorkerTiming(poll_min=60, poll_max=60, busy_window=0, heartbeat=0.1, retention_every=3600, db_retry=0.05)


@pytest.fixture
def receiver():
    with Receiver() as running:
        yield running


@pytest.fixture
def app(pms_db, receiver):
    settings = delivery_settings(receiver.url)
    with running_worker(settings, pms_db.store, timing=SLEEPY) as worker:
        yield make_app(settings, store=pms_db.store, wake_delivery=worker.wake)


@pytest.mark.gen_test(timeout=30)
async def test_committed_change_is_sent_at_once(http_client, base_url, receiver):
    # Give the worker time to make its first (empty) look and fall asleep for a minute, so
    # only the wake-up can explain a prompt delivery.
    await asyncio.sleep(0.3)
    guest = await create_guest(http_client, base_url)
    deadline = time.monotonic() + 10  # far below the worker's 60 s poll
    while receiver.count() < 1 and time.monotonic() < deadline:
        await asyncio.sleep(0.02)
    assert receiver.count() == 1
    assert json.loads(receiver.received[0].body)["payload"]["id"] == guest["id"]
