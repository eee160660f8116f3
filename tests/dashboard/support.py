"""A cookie-keeping test client for the dashboard: logs in, sends forms with the XSRF token;
and ``served_dashboard``, the dashboard served for a browser.

``add_operator`` writes an operator into a users file with a cheap hash, so tests that sign
in by name do not pay the production cost of scrypt on every run.
"""

from __future__ import annotations

import contextlib
import dataclasses
import re
from collections.abc import Iterator
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

from tornado.httpclient import AsyncHTTPClient, HTTPRequest, HTTPResponse
from tornado.httpserver import HTTPServer
from tornado.testing import bind_unused_port
from tornado.websocket import websocket_connect

from core.server import make_http_server
from dashboard.app import close_app, make_app
from dashboard.live import Hub
from dashboard.passwords import ScryptParams, hash_password
from dashboard.users import read_users, write_users

TOKEN = "test-dashboard-token"
CHEAP = ScryptParams(n=2**10, r=8, p=1)


def add_operator(users_file: Path, name: str, password: str) -> None:
    users = read_users(users_file)
    users.set(name, hash_password(password, CHEAP))
    write_users(users_file, users)


def remove_operator(users_file: Path, name: str) -> None:
    users = read_users(users_file)
    users.remove(name)
    write_users(users_file, users)


def serve_app(application, host: str = "127.0.0.1") -> tuple[HTTPServer, str]:
    """Serve ``application`` on a free local port of the current IOLoop; returns the server and its origin."""
    sock, port = bind_unused_port()
    server = make_http_server(application)
    server.add_socket(sock)
    return server, f"http://{host}:{port}"


@dataclasses.dataclass(frozen=True)
class ServedDashboard:
    url: str  # its origin
    hub: Hub  # its live feed, whose ``poller.ticks`` say when the feed has read the services


@contextlib.contextmanager
def served_dashboard(settings, host: str = "localhost") -> Iterator[ServedDashboard]:
    """The dashboard app for ``settings`` served on the current IOLoop, then its feed and its
    server stopped."""
    application = make_app(settings)
    server, url = serve_app(application, host=host)
    try:
        yield ServedDashboard(url, application.settings["hub"])
    finally:
        close_app(application)
        server.stop()


class Visitor:
    """One browser: a cookie jar, GET/POST helpers (no redirects followed) and login."""

    def __init__(self, http: AsyncHTTPClient, base_url: str):
        self.http = http
        self.base_url = base_url
        self.cookies: dict[str, str] = {}
        self.last_set_cookies: list[str] = []

    def cookie_header(self) -> str:
        return "; ".join(f"{k}={v}" for k, v in self.cookies.items())

    def _remember(self, response: HTTPResponse) -> None:
        self.last_set_cookies = response.headers.get_list("Set-Cookie")
        for header in self.last_set_cookies:
            jar = SimpleCookie()
            jar.load(header)
            for name, morsel in jar.items():
                if morsel["expires"] and "1970" in morsel["expires"] or morsel.value == "":
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value

    async def get(self, path: str, headers: dict | None = None) -> HTTPResponse:
        response = await self.http.fetch(
            self.base_url + path,
            headers={"Cookie": self.cookie_header(), **(headers or {})},
            follow_redirects=False,
            raise_error=False,
        )
        self._remember(response)
        return response

    async def xsrf(self, path: str | None = None) -> str:
        """The XSRF form value, read from a page's form (the login page until logged in)."""
        response = await self.get(path or ("/rejections" if "gs_session" in self.cookies else "/login"))
        if response.code == 302 and response.headers["Location"].startswith("/login"):
            response = await self.get("/login")  # the session ended meanwhile
        match = re.search(r'name="_xsrf" value="([^"]+)"', response.body.decode())
        assert match, "the page has no XSRF field"
        return match.group(1)

    async def post(
        self, path: str, form: dict | None = None, with_xsrf: bool = True, headers: dict | None = None
    ) -> HTTPResponse:
        form = dict(form or {})
        if with_xsrf and "_xsrf" not in form:
            form["_xsrf"] = await self.xsrf()
        response = await self.http.fetch(
            self.base_url + path,
            method="POST",
            body=urlencode(form),
            headers={
                "Cookie": self.cookie_header(),
                "Content-Type": "application/x-www-form-urlencoded",
                **(headers or {}),
            },
            follow_redirects=False,
            raise_error=False,
        )
        self._remember(response)
        return response

    async def login(self, token: str = TOKEN) -> HTTPResponse:
        """Signs in the way the first dashboard did: the single ``token`` field."""
        response = await self.post("/login", {"token": token, "next": "/"})
        return response

    async def sign_in(self, username: str, password: str, next_path: str = "/") -> HTTPResponse:
        return await self.post("/login", {"username": username, "password": password, "next": next_path})

    async def logout(self) -> HTTPResponse:
        return await self.post("/logout", {"_xsrf": await self.xsrf("/rejections")})

    async def websocket(self, origin: str | None = "same"):
        url = self.base_url.replace("http://", "ws://") + "/ws/live"
        headers = {"Cookie": self.cookie_header()}
        if origin == "same":
            headers["Origin"] = self.base_url
        elif origin:
            headers["Origin"] = origin
        return await websocket_connect(HTTPRequest(url, headers=headers))
