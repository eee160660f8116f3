"""Endpoints as the API shows and changes them: list, create, read, update, delete, rotate a
secret, enable and disable. Each change is recorded in the audit log, in its own transaction.

A null policy column means "the service default"; the API shows the effective value of
``timeout_seconds``, ``max_in_flight`` and the breaker's numbers (so clients see what applies),
and ``retry_schedule`` / ``rate_limit_per_second`` as stored (null: the default schedule, no
limit). URLs are shown with any password masked. Any edit of endpoint 1 through the API ends
its following ``CRM_WEBHOOK_URL`` / ``CRM_WEBHOOK_SECRET``.

Disabling holds the endpoint's ``pending`` deliveries (and every new one) as ``held``; enabling
puts every held one back to ``pending``, due now; the per-entity order check sends them oldest
first. Deleting drops the deliveries not yet made (pending, in flight, held) and keeps the
delivered and failed ones with their attempts, as history. Endpoint 1 cannot be deleted: the
part-one routes are its view (disable it instead).
"""

from __future__ import annotations

import peewee as pw

from core.config import redact_url
from core.contract import MANUAL
from core.db import iso, utcnow
from core.errors import ConflictError, ValidationError
from core.pagination import PageRequest, paginate

from ..config import PmsSettings
from ..delivery.resolver import system_resolve
from ..delivery.url_safety import IPNetwork, address_problem
from ..endpoints import health, secrets
from ..endpoints.models import Endpoint, EndpointSecret
from ..models import CRM_ENDPOINT_ID, DELIVERING, HELD, PENDING, Delivery
from ..operators import Actor
from . import audit
from .rows import get_or_404

POLICY_COLUMNS = ("retry_schedule", "timeout_seconds", "rate_limit_per_second", "max_in_flight")


def to_api(endpoint: Endpoint, config: PmsSettings, valid_secrets: list | None = None) -> dict:
    """The API shape; ``valid_secrets`` when the caller read them already (lists read every
    endpoint's in one query)."""
    if valid_secrets is None:
        valid_secrets = secrets.valid(endpoint.id)
    return {
        "id": endpoint.id,
        "name": endpoint.name,
        "url": redact_url(endpoint.url),
        "description": endpoint.description,
        "event_types": endpoint.event_types or [],
        "enabled": bool(endpoint.enabled),
        "disabled_reason": endpoint.disabled_reason,
        "disabled_at": iso(endpoint.disabled_at),
        "retry_schedule": endpoint.retry_schedule,
        "timeout_seconds": endpoint.timeout_seconds or config.delivery_timeout_seconds,
        "rate_limit_per_second": endpoint.rate_limit_per_second,
        "max_in_flight": endpoint.max_in_flight or config.delivery_concurrency,
        "breaker": {
            "failure_threshold": endpoint.breaker_failure_threshold or config.breaker_failure_threshold,
            "recovery_seconds": (
                endpoint.breaker_recovery_seconds
                if endpoint.breaker_recovery_seconds is not None
                else config.breaker_recovery_seconds
            ),
        },
        "secrets": [secrets.to_api(s) for s in valid_secrets],
        "created_at": iso(endpoint.created_at),
        "updated_at": iso(endpoint.updated_at),
    }


def _columns(values: dict) -> dict:
    """Request fields to table columns (the breaker's two numbers have their own columns)."""
    columns = {k: v for k, v in values.items() if k not in ("breaker", "secret", "enabled")}
    breaker = values.get("breaker", {})
    if "failure_threshold" in breaker:
        columns["breaker_failure_threshold"] = breaker["failure_threshold"]
    if "recovery_seconds" in breaker:
        columns["breaker_recovery_seconds"] = breaker["recovery_seconds"]
    return columns


def _name_taken(name: str) -> ConflictError:
    return ConflictError(f"an endpoint named {name!r} exists already")


def check_address(values: dict, denied: tuple[IPNetwork, ...]) -> None:
    """422 on ``url`` when its host resolves to a refused address (link-local, cloud metadata,
    ``denied``). It resolves the name, which may take seconds: call it on a thread of its own,
    never on the IOLoop nor inside a unit of work holding a database connection. Every attempt
    checks the address it connects to again."""
    url = values.get("url")
    if not url:
        return
    problem = address_problem(url, denied, system_resolve)
    if problem:
        raise ValidationError.single("url", problem)


def list_endpoints(config: PmsSettings, page: PageRequest) -> tuple[list[dict], str | None]:
    """One page of endpoints in id order (endpoint 1 first), keyset-paged like every list."""
    if page.after_id is None and not page.ascending:
        page = PageRequest(page.limit, 0, ascending=True)
    rows, cursor = paginate(Endpoint.select(), Endpoint.id, page)
    by_endpoint = secrets.valid_of([e.id for e in rows])
    return [to_api(e, config, by_endpoint[e.id]) for e in rows], cursor


