"""Operator passwords, the users file, and ``python -m dashboard users``."""

from __future__ import annotations

import io
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from dashboard import users_cli
from dashboard.config import DashboardSettings, users_file_path
from dashboard.passwords import DUMMY_HASH, InvalidHash, ScryptParams, hash_password, parse_hash, verify_password
from dashboard.users import UserDirectory, parse_users, read_users, write_users

from .support import CHEAP, add_operator

ROOT = Path(__file__).resolve().parents[2]


# --- password hashes ---------------------------------------------------------------------


def test_a_hash_is_salted_slow_and_says_how_it_was_made():
    first, second = hash_password("correct horse battery"), hash_password("correct horse battery")
    assert first != second  # a fresh salt each time
    assert first.startswith("scrypt$n=32768,r=8,p=1$")  # the cost travels with the hash
    assert "correct horse" not in first
    assert verify_password("correct horse battery", first)
    assert not verify_password("correct horse batterY", first)
    assert not verify_password("", first)


def test_hashes_made_with_other_parameters_still_verify():
    for params in (CHEAP, ScryptParams(n=2**12, r=4, p=2)):
        encoded = hash_password("pw", params)
        assert parse_hash(encoded)[0] == params
        assert verify_password("pw", encoded) and not verify_password("pW", encoded)


@pytest.mark.parametrize(
    "encoded",
    [
        "",
        "plain",
        "scrypt$n=32768,r=8,p=1$c2FsdA$",
        "bcrypt$2b$12$abc",
        "scrypt$n=3,r=8,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",  # not a power of two
        # far too costly
        "scrypt$n=1073741824,r=8,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "scrypt$n=1024,r=999,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    ],
)
def test_malformed_or_dangerous_hashes_never_verify(encoded):
    with pytest.raises(InvalidHash):
        parse_hash(encoded)
    assert not verify_password("anything", encoded)


def test_the_dummy_hash_has_the_production_cost_and_matches_nothing():
    assert parse_hash(DUMMY_HASH)[0] == ScryptParams()
    assert not verify_password("", DUMMY_HASH)


# --- the file ------------------------------------------------------------------------------


def test_the_file_keeps_comments_and_reports_bad_lines_without_dropping_them():
    good = hash_password("pw", CHEAP)
    text = f"# ops team\nalice:{good}\n\nBob:{good}\ncarol\ndave:not-a-hash\nalice:{good}\nops:{good}\n"
    parsed = parse_users(text)
    assert list(parsed.users) == ["alice"]
    assert len(parsed.problems) == 5
    assert all(p.startswith("line ") for p in parsed.problems)
    rendered = parsed.render()
    assert rendered.startswith(f"# ops team\nalice:{good}\n\n# invalid: Bob:")
    assert parse_users(rendered).users == parsed.users and not parse_users(rendered).problems


def test_writing_is_atomic_private_and_keeps_order(tmp_path):
    path = tmp_path / "users.txt"
    path.write_text("# keep me\n")
    path.chmod(0o644)
    users = read_users(path)
    users.set("bob", hash_password("b", CHEAP))
    users.set("alice", hash_password("a", CHEAP))
    write_users(path, users)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [line.split(":")[0] for line in path.read_text().splitlines()] == ["# keep me", "bob", "alice"]
    assert sorted(os.listdir(tmp_path)) == ["users.txt"]  # no temporary file left behind


def test_the_directory_notices_every_change_even_of_the_same_size(tmp_path):
    path = tmp_path / "users.txt"
    directory = UserDirectory(path)
    assert directory.password_hash("alice") is None  # no file: no operators
    add_operator(path, "alice", "first password")
    first = directory.password_hash("alice")
    assert first
    add_operator(path, "alice", "other password")  # same length, maybe the same mtime
    second = directory.password_hash("alice")
    assert second and second != first
    path.unlink()
    assert directory.password_hash("alice") is None


def test_the_directory_reads_the_file_only_when_it_changed(tmp_path, monkeypatch):
    path = tmp_path / "users.txt"
    add_operator(path, "alice", "first password")
    directory = UserDirectory(path)
    reads = []
    original = Path.read_text
    monkeypatch.setattr(Path, "read_text", lambda self, *a, **k: (reads.append(self), original(self, *a, **k))[1])
    for _ in range(100):
        assert directory.password_hash("alice")
    assert len(reads) == 1


def test_a_file_that_cannot_be_read_signs_no_operator_in(tmp_path):
    path = tmp_path / "users.txt"
    add_operator(path, "alice", "first password")
    directory = UserDirectory(path)
    assert directory.password_hash("alice")
    good = path.read_bytes()
    path.write_bytes(good + b"\xff\xfe not text\n")  # not UTF-8
    assert directory.password_hash("alice") is None
    path.unlink()
    path.mkdir()  # not a file
    assert directory.password_hash("alice") is None


def test_the_setting_is_relative_to_the_repository(tmp_path):
    assert users_file_path(None) == ROOT / "dashboard" / "users.txt"
    assert DashboardSettings.from_env({"ENV_FILE": os.devnull}).users_file == ROOT / "dashboard" / "users.txt"
    assert users_file_path("ops/users.txt") == ROOT / "ops" / "users.txt"
    assert users_file_path(str(tmp_path / "u")) == tmp_path / "u"
    settings = DashboardSettings.from_env(
        {
            "ENV_FILE": os.devnull,
            "DASHBOARD_USERS_FILE": str(tmp_path / "u"),
            "DASHBOARD_SESSION_IDLE_HOURS": "2",
            "DASHBOARD_SESSION_MAX_DAYS": "1.5",
        }
    )
    assert settings.users_file == tmp_path / "u"
    assert (settings.session_idle_seconds, settings.session_max_seconds) == (7200, 129600)


