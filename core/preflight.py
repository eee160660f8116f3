"""CORS preflights (``OPTIONS`` with ``Access-Control-Request-Method``), whatever their path.

The API application routes every preflight here before its own routes, so a preflight needs
no API token, is not rate limited and never reaches a route's own handler. An allowed origin
gets 204 with the CORS headers; any other origin gets 403 ``forbidden`` with none.
"""

from __future__ import annotations

from .cors import add_preflight_headers, allowed_origin
from .errors import ApiError
from .handlers import APIHandler


class PreflightHandler(APIHandler):
    requires_auth = False
    rate_limited = False
    route_name = "cors_preflight"

    def options(self, *args, **kwargs) -> None:
        if allowed_origin(self) is None:
            raise ApiError("cross-origin requests from this origin are not allowed", status=403, code="forbidden")
        add_preflight_headers(self)
        self.set_status(204)
        self.finish()