def get_endpoint(config: PmsSettings, endpoint_id: int) -> dict:
    return to_api(get_or_404(Endpoint, endpoint_id), config)


def create_endpoint(actor: Actor, config: PmsSettings, values: dict) -> dict:
    """A new endpoint; the answer carries its secret, the one time it is ever shown."""
    now = utcnow()
    enabled = values.get("enabled", True)
    if Endpoint.select().where(Endpoint.name == values["name"]).exists():
        raise _name_taken(values["name"])
    try:
        with Endpoint._meta.database.atomic():
            endpoint = Endpoint.create(
                **{"event_types": [], **_columns(values)},
                enabled=enabled,
                disabled_reason=None if enabled else MANUAL,
                disabled_at=None if enabled else now,
                created_at=now,
                updated_at=now,
            )
    except pw.IntegrityError:
        raise _name_taken(values["name"]) from None
    secret = values.get("secret") or secrets.generate()
    secrets.add(endpoint.id, secret, now)
    audit.record(actor, audit.ENDPOINT_CREATE, str(endpoint.id), name=endpoint.name)
    return {**to_api(endpoint, config), "secret": secret}


def update_endpoint(actor: Actor, config: PmsSettings, endpoint_id: int, values: dict) -> dict:
    endpoint = get_or_404(Endpoint, endpoint_id, lock=True)
    columns = _columns(values)
    if (
        "name" in columns
        and columns["name"] != endpoint.name
        and Endpoint.select().where(Endpoint.name == columns["name"]).exists()
    ):
        raise _name_taken(columns["name"])
    try:
        with Endpoint._meta.database.atomic():
            Endpoint.update(**columns, from_config=False, updated_at=utcnow()).where(
                Endpoint.id == endpoint_id
            ).execute()
    except pw.IntegrityError:
        raise _name_taken(columns.get("name", endpoint.name)) from None
    # Field names only: a URL may carry credentials the audit log must not keep.
    audit.record(actor, audit.ENDPOINT_UPDATE, str(endpoint_id), fields=sorted(values))
    return get_endpoint(config, endpoint_id)


def delete_endpoint(actor: Actor, endpoint_id: int) -> None:
    endpoint = get_or_404(Endpoint, endpoint_id, lock=True)
    if endpoint.id == CRM_ENDPOINT_ID:
        raise ConflictError("endpoint 1 is the CRM that the /webhooks/deliveries routes show; disable it instead")
    dropped = (
        Delivery.delete()
        .where((Delivery.endpoint_id == endpoint_id) & Delivery.status.in_((PENDING, DELIVERING, HELD)))
        .execute()
    )
    EndpointSecret.delete().where(EndpointSecret.endpoint == endpoint_id).execute()
    Endpoint.delete().where(Endpoint.id == endpoint_id).execute()
    audit.record(actor, audit.ENDPOINT_DELETE, str(endpoint_id), name=endpoint.name, dropped=dropped)


def rotate_secret(actor: Actor, endpoint_id: int, overlap_seconds: int) -> str:
    get_or_404(Endpoint, endpoint_id, lock=True)
    secret = secrets.rotate(endpoint_id, overlap_seconds)
    Endpoint.update(from_config=False, updated_at=utcnow()).where(Endpoint.id == endpoint_id).execute()
    audit.record(actor, audit.ENDPOINT_ROTATE_SECRET, str(endpoint_id), overlap_seconds=overlap_seconds)
    return secret


def disable(endpoint_id: int, reason: str, actor: Actor | None = None) -> int:
    """Disable the endpoint (``manual``, ``gone``, ``failing``) and hold its pending deliveries;
    returns how many were held. ``actor`` is who asked (none when the worker decided)."""
    held = health.disable(endpoint_id, reason)
    if actor is not None:
        audit.record(actor, audit.ENDPOINT_DISABLE, str(endpoint_id), reason=reason, held=held)
    return held


def disable_endpoint(actor: Actor, config: PmsSettings, endpoint_id: int) -> dict:
    get_or_404(Endpoint, endpoint_id, lock=True)
    disable(endpoint_id, MANUAL, actor)
    return get_endpoint(config, endpoint_id)


def enable_endpoint(actor: Actor, config: PmsSettings, endpoint_id: int) -> dict:
    """Enable it again: the reason is cleared and what was held is due now, oldest first."""
    endpoint = get_or_404(Endpoint, endpoint_id, lock=True)
    now = utcnow()
    Endpoint.update(enabled=True, disabled_reason=None, disabled_at=None, updated_at=now).where(
        Endpoint.id == endpoint_id
    ).execute()
    released = (
        Delivery.update(status=PENDING, next_attempt_at=now)
        .where((Delivery.endpoint_id == endpoint_id) & (Delivery.status == HELD))
        .execute()
    )
    audit.record(
        actor, audit.ENDPOINT_ENABLE, str(endpoint_id), previous_reason=endpoint.disabled_reason, released=released
    )
    return get_endpoint(config, endpoint_id)
