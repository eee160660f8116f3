"""Request ids for requests that bring none: 32 hex characters, unique without asking the OS
for randomness per request.

Each process (and each forked child) draws a random 64-bit prefix once and counts requests
after it, so two processes, or two runs of one, do not hand out the same id. An id names a
request in logs and error bodies; it is not a secret and does not need to be unguessable.
"""

from __future__ import annotations

import itertools
import os


class _Ids:
    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.prefix = os.urandom(8).hex()
        self.counter = itertools.count(1)

    def next(self) -> str:
        return f"{self.prefix}{next(self.counter):016x}"


_ids = _Ids()
os.register_at_fork(after_in_child=_ids.reset)


def new_request_id() -> str:
    return _ids.next()
