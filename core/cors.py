"""Cross-origin access to the APIs (``CORS_ALLOWED_ORIGINS``): the allow-list and its headers.

Only origins on the list get CORS headers; an answer to any other origin carries none, so
the browser keeps that page from reading it. Origins are compared exactly once the scheme
and host are lower-cased (and a default port dropped, as browsers never send one). ``*`` is
never used: the allow-list is explicit. Preflights are answered by ``core.preflight``.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from tornado.web import RequestHandler

from .config import ConfigError
from .errors import ApiError

ALLOWED_METHODS = "GET, POST, PUT, PATCH, DELETE"
ALLOWED_HEADERS = "Authorization, Content-Type, X-Request-ID, X-Operator"
EXPOSED_HEADERS = "X-Request-ID, RateLimit-Limit, RateLimit-Remaining, RateLimit-Reset, Retry-After"
# How long a browser may reuse a preflight's answer (Chromium caps it at 2 hours anyway).
MAX_AGE_SECONDS = 600
_DEFAULT_PORTS = {"http": 80, "https": 443}


def normalise_origin(text: str | None) -> str | None:
    """``scheme://host[:port]`` with scheme and host lower-cased, or ``None`` when ``text`` is
    not an http(s) origin (a path, query, user name or bad port make it none)."""
    if not text or text != text.strip():
        return None
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    host = parts.hostname
    if (
        scheme not in _DEFAULT_PORTS
        or not host
        or parts.path
        or parts.query
        or parts.fragment
        or "@" in parts.netloc
        or text.endswith(("?", "#"))
    ):
        return None
    if ":" in host:
        host = f"[{host}]"
    if port is None or port == _DEFAULT_PORTS[scheme]:
        return f"{scheme}://{host}"
    return f"{scheme}://{host}:{port}"


def parse_allowed_origins(raw: str | None, variable: str = "CORS_ALLOWED_ORIGINS") -> tuple[str, ...]:
    """Comma-separated origins, normalised; ``ConfigError`` naming ``variable`` for a bad one."""
    origins: list[str] = []
    for part in (raw or "").split(","):
        part = part.strip()
        if not part:
            continue
        if part == "*":
            raise ConfigError(f"{variable} must list origins one by one; '*' is not allowed")
        # A trailing slash is a common copy-paste from the address bar; an origin has none.
        origin = normalise_origin(part[:-1] if part.endswith("/") and part.count("/") == 3 else part)
        if origin is None:
            raise ConfigError(
                f"{variable} must be comma-separated origins such as "
                f"https://app.example.com or http://localhost:3000, got {part!r}"
            )
        if origin not in origins:
            origins.append(origin)
    return tuple(origins)


@dataclass(frozen=True)
class CorsPolicy:
    """The origins whose pages may call the API."""

    origins: frozenset[str] = frozenset()

    @classmethod
    def of(cls, origins: tuple[str, ...]) -> CorsPolicy:
        return cls(frozenset(origins))

    def __bool__(self) -> bool:
        return bool(self.origins)

    def allows(self, origin: str | None) -> bool:
        return normalise_origin(origin) in self.origins


def allowed_origin(handler: RequestHandler) -> str | None:
    """The request's ``Origin`` header when the application's policy allows it."""
    policy: CorsPolicy | None = handler.settings.get("cors")
    origin = handler.request.headers.get("Origin")
    return origin if policy and policy.allows(origin) else None


def add_cors_headers(handler: RequestHandler) -> None:
    """Headers of an actual (non-preflight) answer; none at all for an origin not allowed.

    ``Vary: Origin`` is on every answer once an allow-list exists, because the answer then
    depends on the Origin header (a cache must not hand one origin's answer to another).
    """
    policy: CorsPolicy | None = handler.settings.get("cors")
    if not policy:
        return
    handler.set_header("Vary", "Origin")
    origin = allowed_origin(handler)
    if origin is not None:
        handler.set_header("Access-Control-Allow-Origin", origin)
        handler.set_header("Access-Control-Expose-Headers", EXPOSED_HEADERS)


def add_preflight_headers(handler: RequestHandler) -> None:
    """The headers that answer an allowed origin's preflight."""
    handler.set_header("Access-Control-Allow-Methods", ALLOWED_METHODS)
    handler.set_header("Access-Control-Allow-Headers", ALLOWED_HEADERS)
    handler.set_header("Access-Control-Max-Age", str(MAX_AGE_SECONDS))


UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def refuse_cross_site_write(handler: RequestHandler) -> None:
    """403 for a state-changing request that a browser sent from a page of another origin
    not on the allow-list.

    A browser can send a POST without a body and without a Content-Type from any page
    (``fetch(url, {method: "POST", mode: "no-cors"})``), and no media-type check can see it;
    but it always names the page's origin in ``Origin``. Servers and scripts send no
    ``Origin`` and are not affected; neither is a page of the API's own origin.
    """
    if handler.request.method not in UNSAFE_METHODS:
        return
    origin = handler.request.headers.get("Origin")
    if origin is None:
        return
    own = normalise_origin(f"{handler.request.protocol}://{handler.request.host}")
    policy: CorsPolicy | None = handler.settings.get("cors")
    if normalise_origin(origin) == own or (policy and policy.allows(origin)):
        return
    raise ApiError("cross-origin requests from this origin are not allowed", status=403, code="forbidden")


def is_preflight(method: str | None, headers) -> bool:
    """A CORS preflight: ``OPTIONS`` with ``Origin`` and ``Access-Control-Request-Method``."""
    return method == "OPTIONS" and "Origin" in headers and "Access-Control-Request-Method" in headers
