"""Generated request ids: the documented shape, and never the same twice (also across a fork)."""

import os
import re

from core.request_ids import new_request_id


def test_ids_are_32_hex_characters_and_distinct():
    ids = [new_request_id() for _ in range(1000)]
    assert all(re.fullmatch(r"[0-9a-f]{32}", i) for i in ids)
    assert len(set(ids)) == len(ids)


def test_a_forked_child_does_not_repeat_its_parents_ids():
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report its next id and leave at once
        os.write(write, new_request_id().encode())
        os._exit(0)
    os.close(write)
    child_id = os.read(read, 64).decode()
    os.waitpid(pid, 0)
    os.close(read)
    assert len(child_id) == 32 and child_id[:16] != new_request_id()[:16]
