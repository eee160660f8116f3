"""Who asked for an action: the operator named in ``X-Operator`` and the request it came with.

The dashboard forwards its signed-in operator's name in the ``X-Operator`` header; API clients
usually name nobody, and their actions are recorded with ``operator`` null. The PMS handler base
reads the header in one place (``PmsHandler.actor``) and hands the ``Actor`` explicitly to the
services that record what they did (the audit log, ``replayed_by`` on attempts).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from core.errors import ValidationError

OPERATOR_HEADER = "X-Operator"
# Names as the dashboard's user list allows them; anything else is refused, not cleaned up,
# so the audit log never holds a name nobody signed in with.
OPERATOR_NAME = re.compile(r"[A-Za-z0-9._@-]{1,64}")


@dataclass(frozen=True)
class Actor:
    """The person behind an action (``None``: an API client that named nobody) and the request id."""

    operator: str | None = None
    request_id: str | None = None


def parse_operator(raw: str | None, field: str = OPERATOR_HEADER) -> str | None:
    """An operator name, or ``None`` when absent; 422 on ``field`` when malformed."""
    if raw is None:
        return None
    if not OPERATOR_NAME.fullmatch(raw):
        raise ValidationError.single(field, "must be 1 to 64 characters, each a letter, a digit or one of . _ @ -")
    return raw
