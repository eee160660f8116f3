"""Property tests (Hypothesis): no query string, cursor, path id or JSON body makes any route of
either API answer 5xx, and every answer is strict JSON with the documented error shape.

Routes, their path arguments, their methods and the query arguments they read are derived from
the applications themselves (the router's rules and the handlers' source), and JSON field names
from the services' models, so a route, argument or field added later is fuzzed without editing
this file. Runs are derandomised and bounded: the same examples every run, within a minute for
both services on both backends. Beside the random search, a sweep puts each value of a list of
hostile values into each field of every write, since one exact value in one exact field (an
amount of "1e999999999999999999") is what random search is worst at finding.
"""

from __future__ import annotations

import base64
import functools
import inspect
import itertools
import json
import re
import uuid
from dataclasses import dataclass
from urllib.parse import quote, quote_from_bytes

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tornado.web import RequestHandler

import core.pagination
from core.contract import EVENT_TYPES, MAX_ID
from tests.crm_app.webhook_factory import envelope, guest, reservation, signed_request
from tests.support.http import call
from tests.support.services import API, SERVICES

METHODS = ("GET", "POST", "PUT", "DELETE")
_FUZZ = settings(
    derandomize=True,
    database=None,
    deadline=None,
    print_blob=False,
    # One server and database per test, shared by its examples on purpose.
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.filter_too_much,
    ],
)


def fuzz(examples: int) -> settings:
    """The same examples every run (derandomised), bounded, stored nowhere."""
    return settings(_FUZZ, max_examples=examples)


# --- what the applications tell us about themselves ------------------------------------------


@dataclass(frozen=True)
class Route:
    pattern: str  # the router's regex, e.g. /api/v1/guests/([0-9]+)
    handler: type
    methods: tuple[str, ...]  # the ones the handler implements

    @property
    def groups(self) -> int:
        return re.compile(self.pattern).groups

    def path(self, segments: list[str]) -> str:
        parts = iter(segments)
        return re.sub(r"\([^)]*\)", lambda _m: next(parts), self.pattern)


def routes_of(app) -> list[Route]:
    routes = []
    for rule in app.wildcard_router.rules:
        handler = rule.target
        methods = tuple(m for m in METHODS if getattr(handler, m.lower()) is not getattr(RequestHandler, m.lower()))
        routes.append(Route(rule.matcher.regex.pattern.rstrip("$"), handler, methods))
    return routes


_ARGUMENT_READ = re.compile(r"""(?:get_argument|int_argument|choice_argument)\(\s*["'](\w+)["']""")


def query_names(app) -> list[str]:
    """Every query argument a handler of ``app`` (or the shared paging) reads by name."""
    return _query_names(tuple(route.handler for route in routes_of(app)))


@functools.cache
def _query_names(handlers: tuple[type, ...]) -> list[str]:
    sources = [inspect.getsource(core.pagination)]
    for handler in handlers:
        sources += [
            inspect.getsource(cls)
            for cls in handler.__mro__
            if cls.__module__.split(".")[0] in ("core", "pms_app", "crm_app")
        ]
    return sorted({name for source in sources for name in _ARGUMENT_READ.findall(source)})


def body_fields(service: str) -> list[str]:
    """The field names a body of ``service`` can carry: its models' fields and columns."""
    if service == "pms":
        from pms_app.models import Guest, Reservation

        models = (Guest, Reservation)
    else:
        from crm_app.models import Event, GuestProfile, ReservationMirror

        models = (Event, GuestProfile, ReservationMirror)
    names = {n for m in models for f in m._meta.sorted_fields for n in (f.name, f.column_name)}
    return sorted(names | {"type", "timestamp", "idempotency_key", "payload"})


# --- values -------------------------------------------------------------------------------------

HUGE_INTS = st.sampled_from([MAX_ID, MAX_ID + 1, 2**64, -(2**63) - 1, 10**30, -(10**30), 2**31, -1, 0])
INTS = st.one_of(HUGE_INTS, st.integers(), st.integers(min_value=-(10**40), max_value=10**40))
TEXT = st.one_of(
    st.text(max_size=30),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=300),
    st.sampled_from(
        ["", " ", "\x00", "null", "<script>", "'; DROP TABLE guest;--", "é" * 300, "😀" * 70, "%", "../..", "\u202e"]
    ),
)
NUMBER_TEXT = st.one_of(
    INTS.map(str),
    st.sampled_from(["1e999", "-0", "0x10", "1.5", " 7 ", "٣", "+5", "9" * 40, "00000000000000000000001"]),
)


def cursor_text(direction: str, n: int | str, padded: bool) -> str:
    raw = base64.urlsafe_b64encode(f"{direction}:{n}".encode()).decode()
    return raw if padded else raw.rstrip("=")


