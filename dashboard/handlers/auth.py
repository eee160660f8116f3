"""``/login`` and ``/logout``: named operators or the token, server-side sessions, throttled failures.

The form sends ``username`` and ``password``; an empty name (or ``ops``) with the dashboard
token signs in as ``ops``, and so does a form with the older single ``token`` field. Every
failure gets the same message whatever was wrong. Signing out is a POST (with the XSRF field),
so a link or an image on another page cannot sign anyone out.
"""

from __future__ import annotations

import logging

from ..links import safe_next
from ..login import Authenticator
from ..session import end_session, start_session
from ..throttle import LoginThrottle
from ..users import TOKEN_USER
from .base import PageHandler

log = logging.getLogger("guestsync.dashboard.auth")

FAILED = "Sign-in failed: the user name or password is not right."


class LoginHandler(PageHandler):
    requires_login = False

    @property
    def authenticator(self) -> Authenticator:
        return self.settings["authenticator"]

    @property
    def throttle(self) -> LoginThrottle:
        return self.settings["login_throttle"]

    def get(self) -> None:
        target = safe_next(self.get_argument("next", "/"))
        if self.current_user:
            self.redirect(target)
            return
        self.render_page("login.html", next=target, error=None, username="")

    def credentials(self) -> tuple[str, str]:
        """The user name and password sent; the older form's ``token`` alone means ``ops``."""
        password = self.get_argument("password", None)
        if password is None:
            return "", self.get_argument("token", "")
        return self.get_argument("username", ""), password

    async def post(self) -> None:
        target = safe_next(self.get_argument("next", "/"))
        username, password = self.credentials()
        name = self.authenticator.normalise(username) or TOKEN_USER
        address = self.request.remote_ip
        shown = username[:64]
        wait = self.throttle.retry_after(address, name)
        if wait is not None:
            self.set_header("Retry-After", str(wait))
            self.render_page(
                "login.html",
                status_code=429,
                next=target,
                username=shown,
                error=f"Too many failed attempts. Try again in {wait} second{'s' if wait != 1 else ''}.",
            )
            return
        # Counted before the (slow) check so that parallel tries cannot all slip past the delay;
        # taken back below when the password is right.
        self.throttle.failed(address, name)
        identity = await self.authenticator.check(username, password)
        if identity is None:
            log.warning("failed sign-in as %r from %s", name[:64], address)
            self.render_page("login.html", status_code=401, next=target, username=shown, error=FAILED)
            return
        self.throttle.succeeded(address, name)
        start_session(self, self.sessions, identity.name, identity.credential)
        log.info("%s signed in from %s", identity.name, address)
        self.redirect(target)


class LogoutHandler(PageHandler):
    requires_login = False

    def post(self) -> None:
        user = self.current_user
        end_session(self, self.sessions)
        if user:
            log.info("%s signed out", user)
        self.flash("good", "You are signed out.")
        self.redirect("/login")


default_handlers = [
    (r"/login", LoginHandler),
    (r"/logout", LogoutHandler),
]
