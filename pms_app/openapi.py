"""The PMS's OpenAPI 3.1 description: every route of ``make_app``, its parameters, bodies and answers.

Enumerations come from the code that enforces them (statuses, event types, audit actions,
notification types), so the document cannot drift from what the service accepts. The shared
routes (probes, reconciliation feeds, GraphQL) are described in ``core.openapi.shared``.
"""

from __future__ import annotations

from core.contract import EVENT_TYPES, RESERVATION_STATUSES
from core.openapi import shared
from core.openapi.spec import (
    ANY_OBJECT,
    COUNT,
    DATE,
    ID,
    MONEY,
    PAGING,
    TIME,
    Spec,
    answer,
    array,
    data,
    enum,
    error,
    header,
    id_param,
    integer,
    nullable,
    obj,
    page,
    path_param,
    query,
    ref,
    string,
    with_links,
)
from core.sync import KINDS

from .delivery.claims import PING
from .endpoints.validation import MAX_DELAY_SECONDS, MAX_EVENT_TYPES, MAX_RETRIES, MAX_URL
from .models import DELIVERING, DELIVERY_STATUSES, FAILED, HELD, OUTBOX_STATUSES, PENDING, REPLAY, SCHEDULED, TEST
from .notifications.models import TYPES as NOTIFICATION_TYPES
from .operators import OPERATOR_HEADER, OPERATOR_NAME
from .services.audit import ACTIONS
from .services.deliveries import MIN_PREFIX
from .services.endpoint_activity import MAX_ENDPOINTS, WINDOW_MINUTES
from .services.endpoint_health import LATENCY_SAMPLE

DESCRIPTION = """\
Guests and reservations, the outbox of webhook events and their delivery to endpoints
(retries, circuit breaker, replay), notifications, the operator audit log and reconciliation.
Success bodies are `{"data": ...}`; lists are `{"data": [...], "next_cursor": ...}`; every
error is `{"error": {"code", "message", "details", "request_id"}}`. See docs/api.md."""

GUESTS, RESERVATIONS, DELIVERIES, ENDPOINTS, OPS = ("guests", "reservations", "deliveries", "endpoints", "operations")

OPERATOR = header(
    OPERATOR_HEADER,
    string(pattern=f"^{OPERATOR_NAME.pattern}$"),
    "the operator acting (recorded in the audit log and on replayed attempts)",
)
EVENT_ID = path_param(
    "event_id",
    string(),
    f"the event's UUID (its webhook-id), or a prefix of it of at "
    f"least {MIN_PREFIX} characters that only one of the endpoint's "
    f"deliveries starts with",
)
ENDPOINT_ID = id_param("endpoint_id", "endpoint")
AMBIGUOUS = error(
    409,
    "the short id starts more than one of the endpoint's deliveries; the message says "
    "how many (give more characters, or list them with ?id_prefix=)",
)


def delivery_filters(types) -> list:
    """The filters every delivery list and count reads; ``types`` is the ``type`` parameter's schema."""
    return [
        query("status", enum(DELIVERY_STATUSES), "one status"),
        query("type", types, "one event type"),
        query("entity_id", integer(minimum=0), "one guest's or reservation's events"),
        query("guest_id", integer(minimum=0), "a guest's events and its reservations'"),
        query("since", string(format="date-time"), "created at or after (ISO 8601; Z or an offset, none is UTC)"),
        query("until", string(format="date-time"), "created before (ISO 8601)"),
        query(
            "id_prefix",
            string(pattern="^[0-9a-fA-F-]{1,36}$"),
            "ids starting with these characters (hex digits and dashes, any case)",
        ),
    ]


def document(base_path: str) -> dict:
    spec = Spec("Guestsync PMS API", DESCRIPTION, "1", base_path)
    shared.add_probes(spec, "pms")
    shared.add_sync(spec)
    shared.add_graphql(spec)
    _guests(spec)
    _reservations(spec)
    delivery = _deliveries(spec)
    _endpoints(spec, delivery)
    _operations(spec)
    return spec.document()


def _op(spec: Spec, method: str, path: str, **kwargs) -> None:
    """A PMS route: every one reads ``X-Operator`` (422 when malformed)."""
    spec.operation(method, path, params=[*kwargs.pop("params", ()), OPERATOR], **kwargs)


