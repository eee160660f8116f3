"""The session cookie: how a browser carries its server-side session id.

The cookie holds only the random id of a ``SessionStore`` session, signed with a key made
fresh for each dashboard process (sessions live in that process's memory anyway, so nothing
outlives a restart). It is HttpOnly, SameSite=Lax, ``Secure`` when the request came over HTTPS,
and has no expiry of its own: the server decides how long the session lasts.
"""

from __future__ import annotations

import math

from tornado.web import RequestHandler

from .session_store import Session, SessionStore

SESSION_COOKIE = "gs_session"


def _cookie_flags(handler: RequestHandler) -> dict:
    return {"httponly": True, "samesite": "Lax", "secure": handler.request.protocol == "https"}


def session_id_of(handler: RequestHandler, store: SessionStore) -> str | None:
    max_age_days = max(1, math.ceil(store.max_age_seconds / 86400))
    value = handler.get_signed_cookie(SESSION_COOKIE, max_age_days=max_age_days)
    return value.decode("ascii", "replace") if value else None


def current_session(handler: RequestHandler, store: SessionStore) -> Session | None:
    return store.get(session_id_of(handler, store))


def start_session(handler: RequestHandler, store: SessionStore, user: str, credential: str) -> Session:
    """A new session for ``user`` (ending the one this browser had, so ids are never reused)."""
    previous = session_id_of(handler, store)
    if previous:
        store.revoke(previous)
    session = store.start(user, credential)
    handler.set_signed_cookie(SESSION_COOKIE, session.id, expires_days=None, **_cookie_flags(handler))
    return session


def end_session(handler: RequestHandler, store: SessionStore) -> None:
    session_id = session_id_of(handler, store)
    if session_id:
        store.revoke(session_id)
    handler.clear_cookie(SESSION_COOKIE, **_cookie_flags(handler))
