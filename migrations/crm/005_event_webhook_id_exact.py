"""Compare webhook ids exactly on MySQL/MariaDB (binary, no-pad collation on event.webhook_id).

The server's default collation is case- and trailing-space-insensitive: two distinct webhook
ids differing only in case would count as one, and the second event would be answered
"duplicate" and lost. ``utf8mb4_bin`` still ignores trailing spaces (PAD SPACE), so the
no-pad binary collation of each server is used. SQLite already compares text exactly.
"""

import peewee as pw
from peewee_migrate import Migrator

from core.db import is_mysql


def exact_collation(database: pw.Database) -> str:
    version = database.execute_sql("SELECT VERSION()").fetchone()[0]
    return "utf8mb4_nopad_bin" if "mariadb" in version.lower() else "utf8mb4_0900_bin"


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    # ``fake``: peewee-migrate replays migrations to rebuild its model state (with a mocked
    # database); a collation is no model state, so there is nothing to replay.
    if is_mysql(database) and not fake:
        migrator.sql(
            "ALTER TABLE `event` MODIFY `webhook_id` VARCHAR(255) "
            f"CHARACTER SET utf8mb4 COLLATE {exact_collation(database)} NOT NULL"
        )


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    if is_mysql(database) and not fake:
        migrator.sql("ALTER TABLE `event` MODIFY `webhook_id` VARCHAR(255) NOT NULL")  # table default
