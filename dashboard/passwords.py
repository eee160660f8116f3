"""Operator password hashes: salted, slow, self-describing, compared in constant time.

A hash is one string ``scrypt$n=32768,r=8,p=1$<salt>$<key>`` (salt and key in unpadded
base64). The cost parameters travel with each hash, so they can be raised later: new and
changed passwords get the new cost, and existing hashes keep verifying with their own.
The standard library's ``hashlib.scrypt`` does the work; no dependency is needed.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
from dataclasses import dataclass

SCHEME = "scrypt"
SALT_BYTES = 16
KEY_BYTES = 32

# Upper bounds for parameters read from a hash, so that a hand-edited users file cannot make
# one sign-in allocate gigabytes or run for minutes.
MAX_LOG2_N = 20
MAX_R = 32
MAX_P = 16

_FORMAT = re.compile(r"^scrypt\$n=(\d{1,8}),r=(\d{1,3}),p=(\d{1,3})\$([A-Za-z0-9+/]{8,128})\$([A-Za-z0-9+/]{16,256})$")


@dataclass(frozen=True)
class ScryptParams:
    n: int = 2**15  # 32 MiB of memory and roughly 0.1 s of one core per hash
    r: int = 8
    p: int = 1

    def validate(self) -> None:
        if self.n < 2 or self.n & (self.n - 1) or self.n > 2**MAX_LOG2_N:
            raise ValueError(f"scrypt n must be a power of two up to 2**{MAX_LOG2_N}")
        if not 1 <= self.r <= MAX_R or not 1 <= self.p <= MAX_P:
            raise ValueError(f"scrypt r must be 1..{MAX_R} and p 1..{MAX_P}")

    @property
    def maxmem(self) -> int:
        # scrypt needs 128 * r * n bytes for its table plus 128 * r * p for the blocks;
        # hashlib refuses anything above maxmem, whose default (32 MiB) is just too small.
        return 128 * self.r * (self.n + self.p) + 1024 * 1024


DEFAULT_PARAMS = ScryptParams()


class InvalidHash(ValueError):
    """The string is not a password hash this module can verify."""


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)


def _derive(password: str, salt: bytes, params: ScryptParams, length: int) -> bytes:
    return hashlib.scrypt(
        password.encode("utf-8"), salt=salt, n=params.n, r=params.r, p=params.p, maxmem=params.maxmem, dklen=length
    )


def hash_password(password: str, params: ScryptParams = DEFAULT_PARAMS) -> str:
    """A new hash of ``password`` with a fresh random salt."""
    params.validate()
    salt = os.urandom(SALT_BYTES)
    key = _derive(password, salt, params, KEY_BYTES)
    return f"{SCHEME}$n={params.n},r={params.r},p={params.p}${_b64(salt)}${_b64(key)}"


def parse_hash(encoded: str) -> tuple[ScryptParams, bytes, bytes]:
    """The parameters, salt and key of a hash; ``InvalidHash`` when it is not one."""
    match = _FORMAT.match(encoded)
    if not match:
        raise InvalidHash("not an scrypt hash of the form scrypt$n=N,r=R,p=P$salt$key")
    params = ScryptParams(int(match[1]), int(match[2]), int(match[3]))
    try:
        params.validate()
        return params, _unb64(match[4]), _unb64(match[5])
    except ValueError as exc:
        raise InvalidHash(str(exc)) from None


def verify_password(password: str, encoded: str) -> bool:
    """Whether ``password`` matches ``encoded``; a malformed hash never matches."""
    try:
        params, salt, key = parse_hash(encoded)
    except InvalidHash:
        return False
    return hmac.compare_digest(_derive(password, salt, params, len(key)), key)


# Verified against when the user name is unknown, so that a wrong name costs the same time as a
# wrong password (the answer time does not tell which names exist). Its key matches no password.
DUMMY_HASH = (
    f"{SCHEME}$n={DEFAULT_PARAMS.n},r={DEFAULT_PARAMS.r},p={DEFAULT_PARAMS.p}"
    f"${_b64(bytes(SALT_BYTES))}${_b64(bytes(KEY_BYTES))}"
)
