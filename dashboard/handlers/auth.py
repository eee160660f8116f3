"""``/login`` and ``/logout``: one token field, a session cookie, throttled failures."""

from __future__ import annotations

import logging

from ..session import end_session, safe_next, start_session, token_matches
from .base import PageHandler

log = logging.getLogger("guestsync.dashboard.auth")


class LoginHandler(PageHandler):
    requires_login = False

    def get(self) -> None:
        if self.current_user:
            self.redirect(safe_next(self.get_argument("next", "/")))
            return
        self.render_page("login.html", next=safe_next(self.get_argument("next", "/")), error=None)

    def post(self) -> None:
        throttle = self.settings["login_throttle"]
        address = self.request.remote_ip or "unknown"
        target = safe_next(self.get_argument("next", "/"))
        wait = throttle.retry_after(address)
        if wait is not None:
            self.set_header("Retry-After", str(wait))
            self.render_page("login.html", status_code=429, next=target,
                             error=f"Too many failed attempts. Try again in {wait} seconds.")
            return
        given = self.get_argument("token", "")
        if given and token_matches(given.strip(), self.settings["config"].token):
            throttle.succeeded(address)
            start_session(self)
            log.info("login from %s", address)
            self.redirect(target)
            return
        throttle.failed(address)
        log.warning("failed login from %s", address)
        self.render_page("login.html", status_code=401, next=target,
                         error="That token was not accepted.")


class LogoutHandler(PageHandler):
    requires_login = False

    def get(self) -> None:
        self.post()

    def post(self) -> None:
        end_session(self)
        self.flash("good", "You are signed out.")
        self.redirect("/login")


default_handlers = [
    (r"/login", LoginHandler),
    (r"/logout", LogoutHandler),
]
