"""``python -m pms_app endpoints list|add|disable|enable|rotate-secret`` on SQLite and MariaDB: the
API's checks and JSON shapes, secrets shown once, exit statuses and the audit log."""

from __future__ import annotations

import pytest

from core.db import utcnow
from core.pagination import PageRequest
from pms_app.config import PmsSettings
from pms_app.endpoints import secrets
from pms_app.endpoints.models import Endpoint
from pms_app.models import HELD, PENDING, AuditEntry
from pms_app.services import audit, endpoints
from tests.support.cli import Cli
from tests.support.delivery import add_event, statuses
from tests.support.endpoints import ENDPOINT_KEYS, add_endpoint


@pytest.fixture
def cli(pms_db, monkeypatch, capsys) -> Cli:
    return Cli(pms_db, monkeypatch, capsys)


def audit_rows(store) -> list[tuple]:
    return store.call(
        lambda: [(e.operator, e.action, e.target, e.details) for e in AuditEntry.select().order_by(AuditEntry.id)]
    )


def test_list_is_the_api_list(pms_db, cli):
    add_endpoint(
        pms_db.store, "billing", "https://user:pw@billing.example/hook", event_types=["guest.*"], enabled=False
    )
    listed = cli("endpoints", "list", "--json")
    assert listed.status == 0, listed.err
    assert [e["name"] for e in listed.json["data"]] == ["crm", "billing"]
    assert set(listed.json["data"][0]) == ENDPOINT_KEYS
    assert listed.json["next_cursor"] is None
    assert all("secret" not in e for e in listed.json["data"])
    expected, _ = pms_db.store.call(endpoints.list_endpoints, PmsSettings(), PageRequest(500))
    assert listed.json["data"] == expected

    table = cli("endpoints", "list").out.splitlines()
    assert table[0].split() == ["id", "name", "state", "event_types", "secrets", "url"]
    assert table[2].split() == [
        "2",
        "billing",
        "disabled",
        "(manual)",
        "guest.*",
        "1",
        "https://user:***@billing.example/hook",
    ]


def test_add_prints_the_secret_once_and_records_it(pms_db, cli):
    added = cli(
        "endpoints",
        "add",
        "billing",
        "https://billing.example/hook",
        "--event-type",
        "guest.*",
        "--event-type",
        "*.deleted",
        "--timeout-seconds",
        "5",
        "--retry-schedule",
        "5,30",
        "--breaker-failure-threshold",
        "3",
        "--description",
        "Billing",
        "--operator",
        "alice",
        "--json",
    )
    assert added.status == 0, added.err
    data = added.json["data"]
    assert set(data) == ENDPOINT_KEYS | {"secret"}
    assert data["secret"].startswith("whsec_")
    assert (
        data["event_types"],
        data["timeout_seconds"],
        data["retry_schedule"],
        data["breaker"]["failure_threshold"],
        data["description"],
    ) == (["guest.*", "*.deleted"], 5.0, [5, 30], 3, "Billing")
    assert [s["prefix"] for s in data["secrets"]] == [data["secret"][:8]]
    stored = pms_db.store.call(lambda: [s.secret for s in secrets.valid(data["id"])])
    assert stored == [data["secret"]]
    assert audit_rows(pms_db.store) == [("alice", audit.ENDPOINT_CREATE, str(data["id"]), {"name": "billing"})]
    # Never again: the list shows its prefix only.
    assert data["secret"] not in cli("endpoints", "list", "--json").out

    table = cli(
        "endpoints",
        "add",
        "crm-2",
        "https://crm2.example/hook",
        "--secret",
        "whsec_" + "A" * 44,
        "--disabled",
        "--operator",
        "alice",
    )
    assert table.status == 0, table.err
    lines = table.out.splitlines()
    assert lines[0].split() == ["id:", "3"]
    assert "state:                 disabled (manual)" in lines
    assert lines[-2] == "secret: whsec_" + "A" * 44
    assert "shown this once" in lines[-1]


@pytest.mark.parametrize(
    "argv, message",
    [
        (["Bad_Name", "https://a.example"], "name: must be 1 to 64 of a-z, 0-9 and -"),
        (["ok", "ftp://a.example"], "url: must be an absolute http or https URL"),
        (["ok", "http://169.254.169.254/latest"], "url: refused: 169.254.169.254 is a link-local address"),
        (["ok", "https://a.example", "--timeout-seconds", "500"], "--timeout-seconds: must be between 0.1 and 300"),
        (
            ["ok", "https://a.example", "--breaker-failure-threshold", "0"],
            "--breaker-failure-threshold: must be at least 1",
        ),
        (["ok", "https://a.example", "--secret", "short"], "--secret: must be 8 to 512 characters"),
        (["ok", "https://a.example", "--event-type", "bad type"], "--event-type: each entry must be a type or glob"),
        (["ok", "https://a.example", "--retry-schedule", "5,x"], "argument --retry-schedule: must be whole seconds"),
        (["ok"], "the following arguments are required: url"),
    ],
)
def test_add_refuses_what_the_api_refuses_with_status_2(pms_db, cli, argv, message):
    outcome = cli("endpoints", "add", *argv, "--operator", "alice")
    assert outcome.status == 2
    assert message in outcome.err
    assert "Traceback" not in outcome.err
    assert outcome.out == ""
    assert pms_db.store.call(lambda: Endpoint.select().count()) == 1
    assert audit_rows(pms_db.store) == []


