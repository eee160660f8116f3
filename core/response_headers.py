"""Headers set on every answer an application sends, whichever handler wrote it.

Tornado output transforms see the first chunk of every response: our handlers, error pages,
Tornado's own 404/405 answers, static files and websocket upgrades alike, so a header set
here cannot be forgotten by a new handler. ``NoServerVersion`` drops the ``Server`` header
(Tornado names its exact version there, which only helps an attacker pick an exploit);
``ApiHeaders`` adds what every JSON API answer carries (see docs/http.md).
"""

from __future__ import annotations

from tornado.httputil import HTTPHeaders
from tornado.web import OutputTransform

API_HEADERS = {
    # A JSON answer is never sniffed into HTML or script by a browser...
    "X-Content-Type-Options": "nosniff",
    # ...and never kept by a cache or proxy: answers carry guests' personal data.
    "Cache-Control": "no-store",
}


class NoServerVersion(OutputTransform):
    def transform_first_chunk(
        self, status_code: int, headers: HTTPHeaders, chunk: bytes, finishing: bool
    ) -> tuple[int, HTTPHeaders, bytes]:
        headers.pop("Server", None)
        return status_code, headers, chunk


class ApiHeaders(NoServerVersion):
    def transform_first_chunk(
        self, status_code: int, headers: HTTPHeaders, chunk: bytes, finishing: bool
    ) -> tuple[int, HTTPHeaders, bytes]:
        for name, value in API_HEADERS.items():
            headers[name] = value
        return super().transform_first_chunk(status_code, headers, chunk, finishing)
