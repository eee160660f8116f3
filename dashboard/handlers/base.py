"""``PageHandler``: login check, Jinja rendering, flash messages and service banners for pages.

Pages read the services through ``self.services``; ``fetch()`` turns an unreachable service
into a banner naming it (the page still renders, with 200) instead of an error page.
Not-logged-in GETs are redirected to ``/login?next=...``; other methods get 403.
``SessionAware`` (shared with the live feed's websocket) finds the signed-in operator through the
server-side session on every request; the protective headers go on every answer, error pages
and redirects included (see ``dashboard/headers.py``).
"""

from __future__ import annotations

import json
import logging
from typing import Any
from collections.abc import Awaitable
from urllib.parse import urlencode

from markupsafe import Markup
from tornado.web import HTTPError

from core.handlers import BaseHandler

from ..clients import ServiceNotFound, ServiceRejected, ServiceUnavailable, Services
from ..headers import set_protective_headers
from ..links import safe_next
from ..session import current_session
from ..session_store import Session, SessionStore

log = logging.getLogger("guestsync.dashboard")

FLASH_COOKIE = "gs_flash"


def rejection_text(exc: ServiceRejected) -> str:
    """The service's message, with the fields it named (``guest_id: must be ...``)."""
    details = "; ".join(f"{d['field']} {d['message']}".strip() for d in getattr(exc, "details", []))
    return f"{exc.message} ({details})" if details else exc.message


class SessionAware:
    """The signed-in operator of a request, looked up (and checked) in the server-side sessions."""

    session: Session | None = None

    @property
    def sessions(self) -> SessionStore:
        return self.settings["sessions"]

    def get_current_user(self) -> str | None:
        self.session = current_session(self, self.sessions)
        return self.session.user if self.session else None


class PageHandler(SessionAware, BaseHandler):
    requires_login = True

    def initialize(self) -> None:
        self.banners: list[dict] = []

    @property
    def services(self) -> Services:
        return self.settings["services"]

    def set_default_headers(self) -> None:
        super().set_default_headers()
        set_protective_headers(self)

    def prepare(self):
        super().prepare()
        if self.requires_login and not self.current_user:
            if self.request.method in ("GET", "HEAD"):
                self.redirect("/login?" + urlencode({"next": safe_next(self.request.uri)}))
                return
            raise HTTPError(403, "login required")

    # --- rendering -------------------------------------------------------------------

    def render_page(self, template: str, status_code: int | None = None, **context: Any) -> None:
        """Render ``template`` with the shared page context; the status stays as set unless given."""
        env = self.settings["jinja_env"]
        if status_code is not None:
            self.set_status(status_code)
        self.set_header("Content-Type", "text/html; charset=UTF-8")
        page = env.get_template(template).render(
            static_url=self.static_url,
            xsrf_form_html=Markup(self.xsrf_form_html()),
            user=self.current_user,
            path=self.request.path,
            banners=self.banners,
            flash=self.pop_flash(),
            poll_seconds=self.settings["config"].poll_seconds,
            **context,
        )
        self.finish(page)

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        exc = kwargs.get("exc_info", (None, None, None))[1]
        message = "Something went wrong on the dashboard. It has been logged with request id " + self.request_id + "."
        if isinstance(exc, HTTPError) and status_code < 500:
            message = {
                403: "This action was refused (your session or form may have expired; reload the page and try again).",
                404: "There is no such page.",
                405: "That is not something this page can do.",
            }.get(status_code, exc.log_message or self._reason)
        self.render_page("error.html", status_code=status_code, title=f"{status_code} {self._reason}", message=message)

    # --- flash messages ---------------------------------------------------------------

    def flash(self, level: str, text: str) -> None:
        self.set_signed_cookie(
            FLASH_COOKIE,
            json.dumps({"level": level, "text": text}),
            expires_days=None,
            httponly=True,
            samesite="Lax",
            secure=self.request.protocol == "https",
        )

    def pop_flash(self) -> dict | None:
        if getattr(self, "_flash_popped", False):
            return self._flash
        self._flash_popped = True
        self._flash = None
        raw = self.get_signed_cookie(FLASH_COOKIE, max_age_days=1)
        if raw:
            self.clear_cookie(FLASH_COOKIE)
            try:
                value = json.loads(raw)
                self._flash = {"level": str(value["level"]), "text": str(value["text"])}
            except (ValueError, KeyError, TypeError):
                self._flash = None
        return self._flash

    # --- reading the services -----------------------------------------------------------

    async def fetch(self, coro: Awaitable, default: Any = None) -> Any:
        """The awaited result, or ``default`` with a banner when the service is down or refuses."""
        try:
            return await coro
        except ServiceUnavailable as exc:
            self.add_banner(
                exc.service, f"The {exc.service} {exc.message}. What is shown from it may be missing or old."
            )
        except ServiceRejected as exc:
            self.add_banner(exc.service, f"The {exc.service} refused this request: {rejection_text(exc)}", level="warn")
        return default

    async def fetch_optional(self, coro: Awaitable, default: Any = None) -> Any:
        """Like ``fetch`` for something an older service may not serve: its 404 means ``default``."""
        try:
            return await self.fetch(coro, default)
        except ServiceNotFound:
            return default

    async def fetch_one(self, coro: Awaitable, what: str) -> Any:
        """Like ``fetch`` for a detail page: a 404 from the service renders the page's not-found state."""
        try:
            return await coro
        except ServiceNotFound:
            self.set_status(404)
            return None
        except ServiceUnavailable as exc:
            self.add_banner(exc.service, f"The {exc.service} {exc.message}, so this {what} cannot be shown right now.")
        except ServiceRejected as exc:
            self.add_banner(exc.service, f"The {exc.service} refused this request: {exc.message}", level="warn")
        return None

    def add_banner(self, service: str, text: str, level: str = "bad") -> None:
        if not any(b["text"] == text for b in self.banners):
            self.banners.append({"service": service, "text": text, "level": level})

    def list_args(self, *names: str) -> dict[str, str]:
        """The non-empty filter arguments named, stripped, for passing on to a service."""
        values = {}
        for name in names:
            value = (self.get_argument(name, "") or "").strip()
            if value:
                values[name] = value[:200]
        return values

    def older_link(self, next_cursor: str | None, filters: dict[str, str]) -> str | None:
        if not next_cursor:
            return None
        return self.request.path + "?" + urlencode({**filters, "cursor": next_cursor})
