"""The operators file (``DASHBOARD_USERS_FILE``): ``name:hash`` lines, read and written safely.

``read_users``/``write_users`` own the format: one ``name:hash`` line per operator; blank lines
and ``#`` comments are kept when the file is rewritten; a malformed line is reported and
skipped, never fatal. Writes are atomic (a temporary file in the same folder, then a rename)
and leave the file with mode 0600, keeping its owner when the writer may.

``UserDirectory`` is the running dashboard's view of the file: each lookup checks the file's
identity (inode, size, modification time: one ``stat``) and re-reads it only when that changed,
so a password changed or a user removed from the command line takes effect on the next request.
"""

from __future__ import annotations

import logging
import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from .passwords import InvalidHash, parse_hash

log = logging.getLogger("guestsync.dashboard.users")

NAME_PATTERN = re.compile(r"[a-z0-9._-]{1,64}")
TOKEN_USER = "ops"  # reserved: the DASHBOARD_TOKEN login signs in under this name


class UsersFileError(Exception):
    """The users file cannot be read or written (the message says why, for the operator)."""


def name_problem(name: str) -> str | None:
    """Why ``name`` cannot be an operator's name, or ``None`` when it can."""
    if not NAME_PATTERN.fullmatch(name):
        return "a user name is 1 to 64 characters from a-z, 0-9, '.', '_' and '-'"
    if name == TOKEN_USER:
        return f"'{TOKEN_USER}' is reserved for the DASHBOARD_TOKEN login"
    return None


@dataclass
class UsersFile:
    """The parsed file: the operators in file order, plus the lines that are not operators."""

    users: dict[str, str] = field(default_factory=dict)  # name -> hash
    lines: list[str | tuple[str]] = field(default_factory=list)  # raw text, or (name,) for a user line
    problems: list[str] = field(default_factory=list)

    def set(self, name: str, password_hash: str) -> bool:
        """Add or replace ``name``; ``True`` when the user is new."""
        new = name not in self.users
        self.users[name] = password_hash
        if new:
            self.lines.append((name,))
        return new

    def remove(self, name: str) -> bool:
        if name not in self.users:
            return False
        del self.users[name]
        self.lines = [line for line in self.lines if line != (name,)]
        return True

    def render(self) -> str:
        out = []
        for line in self.lines:
            out.append(f"{line[0]}:{self.users[line[0]]}" if isinstance(line, tuple) else line)
        return "".join(text + "\n" for text in out)


def parse_users(text: str) -> UsersFile:
    parsed = UsersFile()
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            parsed.lines.append(raw)
            continue
        name, sep, password_hash = line.partition(":")
        problem = None
        if not sep:
            problem = "expected name:hash"
        elif name_problem(name):
            problem = name_problem(name)
        elif name in parsed.users:
            problem = f"{name} appears twice; the first line counts"
        else:
            try:
                parse_hash(password_hash)
            except InvalidHash as exc:
                problem = str(exc)
        if problem:
            parsed.problems.append(f"line {number}: {problem}")
            # Kept commented out, so that rewriting the file does not silently drop it.
            parsed.lines.append(raw if raw.startswith("#") else "# invalid: " + raw)
            continue
        parsed.users[name] = password_hash
        parsed.lines.append((name,))
    return parsed


def read_users(path: Path) -> UsersFile:
    """The file's operators; an absent file has none."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return UsersFile()
    except (OSError, UnicodeDecodeError) as exc:
        raise UsersFileError(f"cannot read {path}: {exc}") from None
    return parse_users(text)


def write_users(path: Path, users: UsersFile) -> None:
    """Replace the file atomically with mode 0600 (readers see the old or the new file, whole)."""
    folder = path.parent
    if not folder.is_dir():
        raise UsersFileError(f"the folder {folder} does not exist")
    try:
        before = path.stat()
    except FileNotFoundError:
        before = None
    try:
        fd, temp = tempfile.mkstemp(prefix=".users.", suffix=".tmp", dir=folder)  # created 0600
    except OSError as exc:
        raise UsersFileError(f"cannot write in {folder}: {exc.strerror or exc}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(users.render())
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp, 0o600)
        if before is not None:
            # An administrator running the command as root must not leave a file the
            # dashboard's own user can no longer read.
            try:
                os.chown(temp, before.st_uid, before.st_gid)
            except PermissionError:
                pass
        os.replace(temp, path)
    except OSError as exc:
        try:
            os.unlink(temp)
        except OSError:
            pass
        raise UsersFileError(f"cannot write {path}: {exc}") from None
    try:
        dir_fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(dir_fd)  # the rename itself survives a crash
        finally:
            os.close(dir_fd)
    except OSError:
        pass


_UNREAD = object()


class UserDirectory:
    """The operators of the users file as the running dashboard sees them, re-read on change."""

    def __init__(self, path: Path):
        self.path = path
        self._identity: object = _UNREAD
        self._users: dict[str, str] = {}

    def _stat_identity(self) -> tuple | None:
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            return None
        except OSError as exc:
            return ("error", str(exc))
        # A rewrite is a rename, so the inode changes even when size and time do not.
        return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)

    def refresh(self) -> None:
        identity = self._stat_identity()
        if identity == self._identity:
            return
        self._identity = identity
        if identity is None:
            self._users = {}
            return
        try:
            parsed = read_users(self.path)
        except UsersFileError as exc:
            # Fail closed: a file that cannot be read signs no named operator in.
            log.error("%s; named operators cannot sign in until it is readable", exc)
            self._users = {}
            return
        for problem in parsed.problems:
            log.warning("users file %s: %s (ignored)", self.path, problem)
        self._users = parsed.users
        log.info("users file %s: %d operator(s)", self.path, len(self._users))

    def password_hash(self, name: str) -> str | None:
        """The current hash of ``name``, or ``None`` when there is no such operator."""
        self.refresh()
        return self._users.get(name)
