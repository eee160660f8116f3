"""URLs built from values the dashboard does not control, made so they cannot go elsewhere.

- ``segment(value)``: one path segment from an id a service sent (or a URL carried). Every
  character but letters, digits and ``-._~`` is percent-encoded, ``/`` included, so an id like
  ``../../logout`` stays one segment under the page that links it. A segment made only of dots
  would still be resolved by browsers (``..`` and even ``%2E%2E`` mean "go up"), so its dots are
  encoded twice: the link then names a page that does not exist instead of a parent.
  ``static/dashboard.js`` builds the live rows' links with the same rule.
- ``safe_next(target)``: where to go after signing in. Only a path on this dashboard is
  followed; anything else (another site, a scheme, control characters that browsers silently
  drop, backslashes that browsers read as slashes, dot segments, non-ASCII) goes to ``/``.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote, unquote, urlsplit

HOME = "/"
MAX_NEXT_LENGTH = 2000
_VISIBLE_ASCII = re.compile(r"[\x21-\x7e]+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_NOT_AFTER_LOGIN = ("/login", "/logout")


def segment(value: Any) -> str:
    text = quote(str(value), safe="")
    if text and text.strip(".") == "":
        return text.replace(".", "%252E")
    return text


def safe_next(target: str | None) -> str:
    if not target or len(target) > MAX_NEXT_LENGTH:
        return HOME
    # Browsers drop tabs and newlines anywhere in a URL and spaces at its ends ("/\t/evil" is
    # "//evil" to them), and CR/LF cannot go in a Location header at all: only visible ASCII.
    if not _VISIBLE_ASCII.fullmatch(target) or "\\" in target:
        return HOME
    # "//host" and "///host" are other sites to a browser (the parser here calls the latter a path).
    if not target.startswith("/") or target.startswith("//"):
        return HOME
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not parts.path.startswith("/"):
        return HOME
    # Judge the decoded form as well, so an encoded "//", backslash or control character
    # cannot be decoded into one later by whatever handles the path.
    decoded_path = unquote(parts.path)
    if decoded_path.startswith("//") or "\\" in decoded_path or _CONTROL.search(unquote(target)):
        return HOME
    if any(part in (".", "..") for part in decoded_path.split("/")):
        return HOME
    if decoded_path.startswith(_NOT_AFTER_LOGIN):
        return HOME
    return target
