"""The OpenAPI documents: valid OpenAPI 3.1, complete against each application's live route table
(every route and method the router serves is described, and nothing else), served at
``{base}/openapi.json`` without a token or rate limit, and in step with docs/openapi/."""

from __future__ import annotations

import inspect
import json
import re
import sys

import pytest
from openapi_spec_validator import validate
from tornado.web import RequestHandler

from core.openapi import files
from tests.support.http import call, json_of
from tests.support.services import API

METHODS = ("get", "head", "post", "put", "patch", "delete", "options")


def served_operations(app) -> set[tuple[str, str]]:
    """(path with every group as ``{}``, method) for each route and each method its handler has."""
    found = set()
    for rule in app.wildcard_router.rules:
        path = re.sub(r"\([^)]*\)", "{}", rule.matcher.regex.pattern.rstrip("$")).replace("\\", "")
        for method in METHODS:
            if getattr(rule.target, method) is not getattr(RequestHandler, method):
                found.add((path, method))
    return found


def documented_operations(document: dict) -> set[tuple[str, str]]:
    return {
        (re.sub(r"\{[^}]+\}", "{}", path), method)
        for path, item in document["paths"].items()
        for method in item
        if method in METHODS
    }


def document_of(app) -> dict:
    return json.loads(app.settings["openapi_json"])


def test_the_document_is_valid_openapi_3_1(app):
    document = document_of(app)
    assert document["openapi"].startswith("3.1")
    validate(document)


def test_every_served_route_and_method_is_documented_and_nothing_else(app):
    served, documented = served_operations(app), documented_operations(document_of(app))
    assert served - documented == set(), "served but not documented"
    assert documented - served == set(), "documented but not served"


def test_path_parameters_are_the_values_the_router_accepts(app):
    """An integer parameter is a route group of digits; a string one takes any segment."""
    patterns = [rule.matcher.regex for rule in app.wildcard_router.rules]
    for path, item in document_of(app)["paths"].items():
        for operation in item.values():
            sample = path
            for parameter in operation.get("parameters", []):
                if parameter["in"] == "path":
                    value = "123" if parameter["schema"]["type"] == "integer" else "2f0c-x_y"
                    sample = sample.replace("{" + parameter["name"] + "}", value)
            assert "{" not in sample, (path, "a path parameter is not declared")
            assert any(p.fullmatch(sample) for p in patterns), (path, sample)


def test_every_answer_of_every_operation_is_described_with_its_request_id(app):
    for path, item in document_of(app)["paths"].items():
        for method, operation in item.items():
            assert operation["responses"], (method, path)
            for status, response in operation["responses"].items():
                if status != "101":
                    assert "X-Request-ID" in response["headers"], (method, path, status)
            assert "operationId" in operation and operation["summary"], (method, path)


def test_the_error_answers_name_the_error_object(app):
    document = document_of(app)
    statuses = {status for item in document["paths"].values() for op in item.values() for status in op["responses"]}
    assert {"401", "404", "422", "429", "503"} <= statuses
    error = document["components"]["schemas"]["Error422"]["properties"]["error"]
    assert set(error["required"]) == {"code", "message", "details", "request_id"}


@pytest.mark.gen_test
async def test_the_document_is_served_without_a_token_or_rate_limit(http_client, base_url, service):
    for _ in range(3):  # the limit in this app is one request a minute
        response = await call(http_client, base_url, "GET", f"{API}/openapi.json")
        assert response.code == 200, response.body
    assert response.headers["Content-Type"].startswith("application/json")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["X-Request-ID"]
    document = json_of(response)
    assert document["info"]["title"] == f"Guestsync {service.upper()} API"
    guarded = await call(http_client, base_url, "GET", f"{API}/sync/runs" if service == "pms" else f"{API}/events")
    assert guarded.code == 401  # the same app does guard its API routes


@pytest.fixture(params=["pms", "crm"])
def service(request) -> str:
    return request.param


@pytest.fixture
def app(request, service, backend):
    """The service with API_TOKEN and a one-a-minute API_RATE_LIMIT (the document is the same
    whatever the configuration; serving it must ignore both)."""
    if service == "pms":
        from pms_app.app import make_app
        from pms_app.config import PmsSettings

        return make_app(
            PmsSettings(api_token="t0ken", api_rate_limit=_one_a_minute()),
            store=request.getfixturevalue("pms_db").store,
        )
    from crm_app.app import make_app
    from crm_app.config import CrmSettings

    return make_app(
        CrmSettings(api_token="t0ken", api_rate_limit=_one_a_minute()), store=request.getfixturevalue("crm_db").store
    )


