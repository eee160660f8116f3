"""``GET {base}/openapi.json``: the service's OpenAPI document, open to anyone like the probes.

The document is built once when the application is assembled (``api_application``) and kept
as its JSON text, so serving it costs nothing per request and the rate limit never applies.
"""

from __future__ import annotations

from ..handlers import APIHandler


class OpenApiHandler(APIHandler):
    requires_auth = False
    rate_limited = False
    route_name = "openapi"

    def get(self) -> None:
        self.set_header("Content-Type", "application/json; charset=UTF-8")
        self.finish(self.settings["openapi_json"])
