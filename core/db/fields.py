"""Column types every service's models share, the same on SQLite, MySQL and MariaDB."""

from __future__ import annotations

import json

import peewee


class IdField(peewee.BigAutoField):
    """Auto-increment primary key whose values are never reused (AUTOINCREMENT on SQLite).

    SQLite's plain ``INTEGER PRIMARY KEY`` hands a deleted maximum id out again; a reused guest
    id would collide with the CRM's tombstone of the deleted guest.
    """

    def ddl(self, ctx):
        node_list = super().ddl(ctx)
        if ctx.state.field_types.get("BIGAUTO") == "INTEGER":  # SQLite
            return peewee.NodeList((node_list, peewee.SQL("AUTOINCREMENT")))
        return node_list


class UtcDateTimeField(peewee.DateTimeField):
    """Naive-UTC datetime with microseconds on every backend."""

    field_type = "DATETIME(6)"


class JSONTextField(peewee.TextField):
    """JSON stored as text (LONGTEXT on MySQL), portable across SQLite, MySQL and MariaDB."""

    field_type = "LONGTEXT"

    def db_value(self, value):
        if value is None:
            return None
        # allow_nan=False: a stored NaN/Infinity would be served back as text that is not JSON.
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)

    def python_value(self, value):
        if value is None or value == "":
            return None
        return json.loads(value)
