"""Server-side sessions on a fake clock, and the authenticator that decides who may sign in."""

from __future__ import annotations

import asyncio
import hashlib

import pytest

from dashboard import passwords
from dashboard.login import TOKEN_CREDENTIAL, Authenticator
from dashboard.session_store import SessionStore
from dashboard.users import UserDirectory, read_users, write_users

from .support import add_operator, remove_operator


def make(**options) -> tuple[SessionStore, list[float]]:
    now = [0.0]
    return SessionStore(clock=lambda: now[0], **options), now


def test_each_session_has_its_own_unguessable_id():
    store, _ = make()
    ids = {store.start("ops", TOKEN_CREDENTIAL).id for _ in range(1000)}
    assert len(ids) == 1000
    assert all(len(i) >= 43 for i in ids)  # 32 random bytes


def test_a_revoked_session_is_gone():
    store, _ = make()
    session = store.start("alice", "h")
    assert store.get(session.id).user == "alice"
    store.revoke(session.id)
    assert store.get(session.id) is None
    assert store.get("made-up") is None and store.get(None) is None


def test_idle_sessions_end_and_requests_keep_them_alive():
    store, now = make(idle_seconds=100, max_age_seconds=1000)
    session = store.start("alice", "h")
    now[0] = 99
    assert store.get(session.id) is not None
    now[0] = 198
    assert store.get(session.id, touch=False) is not None  # a check that is not a request
    now[0] = 200
    assert store.get(session.id) is None


def test_sessions_end_at_their_maximum_age_however_busy():
    store, now = make(idle_seconds=100, max_age_seconds=250)
    session = store.start("alice", "h")
    for t in (90, 180, 250):
        now[0] = t
        assert store.get(session.id) is not None
    now[0] = 251
    assert store.get(session.id) is None


def test_a_session_whose_credential_no_longer_stands_ends():
    valid = {"alice": "h1"}
    store, _ = make(is_current=lambda s: valid.get(s.user) == s.credential)
    session = store.start("alice", "h1")
    assert store.get(session.id)
    valid["alice"] = "h2"
    assert store.get(session.id) is None


def test_revoking_a_user_ends_all_their_sessions_only():
    store, _ = make()
    a1, a2, b = store.start("alice", "h"), store.start("alice", "h"), store.start("bob", "h")
    assert store.revoke_user("alice") == 2
    assert store.get(a1.id) is None and store.get(a2.id) is None and store.get(b.id)


def test_memory_is_bounded_dropping_the_least_recently_used():
    store, now = make(max_sessions=100)
    first = store.start("alice", "h")
    second = store.start("bob", "h")
    for _ in range(150):
        now[0] += 1
        store.get(first.id)  # in use
        store.start("someone", "h")
    assert len(store) == 100
    assert store.get(first.id) is not None
    assert store.get(second.id) is None


@pytest.mark.gen_test
async def test_watchers_hear_of_revocation_and_of_changes_found_by_the_sweep():
    valid = {"alice": "h1", "bob": "h1"}
    store = SessionStore(is_current=lambda s: valid.get(s.user) == s.credential, sweep_seconds=0.01)
    alice, bob = store.start("alice", "h1"), store.start("bob", "h1")
    ended = []
    store.watch(alice.id, lambda: ended.append("alice"))
    store.watch(bob.id, lambda: ended.append("bob"))
    store.revoke(alice.id)
    assert ended == ["alice"]
    valid["bob"] = "h2"  # changed elsewhere: only the sweep can notice
    deadline = asyncio.get_running_loop().time() + 5
    while ended != ["alice", "bob"]:
        assert asyncio.get_running_loop().time() < deadline, "the sweep did not end bob's session"
        await asyncio.sleep(0.01)
    store.stop()


# --- the authenticator -----------------------------------------------------------------


@pytest.fixture
def authenticator(tmp_path):
    auth = Authenticator("the-token", UserDirectory(tmp_path / "users.txt"))
    yield auth
    auth.close()


@pytest.mark.gen_test
async def test_the_token_signs_in_as_ops_and_only_with_no_name_or_ops(authenticator, tmp_path):
    add_operator(tmp_path / "users.txt", "alice", "alice's password")
    for name in ("", "ops", " Ops "):
        identity = await authenticator.check(name, "the-token")
        assert identity.name == "ops" and authenticator.is_current(identity.name, identity.credential)
    assert await authenticator.check("alice", "the-token") is None
    assert await authenticator.check("", "the-tokem") is None
    assert await authenticator.check("", "") is None


@pytest.mark.gen_test
async def test_an_operator_signs_in_until_their_password_changes_or_they_are_removed(authenticator, tmp_path):
    users_file = tmp_path / "users.txt"
    add_operator(users_file, "alice", "alice's password")
    identity = await authenticator.check("alice", "alice's password")
    assert identity.name == "alice"
    assert authenticator.is_current("alice", identity.credential)
    add_operator(users_file, "alice", "a new password")
    assert not authenticator.is_current("alice", identity.credential)
    assert await authenticator.check("alice", "alice's password") is None
    identity = await authenticator.check("alice", "a new password")
    remove_operator(users_file, "alice")
    assert not authenticator.is_current("alice", identity.credential)


@pytest.mark.gen_test
async def test_a_wrong_name_costs_the_same_hash_as_a_wrong_password(authenticator, tmp_path, monkeypatch):
    users_file = tmp_path / "users.txt"
    users = read_users(users_file)
    users.set("alice", passwords.hash_password("alice's password"))  # full production cost
    write_users(users_file, users)
    calls = []
    real = hashlib.scrypt

    def counting(password, **kwargs):
        calls.append((kwargs["n"], kwargs["r"], kwargs["p"], kwargs["dklen"]))
        return real(password, **kwargs)

    monkeypatch.setattr(passwords.hashlib, "scrypt", counting)
    for name, password in (("alice", "wrong"), ("nobody", "wrong"), ("alice", ""), ("alice", "x" * 5000)):
        calls.clear()
        assert await authenticator.check(name, password) is None
        assert calls == [(2**15, 8, 1, 32)], name
    calls.clear()
    assert (await authenticator.check("alice", "alice's password")).name == "alice"
    assert calls == [(2**15, 8, 1, 32)]