def _guests(spec: Spec) -> None:
    spec.tag(GUESTS, "Guests; each change writes one outbox event in the same transaction.")
    fields = {
        "email": string(format="email", maxLength=254),
        "name": string(minLength=1, maxLength=200),
        "phone": nullable(string(maxLength=32, description="international form, e.g. +14155550100")),
        "date_of_birth": nullable({**DATE, "description": "not in the future"}),
        "country": nullable(string(maxLength=64)),
    }
    guest = spec.schema(
        "Guest",
        obj(
            {
                "id": ID,
                **fields,
                "email": string(),
                "name": string(),
                "version": integer(minimum=1),
                "created_at": TIME,
                "updated_at": TIME,
            }
        ),
    )
    create = spec.schema(
        "GuestCreate", obj(fields, required=["email", "name"], description="unknown fields are ignored")
    )
    update = spec.schema(
        "GuestUpdate", obj(fields, required=[], description="a partial update: only the fields given change")
    )
    guest_id = id_param("guest_id", "guest")
    taken = error(409, "a guest with this email exists already")
    _op(
        spec,
        "get",
        "/guests",
        operation_id="listGuests",
        tag=GUESTS,
        summary="List guests, newest first",
        params=[*PAGING, query("email", string(), "exact email, case-insensitive")],
        responses={200: answer("one page", page(guest))},
    )
    _op(
        spec,
        "post",
        "/guests",
        operation_id="createGuest",
        tag=GUESTS,
        summary="Create a guest",
        body=create,
        responses={
            201: with_links(
                answer("created", data(guest)),
                ("getGuest", "updateGuest", "deleteGuest"),
                guest_id="$response.body#/data/id",
            ),
            409: taken,
        },
        examples={
            "guest": {
                "email": "ana@example.com",
                "name": "Ana Lima",
                "phone": "+351210000000",
                "date_of_birth": "1985-04-12",
                "country": "PT",
            }
        },
    )
    _op(
        spec,
        "get",
        "/guests/{guest_id}",
        operation_id="getGuest",
        tag=GUESTS,
        summary="One guest",
        params=[guest_id],
        responses={200: answer("the guest", data(guest)), 404: error(404)},
    )
    _op(
        spec,
        "put",
        "/guests/{guest_id}",
        operation_id="updateGuest",
        tag=GUESTS,
        summary="Update a guest (partial)",
        params=[guest_id],
        body=update,
        responses={200: answer("updated", data(guest)), 404: error(404), 409: taken},
    )
    _op(
        spec,
        "delete",
        "/guests/{guest_id}",
        operation_id="deleteGuest",
        tag=GUESTS,
        summary="Delete a guest and its reservations",
        description="Each reservation emits reservation.deleted before the guest.deleted.",
        params=[guest_id],
        responses={204: answer("deleted"), 404: error(404)},
    )


