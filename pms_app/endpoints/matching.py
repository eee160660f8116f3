"""Which event types an endpoint wants: a list of types or globs, empty meaning every type.

``*`` matches any run of characters, dots included (``guest.*``, ``*.deleted``, ``*``); nothing
else is special, so a type is never mistaken for a pattern.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache


@lru_cache(maxsize=1024)
def _pattern(glob: str) -> re.Pattern:
    return re.compile("^" + ".*".join(re.escape(part) for part in glob.split("*")) + "$")


def matches(event_types: Sequence[str] | None, event_type: str) -> bool:
    if not event_types:
        return True
    return any(_pattern(glob).match(event_type) for glob in event_types)