def test_add_of_a_taken_name_is_a_conflict(pms_db, cli):
    outcome = cli("endpoints", "add", "crm", "https://a.example/hook", "--operator", "alice")
    assert outcome.status == 1
    assert outcome.err.strip() == "python -m pms_app endpoints add: error: an endpoint named 'crm' exists already"


def test_disable_holds_and_enable_releases_with_audit(pms_db, cli):
    other = add_endpoint(pms_db.store, "billing", "http://127.0.0.1:9/hook")
    event_id = add_event(pms_db.store)

    disabled = cli("endpoints", "disable", str(other), "--operator", "alice")
    assert disabled.status == 0, disabled.err
    assert disabled.out.strip() == f"endpoint {other} (billing): disabled (manual)"
    assert statuses(pms_db.store, other) == {event_id: HELD}

    enabled = cli("endpoints", "enable", str(other), "--operator", "bob", "--json")
    assert enabled.status == 0, enabled.err
    assert set(enabled.json["data"]) == ENDPOINT_KEYS
    assert (enabled.json["data"]["enabled"], enabled.json["data"]["disabled_reason"]) == (True, None)
    assert statuses(pms_db.store, other) == {event_id: PENDING}

    assert audit_rows(pms_db.store) == [
        ("alice", audit.ENDPOINT_DISABLE, str(other), {"reason": "manual", "held": 1}),
        ("bob", audit.ENDPOINT_ENABLE, str(other), {"previous_reason": "manual", "released": 1}),
    ]


@pytest.mark.parametrize("action", ["disable", "enable", "rotate-secret"])
def test_actions_on_an_unknown_endpoint_are_not_found(pms_db, cli, action):
    outcome = cli("endpoints", action, "77", "--operator", "alice")
    assert outcome.status == 1
    assert outcome.err.strip() == f"python -m pms_app endpoints {action}: error: endpoint 77 not found"
    assert audit_rows(pms_db.store) == []


@pytest.mark.parametrize("action", ["disable", "enable", "rotate-secret"])
def test_actions_need_a_numeric_id(pms_db, cli, action):
    outcome = cli("endpoints", action, "crm", "--operator", "alice")
    assert outcome.status == 2
    assert "argument id: 'crm' is not an integer" in outcome.err


def test_rotate_secret_prints_the_new_secret_once_and_keeps_the_old_for_the_overlap(pms_db, cli):
    other = add_endpoint(pms_db.store, "billing", "http://127.0.0.1:9/hook")
    before = pms_db.store.call(lambda: [s.secret for s in secrets.valid(other)])

    rotated = cli("endpoints", "rotate-secret", str(other), "--overlap-seconds", "3600", "--operator", "alice")
    assert rotated.status == 0, rotated.err
    first_line, note = rotated.out.splitlines()
    new = first_line.removeprefix("secret: ")
    assert new.startswith("whsec_")
    assert note == f"The secret is shown this once. The previous secrets of endpoint {other} stay valid for 1h00m."
    valid = pms_db.store.call(lambda: secrets.valid(other))
    assert [s.secret for s in valid] == [*before, new]
    assert 3500 < (valid[0].expires_at - utcnow()).total_seconds() <= 3600

    now = cli("endpoints", "rotate-secret", str(other), "--overlap-seconds", "0", "--operator", "bob", "--json")
    newest = now.json["data"]["secret"]
    assert now.json == {"data": {"secret": newest}}
    assert pms_db.store.call(lambda: [s.secret for s in secrets.valid(other)]) == [newest]

    assert audit_rows(pms_db.store) == [
        ("alice", audit.ENDPOINT_ROTATE_SECRET, str(other), {"overlap_seconds": 3600}),
        ("bob", audit.ENDPOINT_ROTATE_SECRET, str(other), {"overlap_seconds": 0}),
    ]


def test_rotate_secret_refuses_a_negative_overlap(pms_db, cli):
    outcome = cli("endpoints", "rotate-secret", "1", "--overlap-seconds", "-5", "--operator", "alice")
    assert outcome.status == 2
    assert "--overlap-seconds: must be" in outcome.err
    assert audit_rows(pms_db.store) == []