# Mostly well-formed cursors (the API's own encoding) around and past the 64-bit edge.
CURSORS = st.one_of(
    st.builds(cursor_text, st.sampled_from(["a", "d"]), INTS, st.booleans()),
    st.builds(cursor_text, st.sampled_from(["a", "d", "x", ""]), NUMBER_TEXT, st.booleans()),
    st.binary(max_size=40).map(lambda b: base64.urlsafe_b64encode(b).decode()),
    TEXT,
)
NOT_UTF8 = st.binary(min_size=1, max_size=8).map(quote_from_bytes)  # sent percent-encoded as is
QUERY_VALUES = st.one_of(NUMBER_TEXT, CURSORS, TEXT, st.sampled_from(EVENT_TYPES), NOT_UTF8)


def _encode_query(pairs: list[tuple[str, str]]) -> str:
    def value(v: str) -> str:
        return v if re.fullmatch(r"(%[0-9A-F]{2})+", v) else quote(v, safe="")

    return "&".join(f"{quote(k, safe='')}={value(v)}" for k, v in pairs)


def query_strings(names: list[str]) -> st.SearchStrategy[str]:
    """A few of the arguments the routes read (a cursor-shaped value for ``cursor``), at times
    repeated or with an unknown one: few at once, or the first bad one hides the others."""

    def values_for(chosen: list[str]) -> st.SearchStrategy[list[tuple[str, str]]]:
        return st.tuples(*[st.tuples(st.just(n), CURSORS if n == "cursor" else QUERY_VALUES) for n in chosen]).map(list)

    known = st.lists(st.sampled_from(names), max_size=3).flatmap(values_for)
    unknown = st.lists(st.tuples(st.text(min_size=1, max_size=10), QUERY_VALUES), max_size=1)
    return st.builds(lambda k, u: _encode_query(k + u), known, unknown)


SEGMENTS = st.one_of(
    INTS.map(str),
    NUMBER_TEXT,
    st.uuids().map(str),
    st.just("1"),
    st.sampled_from(["9" * 5000, "0" * 30 + "1", "1" + "0" * 4400]),
    TEXT.filter(bool).map(lambda t: quote(t, safe="")),
)

DATES = st.one_of(
    st.dates().map(str),
    st.sampled_from(
        ["0000-00-00", "2027-02-30", "9999-12-31", "0001-01-01", "2027-3-1", "20270301", "2027-03-01T00:00:00Z"]
    ),
)
DECIMALS = st.one_of(
    st.decimals(allow_nan=False, allow_infinity=False).map(str),
    st.sampled_from(
        [
            "1e999999999",
            "1e999999999999999999",
            "0e999999999999999999",
            "-0.00",
            "1e-999999999",
            "99999999999.99",
            "NaN",
            "sNaN",
            "Infinity",
            "0.001",
            " 1 ",
        ]
    ),
)
JSON_SCALARS = st.one_of(
    st.none(), st.booleans(), INTS, TEXT, DATES, DECIMALS, st.floats(allow_nan=False, allow_infinity=False)
)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)),
    max_leaves=10,
)


# Values at the edge of some type, column or parser: each is hostile to some field.
HOSTILE_VALUES = [
    None,
    True,
    "",
    " ",
    "\x00",
    0,
    -1,
    2**31,
    MAX_ID,
    MAX_ID + 1,
    2**64,
    -(2**63) - 1,
    10**30,
    -(10**30),
    1e308,
    -1e308,
    5e-324,
    0.1,
    "1e999999999999999999",
    "-1e999999999999999999",
    "0e999999999999999999",
    "1e-999999999",
    "-0.00",
    "NaN",
    "Infinity",
    "9" * 40,
    "0000-00-00",
    "0001-01-01",
    "9999-12-31",
    "2027-02-30",
    "İ" * 200 + "@example.com",
    "a@" + "b" * 250 + ".co",
    "é" * 300,
    "😀" * 70,
    "<script>alert(1)</script>",
    "ﬃ",
    [],
    {},
    [1],
    {"a": 1},
]


def valid_body(pattern: str) -> dict:
    """A body the PMS route accepts as it is (an empty one for routes that read none)."""
    if "reservations" in pattern:
        return {
            "guest_id": 1,
            "check_in": "2027-03-01",
            "check_out": "2027-03-04",
            "room_number": "101",
            "room_type": "double",
            "status": "confirmed",
            "total_amount": "240.00",
            "currency": "USD",
            "adults": 2,
            "children": 0,
            "notes": "late arrival",
        }
    if "guests" in pattern:
        return {
            "email": f"fuzz-{uuid.uuid4()}@example.com",
            "name": "Fuzz",
            "phone": "+14155550100",
            "date_of_birth": "1980-02-03",
            "country": "PT",
        }
    return {}