def _reservations(spec: Spec) -> None:
    spec.tag(RESERVATIONS, "Reservations of guests; each change writes one outbox event.")
    fields = {
        "guest_id": integer(minimum=1),
        "room_number": nullable(string(maxLength=16)),
        "room_type": nullable(string(maxLength=64)),
        "check_in": DATE,
        "check_out": {**DATE, "description": "after check_in"},
        "status": enum(RESERVATION_STATUSES, default="confirmed"),
        "total_amount": {"type": ["string", "number"], "description": "a decimal amount >= 0, 2 places"},
        "currency": string(pattern="^[A-Za-z]{3}$", default="USD"),
        "adults": integer(minimum=1, maximum=50, default=1),
        "children": integer(minimum=0, maximum=50, default=0),
        "notes": nullable(string(maxLength=2000)),
    }
    reservation = spec.schema(
        "Reservation",
        obj(
            {
                "id": ID,
                **fields,
                "status": enum(RESERVATION_STATUSES),
                "total_amount": MONEY,
                "currency": string(pattern="^[A-Z]{3}$"),
                "adults": integer(),
                "children": integer(),
                "version": integer(minimum=1),
                "created_at": TIME,
                "updated_at": TIME,
            }
        ),
    )
    create = spec.schema(
        "ReservationCreate",
        obj(fields, required=["guest_id", "check_in", "check_out"], description="unknown fields are ignored"),
    )
    update = spec.schema(
        "ReservationUpdate", obj(fields, required=[], description="a partial update: only the fields given change")
    )
    reservation_id = id_param("reservation_id", "reservation")
    _op(
        spec,
        "get",
        "/reservations",
        operation_id="listReservations",
        tag=RESERVATIONS,
        summary="List reservations, newest first",
        params=[
            *PAGING,
            query("guest_id", integer(minimum=0), "one guest's"),
            query("status", enum(RESERVATION_STATUSES), "one status"),
        ],
        responses={200: answer("one page", page(reservation))},
    )
    _op(
        spec,
        "post",
        "/reservations",
        operation_id="createReservation",
        tag=RESERVATIONS,
        summary="Create a reservation",
        body=create,
        responses={
            201: with_links(
                answer("created", data(reservation)),
                ("getReservation", "updateReservation", "deleteReservation"),
                reservation_id="$response.body#/data/id",
            )
        },
        examples={
            "reservation": {
                "guest_id": 1,
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
        },
    )
    _op(
        spec,
        "get",
        "/reservations/{reservation_id}",
        operation_id="getReservation",
        tag=RESERVATIONS,
        summary="One reservation",
        params=[reservation_id],
        responses={200: answer("the reservation", data(reservation)), 404: error(404)},
    )
    _op(
        spec,
        "put",
        "/reservations/{reservation_id}",
        operation_id="updateReservation",
        tag=RESERVATIONS,
        summary="Update a reservation (partial)",
        params=[reservation_id],
        body=update,
        responses={200: answer("updated", data(reservation)), 404: error(404)},
    )
    _op(
        spec,
        "delete",
        "/reservations/{reservation_id}",
        operation_id="deleteReservation",
        tag=RESERVATIONS,
        summary="Delete a reservation",
        params=[reservation_id],
        responses={204: answer("deleted"), 404: error(404)},
    )


# The headers of a delivery's request as the API shows them: the signature is one "v1,***" per
# secret valid at sending.
HEADERS_SENT = {
    "content-type": string(const="application/json"),
    "webhook-id": string(description="the event's UUID"),
    "webhook-timestamp": string(description="a placeholder: unix seconds at sending"),
    "webhook-signature": string(description='one masked "v1,***" per secret valid at sending, space-separated'),
}


def _deliveries(spec: Spec) -> dict:
    """Part one's delivery routes (endpoint 1); returns the schemas the endpoint routes reuse."""
    spec.tag(DELIVERIES, "Webhook deliveries to endpoint 1 (the CRM), their status and replay.")
    attempt = spec.schema(
        "Attempt",
        obj(
            {
                "attempt": integer(minimum=1),
                "started_at": TIME,
                "status_code": nullable(integer()),
                "duration_ms": nullable(integer()),
                "error": nullable(string()),
                "response_body": nullable(string(description="cut to 2 KiB")),
                "trigger": enum((SCHEDULED, REPLAY, TEST)),
                "replayed_by": nullable(string(description="the operator who asked for the replay or test")),
                "target_url": nullable(
                    string(
                        description="the URL the attempt was sent to, any password masked; "
                        "null for attempts recorded before it was kept"
                    )
                ),
                "request_headers": nullable(
                    {
                        **obj(HEADERS_SENT),
                        "description": (
                            "the headers the attempt sent, secrets masked (the timestamp and signatures are made at "
                            "sending and not kept); null for attempts recorded before it was kept"
                        ),
                    }
                ),
            }
        ),
    )
    summary_fields = {
        "id": string(description="the event's UUID, its webhook-id"),
        "seq": integer(minimum=1, description="the delivery's position; lists page by it"),
        "type": enum((*EVENT_TYPES, PING)),
        "status": enum(DELIVERY_STATUSES),
        "entity_id": integer(),
        "entity_version": integer(),
        "attempt_count": COUNT,
        "next_attempt_at": nullable(
            {**TIME, "description": "when it is (re)tried next; only while pending or delivering, else null"}
        ),
        "created_at": TIME,
        "delivered_at": nullable(TIME),
        "endpoint_id": integer(),
        "last_error": nullable(
            string(
                description="the error of the last failed attempt (connection, "
                "timeout, HTTP status); null once one succeeds"
            )
        ),
        "last_status_code": nullable(
            integer(description="the HTTP status the last attempt got; null before any attempt or when none answered")
        ),
    }
    summary = spec.schema("DeliverySummary", obj(summary_fields))
    destination = spec.schema(
        "DeliveryDestination",
        obj(
            {
                "endpoint_id": integer(),
                "endpoint_name": nullable(string(description="null once the endpoint was deleted")),
                "status": enum(DELIVERY_STATUSES),
                "attempt_count": COUNT,
                "last_status_code": summary_fields["last_status_code"],
                "last_error": summary_fields["last_error"],
                "next_attempt_at": summary_fields["next_attempt_at"],
                "delivered_at": nullable(TIME),
            },
            description="the same event's delivery to one endpoint",
        ),
    )
    request = spec.schema(
        "DeliveryRequest",
        obj(
            {
                "method": string(const="POST"),
                "url": nullable(
                    string(description="the endpoint's URL, any password masked; null once the endpoint was deleted")
                ),
                "headers": obj(HEADERS_SENT),
            },
            description="what each attempt of the delivery sends, secrets masked; the timestamp and the "
            "signatures (one per secret valid now) are made afresh at each attempt",
        ),
    )
    detail = spec.schema(
        "Delivery",
        obj(
            {
                **summary_fields,
                "payload": ANY_OBJECT,
                "attempts": array(attempt, description="oldest first"),
                "request": request,
                "destinations": array(
                    destination,
                    minItems=1,
                    description="the event's delivery to every endpoint it goes to, this "
                    "one included, in endpoint id order",
                ),
            }
        ),
    )
    count = spec.schema(
        "DeliveryCount",
        data(
            obj(
                {"count": COUNT},
                description=("how many deliveries the list with the same filters holds, over all its pages"),
            )
        ),
    )
    run = spec.schema(
        "SyncRun",
        obj(
            {
                "id": ID,
                "started_at": TIME,
                "finished_at": nullable(TIME),
                "kind": enum(KINDS),
                "compared": COUNT,
                "drifted": COUNT,
                "repaired": COUNT,
                "unrepairable": COUNT,
                "status": string(),
                "in_flight": COUNT,
                "dry_run": {"type": "boolean"},
                "trigger": string(),
                "requests": COUNT,
                "error": nullable(string()),
                "unrepairable_entities": array(ANY_OBJECT),
            }
        ),
    )
    worker = obj(
        {
            "worker_id": string(),
            "state": string(),
            "failure_count": COUNT,
            "opened_at": nullable(TIME),
            "updated_at": TIME,
        }
    )
    breaker = spec.schema(
        "Breaker",
        obj(
            {
                "state": enum(("closed", "open", "half_open")),
                "failure_count": COUNT,
                "opened_at": nullable(TIME),
                "workers": array(worker, description="the workers that reported in the last few seconds"),
            },
            description="the endpoint's circuit breaker: the worst of its live workers' (closed when none is live)",
        ),
    )
    status_fields = {
        "endpoint": string(description="the URL, any password masked"),
        "breaker": breaker,
        "outbox": obj({name: COUNT for name in OUTBOX_STATUSES}),
        "last_success_at": nullable(TIME),
        "last_failure_at": nullable(TIME),
    }
    status = spec.schema("DeliveryStatus", obj(status_fields))
    crm_status = spec.schema(
        "WebhookStatus", obj({**status_fields, "sync": obj({"last_run": nullable(run), "next_run_at": nullable(TIME)})})
    )
    transition = spec.schema(
        "BreakerTransition",
        obj({"id": ID, "worker_id": string(), "from": string(), "to": string(), "failure_count": COUNT, "at": TIME}),
    )
    replayed = spec.schema("Replayed", data(obj({"replayed": COUNT})))
    _op(
        spec,
        "get",
        "/guests/webhook/status",
        operation_id="getWebhookStatus",
        tag=DELIVERIES,
        summary="Delivery health of endpoint 1: breaker, counts, last success and failure, sync",
        responses={200: answer("the status", data(crm_status))},
    )
    _op(
        spec,
        "get",
        "/guests/webhook/transitions",
        operation_id="listBreakerTransitions",
        tag=DELIVERIES,
        summary="Breaker state changes of endpoint 1, newest first",
        params=PAGING,
        responses={200: answer("one page", page(transition))},
    )
    _op(
        spec,
        "get",
        "/webhooks/deliveries",
        operation_id="listDeliveries",
        tag=DELIVERIES,
        summary="Deliveries to endpoint 1, newest first",
        params=[*PAGING, *delivery_filters(enum(EVENT_TYPES))],
        responses={200: answer("one page", page(summary))},
    )
    _op(
        spec,
        "get",
        "/webhooks/deliveries/count",
        operation_id="countDeliveries",
        tag=DELIVERIES,
        summary="How many deliveries to endpoint 1 the list with these filters holds",
        description="What a bulk replay of that list would act on, shown before it does.",
        params=delivery_filters(enum(EVENT_TYPES)),
        responses={200: answer("the count", count)},
    )
    _op(
        spec,
        "post",
        "/webhooks/deliveries/replay",
        operation_id="replayFailedDeliveries",
        tag=DELIVERIES,
        summary="Queue every failed delivery to endpoint 1 again",
        responses={202: answer("queued", replayed)},
    )
    _op(
        spec,
        "post",
        "/webhooks/deliveries/{event_id}/replay",
        operation_id="replayDelivery",
        tag=DELIVERIES,
        summary="Queue one delivery to endpoint 1 again now, whatever its state",
        params=[EVENT_ID],
        responses={202: answer("queued", data(summary)), 404: error(404), 409: AMBIGUOUS},
    )
    _op(
        spec,
        "get",
        "/webhooks/deliveries/{event_id}",
        operation_id="getDelivery",
        tag=DELIVERIES,
        summary="One delivery to endpoint 1 with its payload, attempts, request and destinations",
        params=[EVENT_ID],
        responses={200: answer("the delivery", data(detail)), 404: error(404), 409: AMBIGUOUS},
    )
    return {
        "attempt": attempt,
        "summary": summary,
        "detail": detail,
        "status": status,
        "replayed": replayed,
        "count": count,
        "transition": transition,
        "breaker": breaker,
    }


def _endpoints(spec: Spec, delivery: dict) -> None:
    spec.tag(ENDPOINTS, "Webhook destinations, their policy, secrets, status and deliveries.")
    exponential = obj(
        {
            "exponential": obj(
                {
                    "initial_seconds": {"type": "number", "minimum": 0, "maximum": MAX_DELAY_SECONDS},
                    "factor": {"type": "number", "minimum": 1, "maximum": 100},
                    "max_seconds": {"type": "number", "minimum": 0, "maximum": MAX_DELAY_SECONDS},
                    "max_retries": integer(minimum=0, maximum=MAX_RETRIES),
                }
            )
        }
    )
    schedule = {
        "anyOf": [
            {"type": "null"},
            array(integer(minimum=0, maximum=MAX_DELAY_SECONDS), maxItems=MAX_RETRIES),
            exponential,
        ],
        "description": "seconds before each retry, an exponential policy, or null for the service default",
    }
    breaker_input = obj(
        {
            "failure_threshold": nullable(integer(minimum=1, maximum=1000)),
            "recovery_seconds": nullable({"type": "number", "minimum": 0, "maximum": 86400}),
        },
        required=[],
    )
    fields = {
        "name": string(pattern="^[a-z0-9-]{1,64}$"),
        "url": string(
            maxLength=MAX_URL, description="absolute http or https URL; link-local and denied networks are refused"
        ),
        "description": nullable(string(maxLength=1000)),
        "event_types": array(
            string(pattern="^[a-z0-9_.*-]{1,64}$"),
            maxItems=MAX_EVENT_TYPES,
            description="types or globs (guest.*, *.deleted); empty: every type",
        ),
        "retry_schedule": schedule,
        "timeout_seconds": nullable({"type": "number", "minimum": 0.1, "maximum": 300}),
        "rate_limit_per_second": nullable({"type": "number", "minimum": 0.01, "maximum": 100_000}),
        "max_in_flight": nullable(integer(minimum=1, maximum=1000)),
        "breaker": breaker_input,
    }
    secret = obj(
        {
            "id": ID,
            "prefix": string(description="the first 8 characters"),
            "created_at": TIME,
            "expires_at": nullable(TIME),
        }
    )
    shown = {
        "id": ID,
        "name": string(),
        "url": string(),
        "description": nullable(string()),
        "event_types": array(string()),
        "enabled": {"type": "boolean"},
        "disabled_reason": nullable(string()),
        "disabled_at": nullable(TIME),
        "retry_schedule": {"anyOf": [{"type": "null"}, array(integer()), exponential]},
        "timeout_seconds": {"type": "number"},
        "rate_limit_per_second": nullable({"type": "number"}),
        "max_in_flight": integer(),
        "breaker": obj({"failure_threshold": integer(), "recovery_seconds": {"type": "number"}}),
        "secrets": array(secret),
        "created_at": TIME,
        "updated_at": TIME,
    }
    endpoint = spec.schema("Endpoint", obj(shown))
    created = spec.schema(
        "EndpointCreated", obj({**shown, "secret": string(description="the signing secret, shown this once")})
    )
    create = spec.schema(
        "EndpointCreate",
        obj(
            {
                **fields,
                "enabled": {"type": "boolean", "default": True},
                "secret": string(minLength=1, maxLength=512, description="whsec_<base64>; generated when absent"),
            },
            required=["name", "url"],
        ),
    )
    update = spec.schema("EndpointUpdate", obj(fields, required=[]))
    taken = error(409, "an endpoint with this name exists already")
    _op(
        spec,
        "get",
        "/endpoints",
        operation_id="listEndpoints",
        tag=ENDPOINTS,
        summary="List endpoints in id order",
        params=PAGING,
        responses={200: answer("one page", page(endpoint))},
    )
    _op(
        spec,
        "post",
        "/endpoints",
        operation_id="createEndpoint",
        tag=ENDPOINTS,
        summary="Create an endpoint",
        body=create,
        responses={
            201: with_links(
                answer("created, with its secret", data(created)),
                (
                    "getEndpoint",
                    "updateEndpoint",
                    "deleteEndpoint",
                    "rotateEndpointSecret",
                    "enableEndpoint",
                    "disableEndpoint",
                    "getEndpointStatus",
                    "testEndpoint",
                    "listEndpointDeliveries",
                    "replayEndpointDeliveries",
                ),
                endpoint_id="$response.body#/data/id",
            ),
            409: taken,
        },
        examples={
            "endpoint": {
                "name": "warehouse",
                "url": "http://127.0.0.1:9/hooks",
                "event_types": ["reservation.*"],
                "retry_schedule": [5, 30, 120],
                "timeout_seconds": 5,
                "rate_limit_per_second": 50,
            }
        },
    )
    _health(spec, delivery["breaker"])
    _op(
        spec,
        "get",
        "/endpoints/{endpoint_id}",
        operation_id="getEndpoint",
        tag=ENDPOINTS,
        summary="One endpoint",
        params=[ENDPOINT_ID],
        responses={200: answer("the endpoint", data(endpoint)), 404: error(404)},
    )
    _op(
        spec,
        "put",
        "/endpoints/{endpoint_id}",
        operation_id="updateEndpoint",
        tag=ENDPOINTS,
        summary="Update an endpoint (partial)",
        params=[ENDPOINT_ID],
        body=update,
        responses={200: answer("updated", data(endpoint)), 404: error(404), 409: taken},
    )
    _op(
        spec,
        "delete",
        "/endpoints/{endpoint_id}",
        operation_id="deleteEndpoint",
        tag=ENDPOINTS,
        summary="Delete an endpoint (its pending deliveries are dropped, history kept)",
        params=[ENDPOINT_ID],
        responses={
            204: answer("deleted"),
            404: error(404),
            409: error(409, "endpoint 1 cannot be deleted (disable it instead)"),
        },
    )
    _op(
        spec,
        "post",
        "/endpoints/{endpoint_id}/secret/rotate",
        operation_id="rotateEndpointSecret",
        tag=ENDPOINTS,
        summary="A new signing secret; the old ones stay valid for overlap_seconds",
        params=[ENDPOINT_ID],
        body_required=False,
        body=obj({"overlap_seconds": integer(minimum=0, maximum=30 * 86400, default=86400)}, required=[]),
        responses={200: answer("the new secret, shown this once", data(obj({"secret": string()}))), 404: error(404)},
    )
    for action, text in (("enable", "Enable (sends what was held)"), ("disable", "Disable (new deliveries are held)")):
        _op(
            spec,
            "post",
            f"/endpoints/{{endpoint_id}}/{action}",
            operation_id=f"{action}Endpoint",
            tag=ENDPOINTS,
            summary=text,
            params=[ENDPOINT_ID],
            responses={200: answer("the endpoint", data(endpoint)), 404: error(404)},
        )
    _op(
        spec,
        "get",
        "/endpoints/{endpoint_id}/status",
        operation_id="getEndpointStatus",
        tag=ENDPOINTS,
        summary="Delivery health of one endpoint",
        params=[ENDPOINT_ID],
        responses={200: answer("the status", data(delivery["status"])), 404: error(404)},
    )
    _op(
        spec,
        "get",
        "/endpoints/{endpoint_id}/transitions",
        operation_id="listEndpointTransitions",
        tag=ENDPOINTS,
        summary="One endpoint's breaker state changes, newest first",
        params=[ENDPOINT_ID, *PAGING],
        responses={200: answer("one page", page(delivery["transition"])), 404: error(404)},
    )
    _op(
        spec,
        "post",
        "/endpoints/{endpoint_id}/test",
        operation_id="testEndpoint",
        tag=ENDPOINTS,
        summary="Send one endpoint.ping now; the answer is its one attempt",
        params=[ENDPOINT_ID],
        responses={
            200: answer("the attempt (its status_code and error say how it went)", data(delivery["attempt"])),
            404: error(404),
        },
    )
    _op(
        spec,
        "get",
        "/endpoints/{endpoint_id}/deliveries",
        operation_id="listEndpointDeliveries",
        tag=ENDPOINTS,
        summary="One endpoint's deliveries, newest first",
        params=[ENDPOINT_ID, *PAGING, *delivery_filters(string())],
        responses={200: answer("one page", page(delivery["summary"])), 404: error(404)},
    )
    _op(
        spec,
        "get",
        "/endpoints/{endpoint_id}/deliveries/count",
        operation_id="countEndpointDeliveries",
        tag=ENDPOINTS,
        summary="How many of one endpoint's deliveries the list with these filters holds",
        description="What a bulk replay of that list would act on, shown before it does.",
        params=[ENDPOINT_ID, *delivery_filters(string())],
        responses={200: answer("the count", delivery["count"]), 404: error(404)},
    )
    _op(
        spec,
        "post",
        "/endpoints/{endpoint_id}/deliveries/replay",
        operation_id="replayEndpointDeliveries",
        tag=ENDPOINTS,
        summary="Queue the failed deliveries again, or with since every one created since",
        params=[ENDPOINT_ID],
        body_required=False,
        body=obj({"since": string(format="date-time")}, required=[]),
        responses={202: answer("queued", delivery["replayed"]), 404: error(404)},
    )
    _op(
        spec,
        "post",
        "/endpoints/{endpoint_id}/deliveries/{event_id}/replay",
        operation_id="replayEndpointDelivery",
        tag=ENDPOINTS,
        summary="Queue one delivery again now",
        params=[ENDPOINT_ID, EVENT_ID],
        responses={202: answer("queued", data(delivery["summary"])), 404: error(404), 409: AMBIGUOUS},
    )
    _op(
        spec,
        "get",
        "/endpoints/{endpoint_id}/deliveries/{event_id}",
        operation_id="getEndpointDelivery",
        tag=ENDPOINTS,
        summary="One delivery with its payload, attempts, request and destinations",
        params=[ENDPOINT_ID, EVENT_ID],
        responses={200: answer("the delivery", data(delivery["detail"])), 404: error(404), 409: AMBIGUOUS},
    )


def _health(spec: Spec, breaker: dict) -> None:
    """``GET /endpoints/health`` (a page of endpoints) and ``GET /endpoints/activity`` (every
    endpoint's last hour, minute by minute): what an operator and the dashboard look at first."""

    def percentile(p: str) -> dict:
        return nullable(
            integer(
                description=f"the {p} of the attempts' durations in milliseconds (nearest rank); null without attempts"
            )
        )

    last_hour = spec.schema(
        "AttemptsLastHour",
        obj(
            {
                "attempts": COUNT,
                "succeeded": COUNT,
                "failed": COUNT,
                "success_rate": nullable(
                    {
                        "type": "number",
                        "minimum": 0,
                        "maximum": 1,
                        "description": "succeeded / attempts, 4 places; null without attempts",
                    }
                ),
                "p50_ms": percentile("median"),
                "p95_ms": percentile("95th percentile"),
            },
            description="the attempts that started in the last hour; one succeeded when it got a 2xx answer "
            "(in the activity, also recorded no error)",
        ),
    )
    waiting = {
        "oldest_pending_at": nullable(
            {**TIME, "description": "when the oldest pending or in-flight delivery was created"}
        ),
        "oldest_pending_age_seconds": nullable(
            {"type": "number", "minimum": 0, "description": "how long ago that was"}
        ),
    }
    fields = {
        "endpoint_id": ID,
        "name": string(),
        "enabled": {"type": "boolean"},
        "disabled_reason": nullable(string()),
        "breaker": breaker,
        "deliveries": obj(
            {name: COUNT for name in (PENDING, DELIVERING, HELD, FAILED)},
            description="the deliveries not delivered yet, by status",
        ),
        **waiting,
        "last_hour": last_hour,
        "last_success_at": nullable(TIME),
        "last_failure_at": nullable(TIME),
    }
    health = spec.schema("EndpointHealth", obj(fields))
    minute = obj(
        {
            "at": {**TIME, "description": "the minute's start"},
            "delivered": COUNT,
            "failed": COUNT,
            "p50_ms": percentile("median"),
            "p95_ms": percentile("95th percentile"),
        },
        description="the attempts that started in one minute",
    )
    minutes = array(
        minute,
        minItems=WINDOW_MINUTES,
        maxItems=WINDOW_MINUTES,
        description="the last hour minute by minute, oldest first, ending with the current (partial) minute",
    )
    activity = spec.schema(
        "EndpointsActivity",
        obj(
            {
                "generated_at": TIME,
                "overall": obj(
                    {**waiting, "last_hour": last_hour, "minutes": minutes},
                    description="every endpoint together (percentiles over every attempt)",
                ),
                "endpoints": array(
                    obj({**fields, "minutes": minutes}),
                    maxItems=MAX_ENDPOINTS,
                    description=f"in id order, the first {MAX_ENDPOINTS}",
                ),
            }
        ),
    )
    _op(
        spec,
        "get",
        "/endpoints/health",
        operation_id="listEndpointsHealth",
        tag=ENDPOINTS,
        summary="Every endpoint's health at a glance, in id order",
        description=(
            "Its breaker, the deliveries waiting or failed, how old the oldest waiting one is, "
            "and the last hour's attempts: counts exact, percentiles over the newest "
            f"{LATENCY_SAMPLE} of them."
        ),
        params=PAGING,
        responses={200: answer("one page", page(health))},
    )
    _op(
        spec,
        "get",
        "/endpoints/activity",
        operation_id="getEndpointsActivity",
        tag=ENDPOINTS,
        summary="Every endpoint's last hour, minute by minute (what the dashboard's overview polls)",
        responses={200: answer("the activity", data(activity))},
    )


def _operations(spec: Spec) -> None:
    spec.tag(OPS, "Notifications, the operator audit log and reconciliation runs.")
    notification = spec.schema(
        "Notification",
        obj(
            {
                "id": ID,
                "type": enum(NOTIFICATION_TYPES),
                "endpoint_id": nullable(integer()),
                "data": ANY_OBJECT,
                "created_at": TIME,
            }
        ),
    )
    entry = spec.schema(
        "AuditEntry",
        obj(
            {
                "id": ID,
                "operator": nullable(string()),
                "action": enum(ACTIONS),
                "target": nullable(string()),
                "at": TIME,
                "details": ANY_OBJECT,
                "request_id": nullable(string()),
            }
        ),
    )
    _op(
        spec,
        "get",
        "/notifications",
        operation_id="listNotifications",
        tag=OPS,
        summary="Operational events, newest first",
        params=[*PAGING, query("type", enum(NOTIFICATION_TYPES), "one type")],
        responses={200: answer("one page", page(notification))},
    )
    _op(
        spec,
        "get",
        "/audit",
        operation_id="listAudit",
        tag=OPS,
        summary="Operator actions, newest first",
        params=[
            *PAGING,
            query("operator", string(pattern=f"^{OPERATOR_NAME.pattern}$"), "one operator"),
            query("action", enum(ACTIONS), "one action"),
        ],
        responses={200: answer("one page", page(entry))},
    )
    _op(
        spec,
        "get",
        "/sync/runs",
        operation_id="listSyncRuns",
        tag=OPS,
        summary="Reconciliation runs, newest first",
        params=[*PAGING, query("kind", enum(KINDS), "one kind")],
        responses={200: answer("one page", page(ref("SyncRun")))},
    )