def test_the_users_file_is_never_committed():
    assert "dashboard/users.txt" in (ROOT / ".gitignore").read_text().splitlines()


# --- the command -----------------------------------------------------------------------------


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def run(path: Path, *argv: str, tty: bool = False, answers: tuple[str, ...] = ()) -> tuple[int, str]:
    out = io.StringIO()
    replies = iter(answers)
    code = users_cli.main(
        list(argv), path, stdin=Terminal() if tty else io.StringIO(), out=out, prompt=lambda _prompt: next(replies)
    )
    return code, out.getvalue()


def test_add_at_a_terminal_asks_twice_and_stores_only_a_hash(tmp_path, capsys):
    path = tmp_path / "users.txt"
    code, out = run(path, "add", "alice", tty=True, answers=("correct horse battery",) * 2)
    assert code == 0 and "added alice" in out
    assert "correct horse" not in path.read_text() and "correct horse" not in out
    assert verify_password("correct horse battery", read_users(path).users["alice"])
    code, out = run(path, "add", "alice", tty=True, answers=("another password!", "another password!"))
    assert code == 0 and "changed the password of alice" in out
    assert verify_password("another password!", read_users(path).users["alice"])
    assert list(read_users(path).users) == ["alice"]


@pytest.mark.parametrize(
    "answers, message",
    [
        (("correct horse battery", "correct horse batterY"), "the two passwords differ"),
        (("short", "short"), "at least 12 characters"),
    ],
)
def test_add_refuses_a_bad_password_and_changes_nothing(tmp_path, capsys, answers, message):
    path = tmp_path / "users.txt"
    code, _ = run(path, "add", "alice", tty=True, answers=answers)
    assert code == 1 and message in capsys.readouterr().err
    assert not path.exists()


@pytest.mark.parametrize("argv", [("add", "bob", "--generate"), ("add", "bob")])
def test_add_generates_and_prints_a_password_once_with_generate_or_without_a_terminal(tmp_path, argv):
    path = tmp_path / "users.txt"
    code, out = run(path, *argv, tty="--generate" in argv)
    assert code == 0
    printed = [line for line in out.splitlines() if line.startswith("password for bob")]
    assert len(printed) == 1
    password = printed[0].rsplit(": ", 1)[1]
    assert len(password) >= 20 and out.count(password) == 1
    assert verify_password(password, read_users(path).users["bob"])


@pytest.mark.parametrize(
    "name, message",
    [
        ("ops", "reserved"),
        ("Alice", "a-z"),
        ("al ice", "a-z"),
        ("a:b", "a-z"),
        ("", "a-z"),
        ("x" * 65, "a-z"),
    ],
)
def test_add_refuses_bad_names(tmp_path, capsys, name, message):
    code, _ = run(tmp_path / "users.txt", "add", name)
    assert code == 1 and message in capsys.readouterr().err
    assert not (tmp_path / "users.txt").exists()


def test_remove_and_list(tmp_path, capsys):
    path = tmp_path / "users.txt"
    assert run(path, "list") == (0, f"no operators in {path} (only the DASHBOARD_TOKEN login as ops works)\n")
    add_operator(path, "alice", "a")
    add_operator(path, "bob", "b")
    assert run(path, "list") == (0, "alice\nbob\n")
    code, out = run(path, "remove", "alice")
    assert code == 0 and "removed alice" in out
    assert run(path, "list") == (0, "bob\n")
    code, _ = run(path, "remove", "alice")
    assert code == 1 and "no operator 'alice'" in capsys.readouterr().err


def test_a_missing_folder_is_a_clear_error(tmp_path, capsys):
    code, _ = run(tmp_path / "nowhere" / "users.txt", "add", "alice")
    assert code == 1 and "does not exist" in capsys.readouterr().err


def test_the_command_as_a_process(tmp_path):
    env = {
        **os.environ,
        "ENV_FILE": os.devnull,
        "PYTHONPATH": str(ROOT),
        "DASHBOARD_USERS_FILE": str(tmp_path / "users.txt"),
    }

    def dashboard(*argv: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "dashboard", *argv],
            cwd=tmp_path,
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=60,
        )

    added = dashboard("users", "add", "alice")
    assert added.returncode == 0, added.stderr
    password = added.stdout.split("password for alice (shown only now): ", 1)[1].strip()
    assert verify_password(password, read_users(tmp_path / "users.txt").users["alice"])
    assert dashboard("users", "list").stdout == "alice\n"
    assert stat.S_IMODE((tmp_path / "users.txt").stat().st_mode) == 0o600
    assert dashboard("users", "remove", "nobody").returncode == 1
    assert dashboard("users", "frobnicate").returncode == 2
    assert dashboard("users").returncode == 2
    assert dashboard("nonsense").returncode == 2
    assert dashboard("users", "remove", "alice").returncode == 0
    assert dashboard("users", "list").stdout.startswith("no operators")


def test_a_folder_it_may_not_write_in_is_a_clear_error(tmp_path, capsys, monkeypatch):
    def refused(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr("dashboard.users.tempfile.mkstemp", refused)
    code, _ = run(tmp_path / "users.txt", "add", "alice")
    err = capsys.readouterr().err
    assert code == 1 and "cannot write in" in err and "Permission denied" in err
    assert not (tmp_path / "users.txt").exists()
