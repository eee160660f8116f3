"""Plain SQL statements kept in a ``.sql`` file, by name, for hot paths where building the
query with peewee costs more than running it.

A statements file holds blocks like::

    -- name: recorded_webhook_ids
    -- The webhook ids among the given ones that the audit log already holds.
    SELECT `webhook_id` FROM `event` WHERE `webhook_id` IN ({ids})

Identifiers are quoted with backticks (MySQL/MariaDB and SQLite both read them), values are
``%s`` placeholders, ``{name}`` marks a list of placeholders sized when the statement is
rendered, and ``{for_update}`` becomes ``FOR UPDATE`` on MySQL/MariaDB and nothing on SQLite
(whose IMMEDIATE transactions already serialise writers). Statements run through the
database's ``execute_sql``, so driver errors arrive as peewee's exceptions
(``IntegrityError``, ``OperationalError``...) exactly as from a peewee query.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from pathlib import Path

import peewee

from .db import is_mysql

_HEADER = re.compile(r"^-- name: (\w+)\s*$", re.MULTILINE)


class Statements:
    """The named statements of one file, rendered per backend and list sizes (and cached)."""

    def __init__(self, path: str | Path):
        text = Path(path).read_text()
        parts = _HEADER.split(text)[1:]
        self.templates: dict[str, str] = {}
        self.descriptions: dict[str, str] = {}
        for name, block in zip(parts[::2], parts[1::2], strict=True):
            lines = block.strip().splitlines()
            self.descriptions[name] = " ".join(line[2:].strip() for line in lines if line.startswith("--"))
            self.templates[name] = " ".join(
                line.strip() for line in lines if line.strip() and not line.startswith("--")
            )

    def execute(self, database: peewee.Database, name: str, params: Sequence = (), **lists: int):
        """Run statement ``name``; ``lists`` gives the length of each ``{list}`` in it."""
        database = getattr(database, "obj", database)
        sql = self._render(name, is_mysql(database), database.param, tuple(sorted(lists.items())))
        return database.execute_sql(sql, params)

    # The instances live as long as the process (one per statements file), so caching on the
    # method keeps nothing alive that would otherwise be freed.
    @functools.lru_cache(maxsize=1024)  # noqa: B019
    def _render(self, name: str, mysql: bool, param: str, lists: tuple[tuple[str, int], ...]) -> str:
        template = self.templates[name].replace("%s", param)
        values = {key: ", ".join([param] * size) for key, size in lists}
        values["for_update"] = "FOR UPDATE" if mysql else ""
        return template.format(**values).strip()


def model_rows(model: type[peewee.Model], cursor) -> list[peewee.Model]:
    """Model instances from a plain SQL result (its columns named as the model's), each value
    passed through its field's ``python_value`` as a peewee select would (dates stored as text
    on SQLite, booleans stored as integers, JSON text...)."""
    fields = [model._meta.columns[column[0]] for column in cursor.description]
    rows = []
    for values in cursor.fetchall():
        row = model(__no_default__=1, **{f.name: f.python_value(v) for f, v in zip(fields, values, strict=True)})
        row._dirty.clear()  # type: ignore[attr-defined]  # peewee's own bookkeeping, not in its hints
        rows.append(row)
    return rows
