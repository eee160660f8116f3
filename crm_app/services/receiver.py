"""Recording a verified webhook in the audit log and applying it, in one transaction.

``receive(incoming)`` is the unit of work: it applies the event (or finds it stale or of an
unknown type) and inserts its audit row, whose unique ``webhook_id`` makes a second copy fail
with a duplicate key; ``DuplicateWebhook`` then rolls the whole unit back. ``receive_batch``
runs several units in one transaction, each inside its own savepoint, so one commit serves
many requests while a failure or a duplicate stays confined to its own webhook.

On MySQL/MariaDB the transaction runs at READ COMMITTED: profile stats are recomputed under
the guest's row lock from plain reads of the mirror, and those reads must see every change
committed before the lock was granted (REPEATABLE READ would show an older snapshot).
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Callable

import peewee as pw

from core.db import is_duplicate_key, is_mysql, utcnow

from ..models import IGNORED, PROCESSED, STALE, Event, db
from ..validation import Incoming
from .convergence import APPLIERS

log = logging.getLogger("guestsync.crm.receiver")

ACCEPTED, DUPLICATE = "accepted", "duplicate"
# The answer's status for each audit-log status.
ANSWERS = {PROCESSED: ACCEPTED, STALE: STALE, IGNORED: IGNORED}


class DuplicateWebhook(Exception):
    """The webhook-id is already in the audit log."""


@dataclass(frozen=True)
class Outcome:
    status: str          # accepted | stale | ignored | duplicate
    id: str              # the webhook-id
    event_id: int | None = None


def _entity_keys(payload: dict) -> tuple[int | None, int | None]:
    def as_int(value):
        return value if isinstance(value, int) and not isinstance(value, bool) and 0 < value < 2**63 else None
    version = as_int(payload.get("version"))
    return as_int(payload.get("id")), version if version is not None and version < 2**31 else None


def receive(incoming: Incoming, now: dt.datetime | None = None) -> Outcome:
    """Apply and record one webhook; raises ``DuplicateWebhook`` when it was seen before."""
    now = now or utcnow()
    if Event.select(Event.id).where(Event.webhook_id == incoming.webhook_id).exists():
        raise DuplicateWebhook(incoming.webhook_id)
    entity_id, entity_version = _entity_keys(incoming.payload)
    guest_id, payload = None, incoming.payload
    if incoming.known:
        applied, guest_id, payload = APPLIERS[incoming.type](incoming.values, incoming.payload, now)
        status = PROCESSED if applied else STALE
    else:
        status = IGNORED
    try:
        event = Event.create(webhook_id=incoming.webhook_id, type=incoming.type, status=status,
                             entity_id=entity_id, entity_version=entity_version, guest_id=guest_id,
                             occurred_at=incoming.occurred_at, received_at=now, payload=payload)
    except pw.IntegrityError as exc:
        if is_duplicate_key(exc):
            raise DuplicateWebhook(incoming.webhook_id) from None
        raise
    return Outcome(ANSWERS[status], incoming.webhook_id, event.id)


def in_transaction(fn: Callable, *args):
    """Run ``fn(*args)`` in one transaction (READ COMMITTED on MySQL); for ``Store.run(transaction=False)``."""
    database = db.obj
    if is_mysql(database):
        with database.atomic(isolation_level="READ COMMITTED"):
            return fn(*args)
    with database.atomic():
        return fn(*args)


def receive_one(incoming: Incoming) -> Outcome:
    """One webhook in its own transaction; a duplicate answers ``duplicate``."""
    try:
        return in_transaction(receive, incoming)
    except DuplicateWebhook:
        return Outcome(DUPLICATE, incoming.webhook_id)


def receive_batch(batch: list[Incoming]) -> list[Outcome | BaseException]:
    """Several webhooks in one transaction, each in a savepoint: one commit, separate fates.

    Returns one ``Outcome`` or exception per webhook, in order. A webhook whose unit failed
    is rolled back to its savepoint and does not affect the others. Errors that abort the
    whole transaction (deadlock, lost connection) propagate, and ``Store`` retries the batch.
    """
    def run() -> list[Outcome | BaseException]:
        results: list[Outcome | BaseException] = []
        now = utcnow()
        for incoming in batch:
            try:
                with db.obj.atomic():  # a savepoint inside the batch transaction
                    results.append(receive(incoming, now))
            except DuplicateWebhook:
                results.append(Outcome(DUPLICATE, incoming.webhook_id))
            except pw.OperationalError:
                raise
            except Exception as exc:  # noqa: BLE001 - confined to this webhook, answered 500
                log.exception("applying webhook %s failed", incoming.webhook_id)
                results.append(exc)
        return results
    return in_transaction(run)
