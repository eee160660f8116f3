"""Group commit: coalescing of concurrent submissions, and per-webhook fates inside one batch."""

from __future__ import annotations

import asyncio

import pytest

from crm_app.batching import GroupCommitter, Overloaded
from crm_app.models import Event, GuestProfile
from crm_app.services import convergence
from crm_app.services.receiver import DUPLICATE, receive_batch
from tests.crm_app.webhook_factory import guest, incoming


class RecordingStore:
    """A Store stand-in: runs the unit inline (after yielding) and records each batch."""

    def __init__(self, gate: asyncio.Event | None = None):
        self.batches: list[list] = []
        self.gate = gate

    async def run(self, fn, items, transaction=True):
        self.batches.append(list(items))
        if self.gate is not None:
            await self.gate.wait()
        return fn(items)


@pytest.mark.gen_test
async def test_submissions_during_a_write_share_the_next_batch():
    gate = asyncio.Event()
    store = RecordingStore(gate)
    committer = GroupCommitter(store, lambda items: [i * 10 for i in items], max_batch=3)
    first = committer.submit(1)
    await asyncio.sleep(0)  # the writer takes [1] and waits on the gate
    rest = [committer.submit(i) for i in range(2, 7)]
    gate.set()
    assert await asyncio.gather(first, *rest) == [10, 20, 30, 40, 50, 60]
    assert store.batches == [[1], [2, 3, 4], [5, 6]]


@pytest.mark.gen_test
async def test_each_item_gets_its_own_exception_and_a_batch_failure_reaches_all():
    store = RecordingStore()
    committer = GroupCommitter(store, lambda items: [ValueError(i) if i == 2 else i for i in items])
    results = await asyncio.gather(*[committer.submit(i) for i in (1, 2, 3)], return_exceptions=True)
    assert results[0] == 1 and results[2] == 3 and isinstance(results[1], ValueError)

    def broken(items):
        raise RuntimeError("database gone")

    failing = GroupCommitter(RecordingStore(), broken)
    results = await asyncio.gather(*[failing.submit(i) for i in (1, 2)], return_exceptions=True)
    assert all(isinstance(r, RuntimeError) for r in results)


@pytest.mark.gen_test
async def test_queue_is_bounded_when_asked():
    gate = asyncio.Event()
    committer = GroupCommitter(RecordingStore(gate), lambda items: None, max_pending=2)
    held = committer.submit("a")
    await asyncio.sleep(0)
    queued = [committer.submit("b"), committer.submit("c")]
    with pytest.raises(Overloaded):
        committer.submit("d")
    gate.set()
    assert await asyncio.gather(held, *queued) == [None, None, None]
    await committer.wait_idle()
    assert committer.pending == 0


def test_one_failing_webhook_does_not_poison_its_batch(crm_db, monkeypatch):
    real = convergence.APPLIERS["guest.updated"]

    def half_then_fail(rows, values, payload):
        real(rows, values, payload)  # changes the profile, then fails: must be rolled back alone
        raise RuntimeError("boom")

    monkeypatch.setitem(convergence.APPLIERS, "guest.updated", half_then_fail)
    good = incoming("guest.created", guest(1))
    bad = incoming("guest.updated", guest(1, version=2, name="Never"))
    other = incoming("guest.created", guest(2))
    results = crm_db.store.call(receive_batch, [good, bad, good, other], transaction=False)
    assert results[0].status == "accepted"
    assert isinstance(results[1], RuntimeError)
    assert results[2].status == DUPLICATE  # a copy inside the same batch
    assert results[3].status == "accepted"
    names = crm_db.store.call(lambda: {g.guest_id: (g.name, g.version) for g in GuestProfile.select()})
    assert names == {1: ("Guest 1", 1), 2: ("Guest 2", 1)}
    assert crm_db.store.call(lambda: Event.select().count()) == 2