def bodies(base: st.SearchStrategy[dict], fields: list[str]) -> st.SearchStrategy[dict]:
    """A plausible body with a few fields (its own, mostly) replaced by hostile values or by
    anything at all (wrong types, nesting)."""

    def mutate(body: dict) -> st.SearchStrategy[dict]:
        field = st.one_of(st.sampled_from(sorted(body) or fields), st.sampled_from(fields))
        hostile = st.dictionaries(field, st.sampled_from(HOSTILE_VALUES), max_size=3)
        anything = st.dictionaries(field, JSON_VALUES, max_size=2)
        return st.builds(lambda h, a: {**body, **h, **a}, hostile, anything)

    return base.flatmap(mutate)


# --- requests -----------------------------------------------------------------------------------


def send(io_loop, http_client, base_url, method, path, body=None, headers=None):
    return io_loop.run_sync(
        lambda: call(http_client, base_url, method, path, raw=body, headers=headers or {}), timeout=30
    )


def assert_well_formed(response, what) -> None:
    """Never a 5xx; JSON answers are strict JSON; errors have the documented shape."""
    assert response.code < 500, (what, response.code, response.body[:500])
    if response.headers.get("Content-Type", "").startswith("application/json"):
        data = json.loads(response.body, parse_constant=lambda name: pytest.fail(f"{what}: {name} served"))
        if response.code >= 400 and "errors" in data:  # the GraphQL route: the GraphQL spec's shape
            assert data["errors"] and all(
                set(e) >= {"message", "path", "extensions"} and e["extensions"]["code"] for e in data["errors"]
            ), (what, data)
        elif response.code >= 400:
            assert set(data["error"]) == {"code", "message", "details", "request_id"}, (what, data)


@pytest.fixture
def seeded(io_loop, http_client, base_url, api_service):
    """One guest with one reservation (PMS) or one profile with one event (CRM), so ids 1 exist."""
    if api_service.name == "pms":
        for path, body in (
            (f"{API}/guests", {"email": "seed@example.com", "name": "Seed"}),
            (f"{API}/reservations", {"guest_id": 1, "check_in": "2027-03-01", "check_out": "2027-03-04"}),
        ):
            response = send(
                io_loop,
                http_client,
                base_url,
                "POST",
                path,
                json.dumps(body).encode(),
                {"Content-Type": "application/json"},
            )
            assert response.code == 201, response.body
    else:
        webhook_id, body = envelope("guest.created", guest(1))
        raw = json.dumps(body).encode()
        response = send(
            io_loop, http_client, base_url, "POST", f"{API}/webhooks/pms", raw, signed_request(raw, webhook_id)
        )
        assert response.code == 202, response.body
    return api_service


# --- the properties -----------------------------------------------------------------------------


@fuzz(150)
@given(data=st.data())
def test_no_query_string_makes_a_route_answer_5xx(io_loop, http_client, base_url, app, seeded, data):
    routes = [r for r in routes_of(app) if "GET" in r.methods]
    route = data.draw(st.sampled_from(routes), "route")
    path = route.path(data.draw(st.lists(SEGMENTS, min_size=route.groups, max_size=route.groups)))
    query = data.draw(query_strings(query_names(app)), "query")
    response = send(io_loop, http_client, base_url, "GET", f"{path}?{query}")
    assert_well_formed(response, f"GET {path}?{query}")


@fuzz(150)
@given(data=st.data())
def test_no_path_id_or_method_makes_a_route_answer_5xx(io_loop, http_client, base_url, app, seeded, data):
    route = data.draw(st.sampled_from(routes_of(app)), "route")
    method = data.draw(st.sampled_from(METHODS), "method")
    path = route.path(data.draw(st.lists(SEGMENTS, min_size=route.groups, max_size=route.groups), "ids"))
    body = None
    if method in ("POST", "PUT"):
        body = json.dumps(data.draw(bodies(st.just({}), body_fields(seeded.name)), "body")).encode()
    response = send(io_loop, http_client, base_url, method, path, body, {"Content-Type": "application/json"})
    assert_well_formed(response, f"{method} {path}")


@fuzz(200)
@given(data=st.data())
def test_no_json_body_makes_a_write_answer_5xx(io_loop, http_client, base_url, app, seeded, data):
    routes = [(r, m) for r in routes_of(app) for m in r.methods if m in ("POST", "PUT")]
    route, method = data.draw(st.sampled_from(routes), "route")
    path = route.path(
        data.draw(st.lists(st.one_of(st.just("1"), SEGMENTS), min_size=route.groups, max_size=route.groups), "ids")
    )
    kind = data.draw(st.sampled_from(["object", "object", "object", "any", "bytes"]), "kind")
    if kind == "object":
        base = st.builds(valid_body, st.just(route.pattern))
        raw = json.dumps(data.draw(bodies(base, body_fields(seeded.name)), "body")).encode()
    elif kind == "any":
        raw = json.dumps(data.draw(JSON_VALUES, "body")).encode()
    else:
        raw = data.draw(
            st.one_of(
                st.binary(max_size=64),
                st.sampled_from(
                    [
                        b'{"a": 1e999}',
                        b'{"adults": -1e999}',
                        b'{"a": NaN}',
                        b"[" * 5000,
                        b'{"guest_id": ' + b"9" * 5000 + b"}",
                        b'{"name": "\\ud800"}',
                        b"\xff",
                        b"{}",
                    ]
                ),
            ),
            "raw",
        )
    response = send(io_loop, http_client, base_url, method, path, raw, {"Content-Type": "application/json"})
    assert_well_formed(response, f"{method} {path} {raw[:300]!r}")


