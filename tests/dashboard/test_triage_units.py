"""The small pieces of logic behind the triage pages: durations as ops read them, the endpoint
form as the API wants it, notifications in words, filter values from forms."""

from __future__ import annotations

import pytest

from dashboard.clients import ServiceRejected
from dashboard.handlers.base import rejection_text
from dashboard.handlers.deliveries import delivery_link, endpoint_of, pms_params
from dashboard.handlers.endpoints import endpoint_values, number_or_text
from dashboard.notices import describe
from dashboard.views import age_text


@pytest.mark.parametrize(
    "seconds, shown",
    [
        (0, "0 s"),
        (59.9, "59 s"),
        (61, "1 min"),
        (3 * 3600 + 20 * 60, "3 h 20 min"),
        (2 * 86400 + 4 * 3600 + 5, "2 d 4 h"),
        (None, "–"),
        ("12", "–"),
        (True, "–"),
    ],
)
def test_durations_from_the_services_read_as_ops_read_them(seconds, shown):
    assert age_text(seconds) == shown


def test_the_endpoint_form_becomes_the_apis_body():
    form = {
        "name": " loyalty ",
        "url": "https://l.example/in",
        "description": "",
        "event_types": "guest.*, *.deleted  x",
        "timeout_seconds": "4",
        "rate_limit_per_second": "2.5",
        "enabled": "1",
    }
    assert endpoint_values(form, creating=True) == {
        "name": "loyalty",
        "url": "https://l.example/in",
        "description": None,
        "event_types": ["guest.*", "*.deleted", "x"],
        "timeout_seconds": 4,
        "rate_limit_per_second": 2.5,
        "enabled": True,
    }
    # an edit: the masked URL left as shown is not sent; empty numbers go back to the defaults
    edit = {
        **form,
        "url": "https://u:***@l.example/in",
        "url_shown": "https://u:***@l.example/in",
        "timeout_seconds": "",
        "rate_limit_per_second": "",
    }
    values = endpoint_values(edit, creating=False)
    assert "url" not in values and "enabled" not in values
    assert values["timeout_seconds"] is None and values["rate_limit_per_second"] is None
    assert endpoint_values({**edit, "url": "https://new.example/"}, creating=False)["url"] == "https://new.example/"
    assert number_or_text("soon") == "soon" and number_or_text("1e1") == 10


def test_filters_and_links():
    assert endpoint_of(None) == endpoint_of("") == endpoint_of("x") == endpoint_of("0") == 1
    assert endpoint_of("7") == 7 and endpoint_of("9" * 19) == 1
    assert pms_params({"id": "abcd", "status": "failed", "endpoint": "2"}) == {"id_prefix": "abcd", "status": "failed"}
    assert delivery_link("a/b", 1) == "/deliveries/a%2Fb" and delivery_link("x", 3) == "/deliveries/x?endpoint=3"


def test_a_refusal_names_its_fields():
    exc = ServiceRejected(
        "PMS", "the request is not valid", 422, [{"field": "guest_id", "message": "must be a non-negative integer"}]
    )
    assert rejection_text(exc) == "the request is not valid (guest_id must be a non-negative integer)"
    assert rejection_text(ServiceRejected("PMS", "nope", 400)) == "nope"


def test_notifications_in_words():
    assert describe({"type": "endpoint.disabled", "endpoint_id": 3, "data": {"reason": "gone"}}) == {
        "level": "bad",
        "title": "Disabled: endpoint 3",
        "text": "Its deliveries are held: it answered 410 Gone.",
        "link": "/endpoints/3",
    }
    failed = describe(
        {
            "type": "delivery.failed",
            "endpoint_id": 1,
            "data": {"event_id": "0d9c2f7e-1111", "type": "guest.updated", "last_error": "HTTP 500"},
        }
    )
    assert failed["link"] == "/deliveries/0d9c2f7e-1111" and failed["text"].startswith(
        "guest.updated 0d9c2f7e (HTTP 500)"
    )
    drift = describe(
        {"type": "sync.drift", "endpoint_id": None, "data": {"drifted": 4, "repaired": 3, "unrepairable": 1}}
    )
    assert drift["link"] is None and drift["text"] == "4 out of step with the CRM, 3 repaired, 1 unrepairable."
    assert describe({"type": "something.new", "endpoint_id": None, "data": None})["title"] == "something.new"
