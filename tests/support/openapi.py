"""Checking real answers against a service's own OpenAPI document: the body a route gave, for
the status it gave, must match the schema the document names for that operation and status."""

from __future__ import annotations

import re
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker


def answer_schema(document: dict, method: str, path: str, status: int) -> dict:
    """The JSON schema ``document`` gives for ``status`` of ``method path`` (a concrete path,
    matched against the documented templates, a literal segment before a parameter)."""
    for template, item in sorted(document["paths"].items(), key=lambda pair: pair[0].count("{")):
        pattern = re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template))
        if re.fullmatch(pattern, path) and method.lower() in item:
            responses = item[method.lower()]["responses"]
            assert str(status) in responses, f"{method} {template} does not document {status}"
            return responses[str(status)]["content"]["application/json"]["schema"]
    raise AssertionError(f"{method} {path} is not documented")


def schema_errors(document: dict, method: str, path: str, status: int, body: Any) -> list[str]:
    """Every way ``body`` departs from the documented schema (empty when it conforms); references
    resolve inside the document, and formats (date-time, email) are checked."""
    schema = {**answer_schema(document, method, path, status), "components": document["components"]}
    validator = Draft202012Validator(schema, format_checker=FormatChecker())
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(body)]


def assert_conforms(document: dict, method: str, path: str, status: int, body: Any) -> None:
    errors = schema_errors(document, method, path, status, body)
    assert not errors, (method, path, status, errors)
