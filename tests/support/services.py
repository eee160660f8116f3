"""Both API services under one fixture, for tests of the conventions they share.

``api_service`` is parametrised over ``pms`` and ``crm``; ``app`` builds that service over its
test database (itself parametrised over the backends), so one test covers both services on
every backend. ``Service`` knows the little that differs between them: a route to write to.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

API = "/api/v1"


@dataclass(frozen=True)
class Service:
    name: str
    json_route: str  # a POST that takes a JSON body
    writes: tuple[tuple[str, str], ...]  # every (method, path) that takes a body
    list_route: str  # a list (GET only)


SERVICES = {
    "pms": Service(
        "pms",
        f"{API}/guests",
        (
            ("POST", f"{API}/guests"),
            ("PUT", f"{API}/guests/1"),
            ("POST", f"{API}/reservations"),
            ("PUT", f"{API}/reservations/1"),
        ),
        f"{API}/webhooks/deliveries",
    ),
    "crm": Service("crm", f"{API}/webhooks/pms", (("POST", f"{API}/webhooks/pms"),), f"{API}/events"),
}


@pytest.fixture(params=sorted(SERVICES))
def api_service(request) -> Service:
    return SERVICES[request.param]


@pytest.fixture
def app(request, api_service, backend):
    # ``backend`` is asked for here so the database fixtures below are parametrised over it.
    if api_service.name == "pms":
        from pms_app.app import make_app
        from pms_app.config import PmsSettings

        database = request.getfixturevalue("pms_db")
        return make_app(PmsSettings(), store=database.store)
    from crm_app.app import make_app
    from crm_app.config import CrmSettings
    from tests.crm_app.webhook_factory import SECRET

    database = request.getfixturevalue("crm_db")
    return make_app(CrmSettings(webhook_secrets=(SECRET,)), store=database.store)


def list_routes(app) -> list[str]:
    """Every route of ``app`` without path arguments (the candidates for lists)."""
    paths = []
    for rule in app.wildcard_router.rules:
        pattern = rule.matcher.regex.pattern.rstrip("$")
        if "(" not in pattern and not pattern.endswith("/health") and pattern != "/metrics":
            paths.append(pattern)
    return paths
