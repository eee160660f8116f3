"""Deliveries as the API shows them: list, detail, replay, and an endpoint's delivery status.

Every function works on one endpoint's deliveries, endpoint 1 (the CRM) unless told otherwise,
which is what the part-one routes show. A delivery is addressed by its event's UUID; lists page
by the delivery's integer id, shown as ``seq`` (commit order is not guaranteed, but ``seq`` is
the order deliveries were written). ``?since_id=N`` on the list means "deliveries with ``seq``
greater than N", ascending. Replaying queues a delivery again now, whatever its state, with a
fresh retry schedule (``attempts_since_replay`` back to 0; ``attempt_count`` and the attempt
history keep growing). The replay marks the delivery so its next attempt records ``trigger:
"replay"`` and who asked (``replayed_by``), and it is written to the audit log in the same
transaction.

Short ids: wherever a delivery is addressed by its id, a prefix of it (the 8 characters pages
show, or any length from ``MIN_PREFIX``) finds it when exactly one delivery of that endpoint
starts with it; when several do, the answer is 409 ``conflict`` saying how many match, so the
caller gives more characters. Lists filter by a prefix with ``?id_prefix=``.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

import peewee as pw

from core.db import iso, utcnow
from core.errors import ConflictError, NotFoundError, ValidationError
from core.pagination import PageRequest, paginate

from core.config import redact_url

from ..delivery.models import BreakerTransition
from ..endpoints import secrets
from ..endpoints.models import Endpoint
from ..models import CRM_ENDPOINT_ID, FAILED, HELD, PENDING, REPLAY, Delivery, DeliveryAttempt, OutboxEvent
from ..operators import Actor
from . import audit
from .endpoint_health import WORKER_LIVE_SECONDS, breaker_of
from .outbox_counts import OutboxCounts
from .rows import get_or_404

# The shortest id prefix that addresses a delivery; shorter ones match too much to be useful.
MIN_PREFIX = 4
_ID_TEXT = re.compile(r"[0-9a-fA-F-]{1,36}")


def summary(delivery: Delivery) -> dict:
    return {**delivery.to_summary(), "seq": delivery.id}


@dataclass(frozen=True)
class DeliveryFilter:
    status: str | None = None
    event_type: str | None = None
    entity_id: int | None = None
    guest_id: int | None = None  # the guest's events and those of its reservations
    since: dt.datetime | None = None
    until: dt.datetime | None = None
    id_prefix: str | None = None  # lower-case hex and dashes (see ``parse_id_prefix``)


def parse_id_prefix(raw: str | None) -> str | None:
    """``?id_prefix=`` as the filter uses it; 422 for anything that cannot start a delivery id."""
    if raw is None or raw == "":
        return None
    if not _ID_TEXT.fullmatch(raw):
        raise ValidationError.single("id_prefix", "must be the start of a delivery id (hex digits and dashes)")
    return raw.lower()


def _filtered(query: pw.ModelSelect, where: DeliveryFilter) -> pw.ModelSelect:
    if where.status:
        query = query.where(Delivery.status == where.status)
    if where.event_type:
        query = query.where(Delivery.type == where.event_type)
    if where.entity_id is not None:
        query = query.where(Delivery.entity_id == where.entity_id)
    if where.guest_id is not None:
        query = query.where(Delivery.guest_id == where.guest_id)
    if where.since is not None:
        query = query.where(Delivery.created_at >= where.since)
    if where.until is not None:
        query = query.where(Delivery.created_at < where.until)
    if where.id_prefix:
        # Hex digits and dashes only, so the pattern holds no wildcard; a prefix reads the
        # (event_id, endpoint_id) index as a range.
        query = query.where(Delivery.event_id.startswith(where.id_prefix))
    return query


def list_deliveries(
    page: PageRequest,
    status: str | None = None,
    event_type: str | None = None,
    endpoint_id: int = CRM_ENDPOINT_ID,
    where: DeliveryFilter | None = None,
) -> tuple[list[dict], str | None]:
    where = where or DeliveryFilter(status, event_type)
    query = _filtered(Delivery.select().where(Delivery.endpoint_id == endpoint_id), where)
    rows, cursor = paginate(query, Delivery.id, page)
    return [summary(d) for d in rows], cursor


def list_endpoint_deliveries(
    page: PageRequest, endpoint_id: int, where: DeliveryFilter
) -> tuple[list[dict], str | None]:
    """One endpoint's deliveries; 404 when there is no such endpoint (an empty list would hide a
    mistyped id)."""
    get_or_404(Endpoint, endpoint_id)
    return list_deliveries(page, endpoint_id=endpoint_id, where=where)


def count_deliveries(endpoint_id: int, where: DeliveryFilter) -> int:
    """How many deliveries of the endpoint a list with these filters would show, over all pages
    (what a bulk replay would act on, shown before it does)."""
    query = _filtered(Delivery.select(Delivery.id).where(Delivery.endpoint_id == endpoint_id), where)
    return query.count()


def count_endpoint_deliveries(endpoint_id: int, where: DeliveryFilter) -> int:
    """``count_deliveries`` of an endpoint that must exist (404 otherwise)."""
    get_or_404(Endpoint, endpoint_id)
    return count_deliveries(endpoint_id, where)


def _get(event_id: str, endpoint_id: int) -> Delivery:
    """The endpoint's delivery of ``event_id``: the whole id, or an unambiguous prefix of it."""
    if len(event_id) > 36:
        raise NotFoundError(f"delivery {event_id} not found")
    delivery = Delivery.get_or_none((Delivery.event_id == event_id) & (Delivery.endpoint_id == endpoint_id))
    if delivery is not None:
        return delivery
    if len(event_id) < MIN_PREFIX or not _ID_TEXT.fullmatch(event_id):
        raise NotFoundError(f"delivery {event_id} not found")
    wanted = event_id.lower()
    found = list(
        Delivery.select().where((Delivery.endpoint_id == endpoint_id) & Delivery.event_id.startswith(wanted)).limit(2)
    )
    if not found:
        raise NotFoundError(f"delivery {event_id} not found")
    if len(found) > 1:
        total = count_deliveries(endpoint_id, DeliveryFilter(id_prefix=wanted))
        raise ConflictError(
            f"the short id {event_id} matches {total} deliveries; give more of its characters "
            f"(or list them with ?id_prefix={wanted})"
        )
    return found[0]


