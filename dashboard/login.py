"""Who may sign in: the named operators of the users file, and ``ops`` with ``DASHBOARD_TOKEN``.

``Authenticator.check(username, password)`` answers with the operator's ``Identity`` or
``None``. An empty user name or ``ops`` with the token signs in as ``ops``; any other name is
checked against its scrypt hash, on a small thread pool so the IOLoop never computes one.
An unknown name is checked against a dummy hash of the same cost, so a wrong name and a wrong
password take the same time.

An identity carries the credential it was proven with (the password hash, or a marker for the
token). ``is_current`` tells whether that credential still stands: a session whose operator was
removed, or whose password changed since, is no longer valid.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from .passwords import DUMMY_HASH, verify_password
from .users import TOKEN_USER, UserDirectory

MAX_PASSWORD_CHARS = 1024
TOKEN_CREDENTIAL = "token"


def token_matches(given: str, expected: str) -> bool:
    """Constant-time comparison of the whole token (no hint about which part differs)."""
    return hmac.compare_digest(hashlib.sha256(given.encode()).digest(), hashlib.sha256(expected.encode()).digest())


@dataclass(frozen=True)
class Identity:
    name: str
    credential: str


class Authenticator:
    def __init__(self, token: str, users: UserDirectory, threads: int = 2):
        self._token = token
        self.users = users
        # Each scrypt check holds 32 MiB for ~0.1 s; two at a time bounds both memory and CPU.
        self._executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="dashboard-password")

    @staticmethod
    def normalise(username: str) -> str:
        return (username or "").strip().lower()

    async def check(self, username: str, password: str) -> Identity | None:
        name = self.normalise(username)
        password = password or ""
        if name in ("", TOKEN_USER):
            if password and token_matches(password.strip(), self._token):
                return Identity(TOKEN_USER, TOKEN_CREDENTIAL)
            return None
        known = self.users.password_hash(name)
        usable = known is not None and 0 < len(password) <= MAX_PASSWORD_CHARS
        candidate = password[:MAX_PASSWORD_CHARS]
        matched = await asyncio.get_running_loop().run_in_executor(
            self._executor, verify_password, candidate, known if usable else DUMMY_HASH
        )
        if matched and usable:
            return Identity(name, known)
        return None

    def is_current(self, name: str, credential: str) -> bool:
        """Whether a sign-in made with ``credential`` still stands for ``name``."""
        if name == TOKEN_USER:
            return credential == TOKEN_CREDENTIAL
        current = self.users.password_hash(name)
        return current is not None and hmac.compare_digest(current, credential)

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
