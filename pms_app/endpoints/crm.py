"""Endpoint 1, ``crm``: the destination of part one, defined by ``CRM_WEBHOOK_URL`` and
``CRM_WEBHOOK_SECRET``.

A migration creates it; every process that delivers or serves follows the configuration at
start (``sync``) for as long as nobody edited the endpoint through the API (``from_config``).
Once an operator changed it, the database is the truth and the variables no longer matter.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import peewee as pw

from core.db import utcnow

from ..models import CRM_ENDPOINT_ID
from .models import Endpoint, EndpointSecret

log = logging.getLogger("guestsync.endpoints")

CRM_ENDPOINT_NAME = "crm"


def seed(url: str, secrets: Sequence[str]) -> None:
    """Create endpoint 1 from the configuration if it does not exist (a fresh database)."""
    if Endpoint.select().where(Endpoint.id == CRM_ENDPOINT_ID).exists():
        return
    now = utcnow()
    # No savepoint of its own: a migration runs this, and MySQL's DDL has just ended any
    # transaction. Only migrations and test set-up call it, one at a time.
    try:
        Endpoint.insert(
            id=CRM_ENDPOINT_ID,
            name=CRM_ENDPOINT_NAME,
            url=url,
            event_types=[],
            enabled=True,
            from_config=True,
            created_at=now,
            updated_at=now,
        ).execute()
    except pw.IntegrityError:
        return  # the name is taken by an endpoint created through the API: leave it alone
    EndpointSecret.insert_many(
        [{"endpoint": CRM_ENDPOINT_ID, "secret": s, "created_at": now} for s in secrets]
    ).execute()


def sync(url: str, secrets: Sequence[str]) -> None:
    """Bring endpoint 1 in step with the configuration, unless it was edited through the API."""
    endpoint = Endpoint.get_or_none(Endpoint.id == CRM_ENDPOINT_ID)
    if endpoint is None or not endpoint.from_config:
        return
    current = [
        s.secret
        for s in EndpointSecret.select().where(EndpointSecret.endpoint == CRM_ENDPOINT_ID).order_by(EndpointSecret.id)
    ]
    if endpoint.url == url and current == list(secrets):
        return
    now = utcnow()
    Endpoint.update(url=url, updated_at=now).where(Endpoint.id == CRM_ENDPOINT_ID).execute()
    if current != list(secrets):
        EndpointSecret.delete().where(EndpointSecret.endpoint == CRM_ENDPOINT_ID).execute()
        EndpointSecret.insert_many(
            [{"endpoint": CRM_ENDPOINT_ID, "secret": s, "created_at": now} for s in secrets]
        ).execute()
    log.info("endpoint %s follows CRM_WEBHOOK_URL / CRM_WEBHOOK_SECRET again", CRM_ENDPOINT_NAME)