def get_delivery(event_id: str, endpoint_id: int = CRM_ENDPOINT_ID) -> dict:
    """The detail: the summary, the payload, every attempt, the request as it is sent
    (``request``) and the event's deliveries to every endpoint (``destinations``)."""
    delivery = _get(event_id, endpoint_id)
    event = OutboxEvent.get_by_id(delivery.event_seq)
    return {
        **summary(delivery),
        "payload": event.payload,
        "attempts": attempts_of([delivery.id])[delivery.id],
        "request": request_of(delivery),
        "destinations": destinations_of(delivery.event_id),
    }


def destinations_of(event_id: str) -> list[dict]:
    """Every endpoint the event goes to, with that delivery's state, in endpoint order."""
    rows = (
        Delivery.select(Delivery, Endpoint.name.alias("endpoint_name"))
        .join(Endpoint, pw.JOIN.LEFT_OUTER, on=(Endpoint.id == Delivery.endpoint_id))
        .where(Delivery.event_id == event_id)
        .order_by(Delivery.endpoint_id)
        .objects()
    )
    return [
        {
            "endpoint_id": d.endpoint_id,
            "endpoint_name": d.endpoint_name,
            "status": d.status,
            "attempt_count": d.attempt_count,
            "last_status_code": d.last_status_code,
            "last_error": d.last_error,
            "next_attempt_at": summary(d)["next_attempt_at"],
            "delivered_at": iso(d.delivered_at),
        }
        for d in rows
    ]


def request_of(delivery: Delivery) -> dict:
    """What each attempt of this delivery sends, secrets masked: the endpoint's URL (its password
    hidden) and the headers. The signature and the timestamp are made afresh at each attempt;
    one ``v1,...`` signature per secret valid now."""
    endpoint = Endpoint.get_or_none(Endpoint.id == delivery.endpoint_id)
    signatures = len(secrets.valid(delivery.endpoint_id)) if endpoint is not None else 0
    return {
        "method": "POST",
        "url": redact_url(endpoint.url) if endpoint is not None else None,
        "headers": {
            "content-type": "application/json",
            "webhook-id": delivery.event_id,
            "webhook-timestamp": "(unix seconds at sending)",
            "webhook-signature": " ".join(["v1,***"] * max(signatures, 1)),
        },
    }


def attempts_of(delivery_ids: list[int]) -> dict[int, list[dict]]:
    """Every attempt of each delivery (by its id, ``seq`` in the API), oldest first, in one query
    (the detail route, and GraphQL's batched ``delivery.attempts``)."""
    found: dict[int, list[dict]] = {delivery_id: [] for delivery_id in delivery_ids}
    if delivery_ids:
        attempts = (
            DeliveryAttempt.select()
            .where(DeliveryAttempt.delivery_id.in_(sorted(set(delivery_ids))))
            .order_by(DeliveryAttempt.id)
        )
        for attempt in attempts:
            found[attempt.delivery_id].append(attempt.to_api())
    return found


def _requeue_fields(now: dt.datetime, actor: Actor, status: str = PENDING) -> dict:
    return {
        Delivery.status: status,
        Delivery.attempts_since_replay: 0,
        Delivery.next_attempt_at: now,
        Delivery.claimed_by: None,
        Delivery.lease_until: None,
        Delivery.delivered_at: None,
        Delivery.next_trigger: REPLAY,
        Delivery.replayed_by: actor.operator,
    }


