"""The CRM's OpenAPI 3.1 description: the signed webhook receiver, the audit log of events, guest
profiles, rejections, and the shared routes (probes, reconciliation feeds, GraphQL and its
websocket).

Enumerations come from the code that enforces them (event statuses, tiers, receiver answers).
"""

from __future__ import annotations

from core.contract import EVENT_TYPES, MAX_ID, RESERVATION_STATUSES
from core.openapi import shared
from core.openapi.spec import (
    ANY_OBJECT,
    COUNT,
    DATE,
    PAGING,
    TIME,
    Spec,
    answer,
    array,
    data,
    enum,
    error,
    id_param,
    integer,
    nullable,
    obj,
    page,
    query,
    string,
)

from .models import EVENT_STATUSES, TIERS, WEBHOOK_ID_MAX
from .validation import MAX_TIMESTAMP_MS, MAX_VERSION
from .services.receiver import ACCEPTED, DUPLICATE, ANSWERS
from .services.rejections import SUMMARY_MAX_GROUPS, SUMMARY_MAX_WINDOW_SECONDS, SUMMARY_WINDOW_SECONDS

DESCRIPTION = """\
The receiver of the PMS's signed webhooks (Standard Webhooks), the audit log of every event it
received, the guest profiles built from them, and the list of rejected webhooks. Success bodies
are `{"data": ...}`; lists are `{"data": [...], "next_cursor": ...}`; every error is
`{"error": {"code", "message", "details", "request_id"}}`. See docs/api.md."""

WEBHOOKS, EVENTS, PROFILES = "webhooks", "events", "profiles"

_GUEST = {
    "id": 41,
    "version": 1,
    "email": "ana@example.com",
    "name": "Ana Lima",
    "phone": "+351210000000",
    "date_of_birth": "1985-04-12",
    "country": "PT",
}
_RESERVATION = {
    "id": 7,
    "version": 1,
    "guest_id": 41,
    "room_number": "204",
    "room_type": "double",
    "check_in": "2027-03-01",
    "check_out": "2027-03-04",
    "status": "confirmed",
    "total_amount": "480.00",
    "currency": "EUR",
    "adults": 2,
    "children": 0,
}
EXAMPLES = {
    "guest.created": {"type": "guest.created", "timestamp": 1764424800123, "payload": _GUEST},
    "reservation.created": {"type": "reservation.created", "timestamp": 1764424801123, "payload": _RESERVATION},
    "reservation.updated": {
        "type": "reservation.updated",
        "timestamp": 1764424802123,
        "payload": {**_RESERVATION, "version": 2, "status": "checked_in"},
    },
    "guest.deleted": {
        "type": "guest.deleted",
        "timestamp": 1764424803123,
        "payload": {"id": 42, "version": 3, "deleted_at": "2026-11-29T14:00:03.123Z"},
    },
}


def document(base_path: str) -> dict:
    spec = Spec("Guestsync CRM API", DESCRIPTION, "1", base_path)
    shared.add_probes(spec, "crm")
    shared.add_sync(spec)
    shared.add_graphql(spec)
    _graphql_ws(spec)
    _receiver(spec)
    _events(spec)
    _profiles(spec)
    return spec.document()


def _graphql_ws(spec: Spec) -> None:
    spec.operation(
        "get",
        "/graphql/ws",
        operation_id="graphqlSubscriptions",
        tag=shared.GRAPHQL,
        summary="GraphQL subscriptions over a websocket (graphql-transport-ws)",
        description="Open with the graphql-transport-ws subprotocol; send connection_init "
        '(with {"Authorization": "Bearer <token>"} as payload when API_TOKEN '
        "is set), then subscribe to eventRecorded or profileChanged.",
        auth=False,
        rate_limited=False,
        database=False,
        responses={
            101: {"description": "switching to the websocket protocol"},
            400: error(400, "not a websocket upgrade request", ["bad_request"]),
            403: answer("the Origin is not this service's (plain text)"),
        },
    )


