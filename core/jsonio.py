"""Strict JSON in and out, the one codec of the API bodies and the webhook receiver.

Parsing refuses what the JSON grammar refuses but Python's ``json`` lets through: ``NaN`` and
``Infinity`` literals, number literals that overflow a double to infinity (``1e999``), text
that is not UTF-8 and unpaired UTF-16 surrogate escapes (which no database can store). Writing
refuses non-finite floats, so no answer can ever carry ``NaN`` or ``Infinity`` (not JSON).
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from .errors import InvalidJSONError

_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


def _reject_constant(name: str):
    raise ValueError(f"{name} is not valid JSON")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"the number {text[:40]} is too large")
    return value


def _has_lone_surrogate(value: Any) -> bool:
    # Iterative: a document nested as deep as the parser allows must not exhaust the stack here.
    stack = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, str):
            try:
                node.encode("utf-8")
            except UnicodeEncodeError:
                return True
        elif isinstance(node, dict):
            stack.extend(node.keys())
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return False


def parse_json(raw: bytes) -> Any:
    """The value of a JSON document; any of the failures above is ``InvalidJSONError``."""
    try:
        value = json.loads(raw.decode("utf-8"), parse_constant=_reject_constant, parse_float=_finite_float)
    except UnicodeDecodeError:
        raise InvalidJSONError("the body is not valid UTF-8") from None
    except RecursionError:
        raise InvalidJSONError("the body is nested too deeply") from None
    except ValueError as exc:  # also an integer literal past Python's digit limit
        raise InvalidJSONError(f"the body is not valid JSON: {exc}") from None
    # Only a body with a \uD800-\uDFFF escape can hold one; look closer only then.
    if _SURROGATE_ESCAPE.search(raw) and _has_lone_surrogate(value):
        raise InvalidJSONError("the body contains an unpaired UTF-16 surrogate escape")
    return value


def dumps(data: Any) -> str:
    """Compact JSON text; a non-finite float raises ``ValueError`` rather than writing one."""
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False, allow_nan=False, default=str)