def _requeue_status(endpoint_id: int) -> str:
    """A replay to a disabled endpoint waits, held, for it to be enabled (it is not sent)."""
    enabled = Endpoint.select(Endpoint.enabled).where(Endpoint.id == endpoint_id).scalar()
    return HELD if enabled is False or enabled == 0 else PENDING


def replay(actor: Actor, event_id: str, endpoint_id: int = CRM_ENDPOINT_ID) -> dict:
    """Queue one delivery again now, on ``actor``'s behalf; 404 if unknown."""
    delivery = _get(event_id, endpoint_id)
    Delivery.update(_requeue_fields(utcnow(), actor, _requeue_status(endpoint_id))).where(
        Delivery.id == delivery.id
    ).execute()
    audit.record(
        actor, audit.DELIVERY_REPLAY, delivery.event_id, previous_status=delivery.status, endpoint_id=endpoint_id
    )
    return summary(Delivery.get_by_id(delivery.id))


def replay_failed(actor: Actor, endpoint_id: int = CRM_ENDPOINT_ID, since: dt.datetime | None = None) -> int:
    """Queue every ``failed`` delivery of the endpoint (created since ``since``, when given) again
    now, on ``actor``'s behalf; returns how many."""
    where = (Delivery.status == FAILED) & (Delivery.endpoint_id == endpoint_id)
    if since is not None:
        where &= Delivery.created_at >= since
    replayed = Delivery.update(_requeue_fields(utcnow(), actor, _requeue_status(endpoint_id))).where(where).execute()
    # Recorded even when nothing was failed: someone asked, and an auditor may need to know.
    details = {"since": iso(since)} if since is not None else {}
    audit.record(actor, audit.DELIVERIES_REPLAY_FAILED, None, replayed=replayed, endpoint_id=endpoint_id, **details)
    return replayed


def recover(actor: Actor, endpoint_id: int, since: dt.datetime) -> int:
    """Queue again every delivery of the endpoint created since ``since``, whatever its state
    (after an outage the receiver lost data in); returns how many."""
    replayed = (
        Delivery.update(_requeue_fields(utcnow(), actor, _requeue_status(endpoint_id)))
        .where((Delivery.endpoint_id == endpoint_id) & (Delivery.created_at >= since))
        .execute()
    )
    audit.record(actor, audit.DELIVERIES_RECOVER, None, replayed=replayed, endpoint_id=endpoint_id, since=iso(since))
    return replayed


def replay_endpoint(
    actor: Actor, endpoint_id: int, since: dt.datetime | None = None, every_status: bool = False
) -> int:
    """The bulk replays of one endpoint, 404 when there is no such endpoint: its ``failed``
    deliveries (created since ``since``, when given), or with ``every_status`` every delivery
    created since ``since`` whatever its state (``recover``)."""
    get_or_404(Endpoint, endpoint_id)
    if every_status:
        if since is None:
            raise ValueError("recovering every delivery needs a since time")
        return recover(actor, endpoint_id, since)
    return replay_failed(actor, endpoint_id, since)


def list_breaker_transitions(page: PageRequest, endpoint_id: int = CRM_ENDPOINT_ID) -> tuple[list[dict], str | None]:
    """The history of every worker's breaker state changes for one endpoint, newest first."""
    query = BreakerTransition.select().where(BreakerTransition.endpoint == str(endpoint_id))
    rows, cursor = paginate(query, BreakerTransition.id, page)
    return [{"id": t.id, **t.to_api()} for t in rows], cursor


def list_endpoint_transitions(page: PageRequest, endpoint_id: int) -> tuple[list[dict], str | None]:
    """``list_breaker_transitions`` of an endpoint that must exist (404 otherwise)."""
    get_or_404(Endpoint, endpoint_id)
    return list_breaker_transitions(page, endpoint_id)


def webhook_status(
    endpoint_id: int = CRM_ENDPOINT_ID, counts: OutboxCounts | None = None, live_seconds: float = WORKER_LIVE_SECONDS
) -> dict:
    """``GET /guests/webhook/status`` (endpoint 1) and ``GET /endpoints/:id/status``: the worst
    live worker's breaker for the endpoint, its delivery counts, its last success and failure."""
    endpoint = Endpoint.get_or_none(Endpoint.id == endpoint_id)
    if endpoint is None:
        raise NotFoundError(f"endpoint {endpoint_id} not found")
    return {
        "endpoint": redact_url(endpoint.url),
        "breaker": breaker_of(endpoint_id, live_seconds=live_seconds),
        "outbox": (counts or OutboxCounts()).read(endpoint_id),
        "last_success_at": iso(endpoint.last_success_at),
        "last_failure_at": iso(endpoint.last_failure_at),
    }
