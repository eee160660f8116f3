"""The protective headers of every dashboard answer: pages, error pages, redirects, assets, the websocket.

They are set in each handler's ``set_default_headers`` (which Tornado runs again when it
replaces an answer with an error page), never in ``prepare``, so no answer goes out without
them: not a 404, not the XSRF 403, not a 500.
"""

from __future__ import annotations

from tornado.web import RequestHandler

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)

PROTECTIVE_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


def set_protective_headers(handler: RequestHandler, cacheable: bool = False) -> None:
    """The CSP, framing refusal and friends; ``no-store`` unless the answer is a versioned asset."""
    for name, value in PROTECTIVE_HEADERS.items():
        handler.set_header(name, value)
    if not cacheable:
        handler.set_header("Cache-Control", "no-store")
