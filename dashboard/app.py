"""``make_app(settings)``: the dashboard as a Tornado application.

Shared objects live in ``Application.settings``: ``config`` (``DashboardSettings``),
``services`` (the PMS and CRM clients), ``hub`` (the live feed), ``jinja_env`` and
``login_throttle``. Templates come from ``templates/``, assets from ``static/`` with
versioned URLs.
"""

from __future__ import annotations

import tornado.web

from core.config import REPO_ROOT
from core.handlers import log_request
from core.response_headers import NoServerVersion

from .clients import Services
from .config import DashboardSettings
from .handlers import auth, deliveries, events, live, overview, profiles, rejections
from .handlers.base import PageHandler
from .live import Hub
from .session import LoginThrottle, cookie_secret_for
from .views import make_environment

TEMPLATE_DIR = REPO_ROOT / "templates"
STATIC_DIR = REPO_ROOT / "static"


class NotFoundPage(PageHandler):
    requires_login = False

    def prepare(self):
        super().prepare()
        raise tornado.web.HTTPError(404)


def make_app(settings: DashboardSettings, services: Services | None = None,
             hub: Hub | None = None) -> tornado.web.Application:
    services = services or Services.from_settings(settings)
    hub = hub or Hub(services, settings.poll_seconds, linger=settings.live_linger_seconds)
    routes = [
        *auth.default_handlers,
        *overview.default_handlers,
        *events.default_handlers,
        *profiles.default_handlers,
        *deliveries.default_handlers,
        *rejections.default_handlers,
        *live.default_handlers,
    ]
    return tornado.web.Application(
        routes,
        config=settings,
        services=services,
        hub=hub,
        jinja_env=make_environment(TEMPLATE_DIR),
        login_throttle=LoginThrottle(),
        cookie_secret=cookie_secret_for(settings.token),
        login_url="/login",
        xsrf_cookies=True,
        xsrf_cookie_kwargs={"httponly": True, "samesite": "Lax"},
        cross_origin_protection=True,
        static_path=str(STATIC_DIR),
        default_handler_class=NotFoundPage,
        log_function=log_request,
        transforms=[NoServerVersion],
        websocket_ping_interval=20,
        websocket_ping_timeout=20,
    )
