"""Server-side sessions of the dashboard: one random id per sign-in, revocable at once.

The browser holds only the session id (in a signed cookie, see ``session.py``); what the id
means lives here, in the dashboard process's memory. So signing out really ends the session,
and a restart of the dashboard signs everyone out (there is one dashboard process).

A session ends when:
- it is revoked (sign-out, or a new sign-in from the same browser);
- it was idle longer than ``idle_seconds`` (no page request; an open live feed alone does not
  keep it alive) or is older than ``max_age_seconds``;
- ``is_current(session)`` says its credential no longer stands (operator removed, password
  changed).

``get`` checks all of that on every request. Long-lived connections (the live feed) ``watch``
their session: the callback runs when it is revoked, and while anything is watched a sweep
every ``sweep_seconds`` re-checks the watched sessions (a users file changed from the command
line is noticed within that time). At most ``max_sessions`` are kept; past that the least
recently used one is dropped.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections import OrderedDict
from dataclasses import dataclass
from collections.abc import Callable

log = logging.getLogger("guestsync.dashboard.sessions")


@dataclass
class Session:
    id: str
    user: str
    credential: str
    created: float
    last_seen: float


class SessionStore:
    def __init__(
        self,
        idle_seconds: float = 12 * 3600,
        max_age_seconds: float = 7 * 86400,
        is_current: Callable[[Session], bool] = lambda session: True,
        clock: Callable[[], float] = time.monotonic,
        max_sessions: int = 10_000,
        sweep_seconds: float = 1.0,
    ):
        self.idle_seconds = idle_seconds
        self.max_age_seconds = max_age_seconds
        self.is_current = is_current
        self.clock = clock
        self.max_sessions = max_sessions
        self.sweep_seconds = sweep_seconds
        self._sessions: OrderedDict[str, Session] = OrderedDict()  # least recently used first
        self._watchers: dict[str, set[Callable[[], None]]] = {}
        self._sweeper: asyncio.Task | None = None

    def __len__(self) -> int:
        return len(self._sessions)

    def start(self, user: str, credential: str) -> Session:
        now = self.clock()
        session = Session(secrets.token_urlsafe(32), user, credential, now, now)
        self._sessions[session.id] = session
        if len(self._sessions) > self.max_sessions:
            self.sweep()
        while len(self._sessions) > self.max_sessions:
            oldest = next(iter(self._sessions))
            log.warning("more than %d sessions; ending the least recently used", self.max_sessions)
            self.revoke(oldest)
        return session

    def _problem(self, session: Session, now: float) -> str | None:
        if now - session.last_seen > self.idle_seconds:
            return "idle too long"
        if now - session.created > self.max_age_seconds:
            return "too old"
        if not self.is_current(session):
            return "credential changed or operator removed"
        return None

    def get(self, session_id: str | None, touch: bool = True) -> Session | None:
        """The valid session with this id (its idle time restarts when ``touch``), else ``None``."""
        session = self._sessions.get(session_id) if session_id else None
        if session is None:
            return None
        now = self.clock()
        problem = self._problem(session, now)
        if problem:
            log.info("session of %s ended: %s", session.user, problem)
            self.revoke(session.id)
            return None
        if touch:
            session.last_seen = now
            self._sessions.move_to_end(session.id)
        return session

    def revoke(self, session_id: str) -> None:
        self._sessions.pop(session_id, None)
        for callback in self._watchers.pop(session_id, ()):
            try:
                callback()
            except Exception:  # one broken watcher must not keep the others open
                log.exception("a session watcher failed")

    def revoke_user(self, user: str) -> int:
        ids = [s.id for s in self._sessions.values() if s.user == user]
        for session_id in ids:
            self.revoke(session_id)
        return len(ids)

    def sweep(self) -> None:
        """End every session that is no longer valid (its watchers are told)."""
        now = self.clock()
        for session in list(self._sessions.values()):
            problem = self._problem(session, now)
            if problem:
                log.info("session of %s ended: %s", session.user, problem)
                self.revoke(session.id)

    # --- long-lived connections -------------------------------------------------------

    def watch(self, session_id: str, callback: Callable[[], None]) -> None:
        self._watchers.setdefault(session_id, set()).add(callback)
        if self._sweeper is None or self._sweeper.done():
            self._sweeper = asyncio.get_running_loop().create_task(self._sweep_while_watched())

    def unwatch(self, session_id: str, callback: Callable[[], None]) -> None:
        callbacks = self._watchers.get(session_id)
        if callbacks is not None:
            callbacks.discard(callback)
            if not callbacks:
                del self._watchers[session_id]

    async def _sweep_while_watched(self) -> None:
        while self._watchers:
            await asyncio.sleep(self.sweep_seconds)
            try:
                for session_id in list(self._watchers):
                    if self.get(session_id, touch=False) is None:
                        self.revoke(session_id)  # already gone: its watchers still need telling
            except Exception:
                log.exception("session sweep failed")

    def stop(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
            self._sweeper = None
