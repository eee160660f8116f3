"""outbox_event: who asked for a pending replay, and attempt_count counting every attempt ever.

* ``next_trigger`` / ``replayed_by``: a replay sets them ("replay", the operator or null); the
  next attempt copies them onto its attempt row and puts them back to "scheduled" / null.
* ``attempts_since_replay``: the step of the retry schedule (it restarts at each replay), which
  ``attempt_count`` used to be. It takes over the old values; ``attempt_count`` becomes the
  number of attempt rows the event has. Rolling back restores the old meaning.

Columns carry database defaults too, so rows inserted by hand (bench/e2e.py) stay valid.
"""

import peewee as pw
from peewee_migrate import Migrator

COUNT_ATTEMPTS = (
    "UPDATE outbox_event SET attempt_count = (SELECT COUNT(*) FROM delivery_attempt a "
    "WHERE a.event_id = outbox_event.id)"
)


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.add_fields(
        "outbox_event",
        allow_not_null=True,
        attempts_since_replay=pw.IntegerField(default=0, constraints=[pw.SQL("DEFAULT 0")]),
        next_trigger=pw.CharField(max_length=16, default="scheduled", constraints=[pw.SQL("DEFAULT 'scheduled'")]),
    )
    migrator.add_fields("outbox_event", replayed_by=pw.CharField(max_length=64, null=True))
    migrator.sql("UPDATE outbox_event SET attempts_since_replay = attempt_count")
    migrator.sql(COUNT_ATTEMPTS)


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.sql("UPDATE outbox_event SET attempt_count = attempts_since_replay")
    migrator.remove_fields("outbox_event", "attempts_since_replay", "next_trigger", "replayed_by")