def _receiver(spec: Spec) -> None:
    spec.tag(WEBHOOKS, "The signed webhook receiver and the list of the requests it refused.")
    signed_headers = [
        {
            "name": "webhook-id",
            "in": "header",
            "required": True,
            "schema": string(minLength=1, maxLength=WEBHOOK_ID_MAX),
            "description": "the event's id, also its idempotency key",
        },
        {
            "name": "webhook-timestamp",
            "in": "header",
            "required": True,
            "schema": integer(),
            "description": "unix seconds at sending; within WEBHOOK_MAX_SKEW_SECONDS of now",
        },
        {
            "name": "webhook-signature",
            "in": "header",
            "required": True,
            "schema": string(minLength=1),
            "description": "v1,<base64 HMAC-SHA256 of id.timestamp.body> (space-separated, one per secret)",
        },
    ]
    entity = {"id": integer(minimum=1, maximum=MAX_ID), "version": integer(minimum=1, maximum=MAX_VERSION)}
    guest = spec.schema(
        "GuestPayload",
        obj(
            {
                **entity,
                "email": string(format="email", maxLength=254),
                "name": string(minLength=1, maxLength=200),
                "phone": nullable(string(maxLength=32)),
                "date_of_birth": nullable(DATE),
                "country": nullable(string(maxLength=64)),
            },
            required=["id", "version", "email", "name"],
            description="guest.created and guest.updated: the guest as the PMS API returns it",
        ),
    )
    reservation = spec.schema(
        "ReservationPayload",
        obj(
            {
                **entity,
                "guest_id": integer(minimum=1, maximum=MAX_ID),
                "room_number": nullable(string(maxLength=16)),
                "room_type": nullable(string(maxLength=64)),
                "check_in": DATE,
                "check_out": DATE,
                "status": enum(RESERVATION_STATUSES),
                "total_amount": {"type": ["string", "number"]},
                "currency": string(pattern="^[A-Za-z]{3}$"),
                "adults": nullable(integer(minimum=0, maximum=1000)),
                "children": nullable(integer(minimum=0, maximum=1000)),
            },
            required=["id", "version", "guest_id", "check_in", "check_out", "status", "total_amount", "currency"],
            description="reservation.created and reservation.updated: the reservation as the PMS API returns it",
        ),
    )
    deleted = spec.schema(
        "DeletedPayload",
        obj(
            {
                **entity,
                "deleted_at": string(minLength=1, maxLength=64),
                "guest_id": integer(minimum=1, maximum=MAX_ID, description="reservation.deleted only"),
            },
            required=["id", "version", "deleted_at"],
            description="guest.deleted and reservation.deleted",
        ),
    )
    envelope = spec.schema(
        "WebhookEnvelope",
        obj(
            {
                "type": {
                    "anyOf": [enum(EVENT_TYPES), string(minLength=1, maxLength=64)],
                    "description": "one of the event types; another type is recorded as ignored",
                },
                "idempotency_key": string(description="equals webhook-id when present"),
                "timestamp": integer(
                    minimum=0, maximum=MAX_TIMESTAMP_MS, description="milliseconds when the change happened"
                ),
                "payload": {"anyOf": [guest, reservation, deleted]},
            },
            required=["type", "timestamp", "payload"],
        ),
    )
    outcome = lambda statuses: data(obj({"status": enum(statuses), "id": string()}))  # noqa: E731
    spec.operation(
        "post",
        "/webhooks/pms",
        operation_id="receiveWebhook",
        tag=WEBHOOKS,
        summary="Receive one signed webhook from the PMS",
        description="Checks, in order: size (413), Content-Type (415), the webhook-* headers "
        "(400 missing_header), timestamp tolerance and signature (401), JSON "
        "object (400 invalid_json), envelope and payload (422). Not behind "
        "API_TOKEN or the rate limit; its signature authenticates it.",
        params=signed_headers,
        body=envelope,
        auth=False,
        rate_limited=False,
        examples=EXAMPLES,
        cross_site_checked=False,
        responses={
            200: answer("already recorded", outcome([DUPLICATE])),
            202: answer(
                "recorded: applied (accepted), older than what the CRM holds "
                "(stale) or a type it does not know (ignored)",
                outcome(sorted({ACCEPTED, *ANSWERS.values()})),
            ),
            401: error(
                401,
                "the timestamp is out of tolerance or no signature matches an accepted secret",
                ["timestamp_out_of_tolerance", "invalid_signature"],
            ),
            500: error(500, "applying failed and was rolled back; the sender retries"),
        },
    )
    rejection = spec.schema(
        "Rejection",
        obj(
            {
                "id": integer(minimum=1),
                "reason": string(description="the error code it was answered with"),
                "remote_ip": nullable(string()),
                "received_at": TIME,
                "webhook_id": nullable(string()),
            }
        ),
    )
    spec.operation(
        "get",
        "/webhooks/rejections",
        operation_id="listRejections",
        tag=WEBHOOKS,
        summary="Refused webhook requests, newest first",
        params=[*PAGING, query("reason", string(), "one error code")],
        responses={200: answer("one page", page(rejection))},
    )
    summary = spec.schema(
        "RejectionSummary",
        obj(
            {
                "since": {**TIME, "description": "the window's start (now minus window_seconds)"},
                "window_seconds": integer(minimum=1, maximum=SUMMARY_MAX_WINDOW_SECONDS),
                "groups": array(
                    obj(
                        {
                            "reason": string(description="the error code the requests were answered with"),
                            "remote_ip": nullable(string(description="the address they came from")),
                            "count": integer(minimum=1),
                            "last_at": {**TIME, "description": "the latest one"},
                        }
                    ),
                    maxItems=SUMMARY_MAX_GROUPS,
                    description=f"by reason and address, the largest first (at most {SUMMARY_MAX_GROUPS})",
                ),
            }
        ),
    )
    spec.operation(
        "get",
        "/webhooks/rejections/summary",
        operation_id="summariseRejections",
        tag=WEBHOOKS,
        summary="Refused webhook requests of a recent window, counted by reason and address",
        params=[
            query(
                "window_seconds",
                integer(minimum=1, maximum=SUMMARY_MAX_WINDOW_SECONDS, default=SUMMARY_WINDOW_SECONDS),
                "how far back, in seconds (at most a week)",
            ),
            query("reason", string(), "one error code"),
        ],
        responses={200: answer("the counts", data(summary))},
    )


