"""Which database failures are "unavailable" (503) and which are faults (500)."""

import peewee
import pytest

from core.db import DatabaseUnavailable, Store, is_unavailable, open_database


@pytest.mark.parametrize("exc, unavailable", [
    (peewee.OperationalError(2006, "MySQL server has gone away"), True),
    (peewee.OperationalError(2003, "Can't connect to MySQL server"), True),
    (peewee.OperationalError(1040, "Too many connections"), True),
    (peewee.InterfaceError(0, ""), True),
    (peewee.OperationalError("database is locked"), True),
    (peewee.OperationalError(1054, "Unknown column 'x' in 'field list'"), False),
    (peewee.OperationalError("no such table: guest"), False),
])
def test_classification(exc, unavailable):
    assert is_unavailable(exc) is unavailable


def test_store_turns_only_unavailability_into_database_unavailable(tmp_path):
    store = Store(open_database(f"sqlite:///{tmp_path}/t.db"), max_workers=1)
    try:
        with pytest.raises(peewee.OperationalError):   # a broken query stays a fault
            store.call(lambda: store.database.execute_sql("SELECT nope FROM nowhere"))

        def locked():
            raise peewee.OperationalError("database is locked")
        with pytest.raises(DatabaseUnavailable):
            store.call(locked)
    finally:
        store.close()
