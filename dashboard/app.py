"""``make_app(settings)``: the dashboard as a Tornado application.

Shared objects live in ``Application.settings``: ``config`` (``DashboardSettings``),
``services`` (the PMS and CRM clients), ``hub`` (the live feed), ``jinja_env``,
``authenticator`` (operators and the token), ``sessions`` (server-side sessions) and
``login_throttle``. Templates come from ``templates/``, assets from ``static/`` with
versioned URLs. ``close_app`` releases what the app owns when the process stops.
"""

from __future__ import annotations

import secrets

import tornado.web
from prometheus_client import CollectorRegistry, Gauge

from core.config import REPO_ROOT
from core.access_log import log_request
from core.metrics import add_process_collectors
from core.proxies import ProxyAwareApplication
from core.response_headers import NoServerVersion

from .clients import Services
from .config import DashboardSettings
from .handlers import (
    audit,
    auth,
    deliveries,
    endpoints,
    events,
    live,
    notifications,
    overview,
    probes,
    profiles,
    rejections,
)
from .handlers.base import PageHandler
from .handlers.static import StaticFiles
from .live import Hub
from .login import Authenticator
from .session_store import SessionStore
from .throttle import LoginThrottle
from .users import UserDirectory
from .views import make_environment

TEMPLATE_DIR = REPO_ROOT / "templates"
STATIC_DIR = REPO_ROOT / "static"


class NotFoundPage(PageHandler):
    requires_login = False

    def prepare(self):
        super().prepare()
        raise tornado.web.HTTPError(404)


def dashboard_registry(hub: Hub) -> CollectorRegistry:
    """The dashboard's own registry (one per app, like the services'): process collectors, the
    live feed's websocket count and its poll ticks (what the services' request counts are
    compared with: a tick's requests do not depend on the clients)."""
    registry = CollectorRegistry()
    add_process_collectors(registry)
    clients = Gauge("dashboard_live_clients", "Websockets connected to the live feed", registry=registry)
    clients.set_function(lambda: len(hub.clients))
    ticks = Gauge(
        "dashboard_live_poll_ticks", "Polls of the services the live feed has completed since start", registry=registry
    )
    ticks.set_function(lambda: hub.poller.ticks)
    return registry


def make_app(
    settings: DashboardSettings, services: Services | None = None, hub: Hub | None = None
) -> tornado.web.Application:
    services = services or Services.from_settings(settings)
    hub = hub or Hub(services, settings.poll_seconds, linger=settings.live_linger_seconds)
    authenticator = Authenticator(settings.token, UserDirectory(settings.users_file))
    sessions = SessionStore(
        idle_seconds=settings.session_idle_seconds,
        max_age_seconds=settings.session_max_seconds,
        is_current=lambda session: authenticator.is_current(session.user, session.credential),
    )
    routes = [
        *auth.default_handlers,
        *overview.default_handlers,
        *events.default_handlers,
        *profiles.default_handlers,
        *deliveries.default_handlers,
        *endpoints.default_handlers,
        *notifications.default_handlers,
        *rejections.default_handlers,
        *audit.default_handlers,
        *live.default_handlers,
        *probes.default_handlers,
    ]
    return ProxyAwareApplication(
        routes,
        config=settings,
        trusted_proxies=settings.trusted_proxies,
        services=services,
        hub=hub,
        metrics_registry=dashboard_registry(hub),
        jinja_env=make_environment(TEMPLATE_DIR),
        authenticator=authenticator,
        sessions=sessions,
        login_throttle=LoginThrottle(),
        # Sessions live in this process's memory, so a key made here loses nothing on restart.
        cookie_secret=secrets.token_hex(32),
        login_url="/login",
        xsrf_cookies=True,
        xsrf_cookie_kwargs={"httponly": True, "samesite": "Lax"},
        cross_origin_protection=True,
        static_path=str(STATIC_DIR),
        static_handler_class=StaticFiles,
        default_handler_class=NotFoundPage,
        log_function=log_request,
        transforms=[NoServerVersion],
        websocket_ping_interval=20,
        websocket_ping_timeout=20,
    )


def close_app(app: tornado.web.Application) -> None:
    """Stop the live feed and the session sweeper, release the HTTP client and the hashing threads."""
    app.settings["hub"].stop()
    app.settings["sessions"].stop()
    app.settings["services"].close()
    app.settings["authenticator"].close()