def _events(spec: Spec) -> None:
    spec.tag(EVENTS, "The audit log of every webhook the CRM recorded.")
    event = spec.schema(
        "Event",
        obj(
            {
                "id": integer(minimum=1),
                "webhook_id": string(),
                "type": string(),
                "status": enum(EVENT_STATUSES),
                "entity_id": nullable(integer()),
                "entity_version": nullable(integer()),
                "occurred_at": nullable(TIME),
                "received_at": TIME,
                "payload": nullable(
                    {**ANY_OBJECT, "description": "personal fields are null once the guest was deleted"}
                ),
            }
        ),
    )
    spec.operation(
        "get",
        "/events",
        operation_id="listEvents",
        tag=EVENTS,
        summary="Events, newest first",
        params=[
            *PAGING,
            query("type", string(), "one event type"),
            query("status", enum(EVENT_STATUSES), "one status"),
            query("entity_id", integer(minimum=0), "one entity's (guest or reservation id)"),
            query("guest_id", integer(minimum=0), "one guest's, its reservations' included"),
            query("webhook_id", string(), "the event recorded from this webhook-id (a PMS delivery's id): at most one"),
        ],
        responses={200: answer("one page", page(event))},
    )
    spec.operation(
        "get",
        "/events/{event_id}",
        operation_id="getEvent",
        tag=EVENTS,
        summary="One event",
        params=[id_param("event_id", "event")],
        responses={200: answer("the event", data(event)), 404: error(404)},
    )


def _profiles(spec: Spec) -> None:
    spec.tag(PROFILES, "Guest profiles aggregated from the events.")
    stats = obj(
        {
            "total_reservations": COUNT,
            "active_reservations": COUNT,
            "cancelled_reservations": COUNT,
            "total_nights": COUNT,
            "average_nights": {"type": "number", "minimum": 0},
            "lifetime_value": {
                "type": "object",
                "additionalProperties": string(pattern=r"^-?[0-9]+\.[0-9]{2}$"),
                "description": "per currency, decimal strings",
            },
            "first_check_in": nullable(DATE),
            "last_check_out": nullable(DATE),
            "next_check_in": nullable(DATE),
        }
    )
    profile = spec.schema(
        "GuestProfile",
        obj(
            {
                "guest_id": integer(minimum=1),
                "email": nullable(string()),
                "name": nullable(string()),
                "phone": nullable(string()),
                "date_of_birth": nullable(DATE),
                "country": nullable(string()),
                "version": nullable(integer(description="null until the guest's own event arrives")),
                "stats": stats,
                "tier": enum(TIERS),
                "sources": array(string()),
                "updated_at": TIME,
            }
        ),
    )
    spec.operation(
        "get",
        "/guest-profiles",
        operation_id="listGuestProfiles",
        tag=PROFILES,
        summary="Profiles",
        params=[
            *PAGING,
            query("email", string(), "exact email, case-insensitive"),
            query("q", string(maxLength=200), "substring of name or email, case-insensitive"),
            query("tier", enum(TIERS), "one tier"),
        ],
        responses={200: answer("one page", page(profile))},
    )
    spec.operation(
        "get",
        "/guest-profiles/{guest_id}",
        operation_id="getGuestProfile",
        tag=PROFILES,
        summary="One guest's profile",
        params=[id_param("guest_id", "guest")],
        responses={200: answer("the profile", data(profile)), 404: error(404, "no profile (unknown or erased guest)")},
    )