def webhook_payloads() -> st.SearchStrategy[dict]:
    payload_fields = sorted(set(guest(1)) | set(reservation(1, 1)) | {"deleted_at"})
    base = st.one_of(
        st.just(guest(1)),
        st.just(reservation(1, 1)),
        st.just({"id": 1, "version": 9, "deleted_at": "2026-01-02T10:00:00.000Z", "guest_id": 1}),
    )
    return bodies(base, payload_fields)


@pytest.mark.parametrize("api_service", [SERVICES["crm"]], ids=["crm"])
@fuzz(200)
@given(data=st.data())
def test_no_signed_webhook_makes_the_receiver_answer_5xx(io_loop, http_client, base_url, app, seeded, data):
    event_type = data.draw(st.one_of(st.sampled_from(EVENT_TYPES), TEXT), "type")
    webhook_id = data.draw(
        st.one_of(
            st.uuids().map(str),
            st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126), min_size=1, max_size=300),
        ),
        "webhook-id",
    )
    _, body = envelope(event_type, data.draw(webhook_payloads(), "payload"), webhook_id)
    body.update(
        data.draw(
            st.dictionaries(
                st.sampled_from(["type", "timestamp", "idempotency_key", "payload"]), JSON_VALUES, max_size=2
            ),
            "envelope changes",
        )
    )
    raw = json.dumps(body).encode()
    response = send(io_loop, http_client, base_url, "POST", f"{API}/webhooks/pms", raw, signed_request(raw, webhook_id))
    assert_well_formed(response, f"webhook {raw[:400]!r}")


# --- a systematic sweep beside the random search ----------------------------------------------


def hostile_requests(app, service: str):
    """Every write of ``service`` with each field of a valid body (and the webhook envelope)
    replaced, in turn, by each hostile value: (method, path, raw body, headers)."""
    if service == "pms":
        for route in routes_of(app):
            for method in route.methods:
                if method not in ("POST", "PUT"):
                    continue
                path = route.path(["1"] * route.groups)
                for field in sorted(valid_body(route.pattern)):
                    for value in HOSTILE_VALUES:
                        body = {**valid_body(route.pattern), field: value}
                        yield method, path, json.dumps(body).encode(), {"Content-Type": "application/json"}
        return
    payloads = {
        "guest.created": guest(2),
        "reservation.created": reservation(2, 1),
        "reservation.deleted": {"id": 2, "version": 9, "deleted_at": "2026-01-02T10:00:00.000Z", "guest_id": 1},
    }
    # A new entity (and guest) each time: no value is merely "stale", and no profile's stats
    # grow with every request.
    fresh_ids = itertools.count(100)
    for event_type, payload in payloads.items():
        for field in sorted(payload):
            for value in HOSTILE_VALUES:
                fresh = next(fresh_ids)
                ids = {"id": fresh, "guest_id": fresh} if "guest_id" in payload else {"id": fresh}
                webhook_id, body = envelope(event_type, {**payload, **ids, field: value})
                raw = json.dumps(body).encode()
                yield "POST", f"{API}/webhooks/pms", raw, signed_request(raw, webhook_id)
    for field in ("type", "timestamp", "idempotency_key", "payload"):
        for value in HOSTILE_VALUES:
            webhook_id, body = envelope("guest.created", guest(3))
            body[field] = value
            raw = json.dumps(body).encode()
            yield "POST", f"{API}/webhooks/pms", raw, signed_request(raw, webhook_id)


def test_no_hostile_value_in_any_field_makes_a_write_answer_5xx(io_loop, http_client, base_url, app, seeded):
    async def sweep() -> list[str]:
        failures, sent = [], 0
        for method, path, raw, headers in hostile_requests(app, seeded.name):
            response = await call(http_client, base_url, method, path, raw=raw, headers=headers)
            sent += 1
            try:
                assert_well_formed(response, f"{method} {path} {raw[:200]!r}")
            except AssertionError as exc:
                failures.append(str(exc)[:400])
        assert sent > 400, sent
        return failures

    assert io_loop.run_sync(sweep, timeout=240) == []