def _one_a_minute():
    from core.ratelimit import parse_rate_limit

    return parse_rate_limit("1/minute")


def test_the_document_follows_the_configured_base_path():
    from pms_app.openapi import document

    paths = document("/pms/v2")["paths"]
    assert "/pms/v2/guests" in paths and "/pms/v2/openapi.json" in paths
    assert "/metrics" in paths  # outside the base path, always
    assert not any(path.startswith(API) for path in paths)


def test_the_documents_in_docs_are_the_ones_the_code_builds():
    for name, text in files.documents().items():
        documented = (files.DOCS / name).read_text(encoding="utf-8")
        assert documented == text, f"docs/openapi/{name} is out of date: run make openapi"


_QUERY_READ = re.compile(r"""(?:get_argument|int_argument|choice_argument|time_argument)\(\s*["'](\w+)["']""")
PAGING = {"limit", "cursor", "since_id"}


def query_arguments_read(handler: type, method: str) -> set[str]:
    """The query arguments ``handler``'s ``method`` reads by name (its paging ones included),
    those read by a function of its module it hands itself to (``delivery_filter(self)``) too."""
    source = inspect.getsource(getattr(handler, method))
    module = sys.modules[handler.__module__]
    for name in _HELPER_CALL.findall(source):
        helper = getattr(module, name, None)
        if inspect.isfunction(helper):
            source += inspect.getsource(helper)
    names = set(_QUERY_READ.findall(source))
    return names | PAGING if "page_request()" in source else names


_HELPER_CALL = re.compile(r"\b(\w+)\(self\b")


def test_arguments_read_through_a_helper_are_found():
    from pms_app.handlers.deliveries import DeliveriesHandler

    assert {"id_prefix", "guest_id", "since", "until"} <= query_arguments_read(DeliveriesHandler, "get")


def test_every_query_argument_a_handler_reads_is_documented(app):
    document = document_of(app)
    operations = _operations(document)
    checked = 0
    for rule in app.wildcard_router.rules:
        path = re.sub(r"\([^)]*\)", "{}", rule.matcher.regex.pattern.rstrip("$")).replace("\\", "")
        if rule.target.get is RequestHandler.get:
            continue
        read = query_arguments_read(rule.target, "get")
        documented = {p["name"] for p in operations[(path, "get")].get("parameters", []) if p["in"] == "query"}
        assert read <= documented, (path, read - documented)
        checked += bool(read)
    assert checked >= 3  # every list route at least


def test_every_route_that_reads_the_operator_header_documents_it(app):
    from pms_app.handlers.base import PmsHandler

    checked = 0
    for rule in app.wildcard_router.rules:
        if not (isinstance(rule.target, type) and issubclass(rule.target, PmsHandler)):
            continue
        path = re.sub(r"\([^)]*\)", "{}", rule.matcher.regex.pattern.rstrip("$")).replace("\\", "")
        for (documented_path, method), operation in _operations(document_of(app)).items():
            if documented_path == path:
                headers = {p["name"] for p in operation.get("parameters", []) if p["in"] == "header"}
                assert "X-Operator" in headers, (method, path)
                checked += 1
    assert checked >= 30 or app.settings["service"] != "pms"


def _operations(document: dict) -> dict[tuple[str, str], dict]:
    return {
        (re.sub(r"\{[^}]+\}", "{}", path), method): operation
        for path, item in document["paths"].items()
        for method, operation in item.items()
    }


def test_a_route_left_out_of_the_document_is_noticed(app):
    document = document_of(app)
    dropped = sorted(document["paths"])[0]
    del document["paths"][dropped]
    assert served_operations(app) - documented_operations(document)


def test_every_write_that_reads_a_body_documents_it(app):
    operations = _operations(document_of(app))
    checked = 0
    for rule in app.wildcard_router.rules:
        path = re.sub(r"\([^)]*\)", "{}", rule.matcher.regex.pattern.rstrip("$")).replace("\\", "")
        for method in ("post", "put"):
            if getattr(rule.target, method) is getattr(RequestHandler, method):
                continue
            source = inspect.getsource(getattr(rule.target, method))
            reads_body = "json_body()" in source or "read_webhook()" in source
            optional = "optional_json_body()" in source
            body = operations[(path, method)].get("requestBody")
            assert bool(body) == reads_body, (method, path)
            if body:
                assert body["required"] is not optional, (method, path)
                checked += 1
    assert checked >= 1
