"""Which database failures are "unavailable" (503) and which are faults (500); what the pooled
MySQL connection sends per unit of work, and how it recovers from a killed connection."""

import peewee
import pytest

from core.db import DatabaseUnavailable, Store, is_unavailable, open_database, read_committed, read_snapshot


@pytest.mark.parametrize(
    "exc, unavailable",
    [
        (peewee.OperationalError(2006, "MySQL server has gone away"), True),
        (peewee.OperationalError(2003, "Can't connect to MySQL server"), True),
        (peewee.OperationalError(1040, "Too many connections"), True),
        (peewee.InterfaceError(0, ""), True),
        (peewee.OperationalError("database is locked"), True),
        (peewee.OperationalError(1054, "Unknown column 'x' in 'field list'"), False),
        (peewee.OperationalError("no such table: guest"), False),
    ],
)
def test_classification(exc, unavailable):
    assert is_unavailable(exc) is unavailable


def test_store_turns_only_unavailability_into_database_unavailable(tmp_path):
    store = Store(open_database(f"sqlite:///{tmp_path}/t.db"), max_workers=1)
    try:
        with pytest.raises(peewee.OperationalError):  # a broken query stays a fault
            store.call(lambda: store.database.execute_sql("SELECT nope FROM nowhere"))

        def locked():
            raise peewee.OperationalError("database is locked")

        with pytest.raises(DatabaseUnavailable):
            store.call(locked)
    finally:
        store.close()


# -- the pooled MySQL connection: round trips per unit of work, isolation, reconnection ----------


@pytest.fixture
def one_connection_store():
    """A Store on an empty MySQL database whose pool holds a single connection, so every unit
    of work runs on the same server session and that session's counters tell what was sent."""
    from tests.support.databases import MYSQL_URL, MySQLServer

    if not MYSQL_URL:
        pytest.skip("needs TEST_MYSQL_URL")
    server = MySQLServer()
    store = Store(open_database(server.url(server.create("pool")), max_connections=1), max_workers=1)
    create = "CREATE TABLE probe (id INT AUTO_INCREMENT PRIMARY KEY) ENGINE=InnoDB"
    store.call(lambda: store.database.execute_sql(create), transaction=False)
    try:
        yield store
    finally:
        store.close()
        server.drop_all()


def _session_counters(store: Store) -> dict[str, int]:
    rows = store.call(
        lambda: store.database.execute_sql(
            "SHOW SESSION STATUS WHERE Variable_name IN "
            "('Com_admin_commands', 'Com_set_option', 'Com_rollback', 'Com_begin')"
        ).fetchall(),
        transaction=False,
    )
    return {name: int(value) for name, value in rows}


def _isolation(store: Store, transaction) -> str:
    """How a transaction opened by ``transaction(database)`` behaves: READ COMMITTED when its
    second read sees a row another session committed after its first read, REPEATABLE READ when
    it still sees its first snapshot."""
    from tests.support.databases import MySQLServer

    def read():
        database = store.database
        with transaction(database):
            count = lambda: database.execute_sql("SELECT COUNT(*) FROM probe").fetchone()[0]  # noqa: E731
            first = count()
            with MySQLServer().connect() as conn, conn.cursor() as cur:
                cur.execute(f"INSERT INTO `{database.database}`.probe () VALUES ()")
            return "READ COMMITTED" if count() > first else "REPEATABLE READ"

    return store.call(read, transaction=False)


def test_units_of_work_send_no_ping_no_spare_rollback_and_set_isolation_once(one_connection_store):
    store = one_connection_store
    _isolation(store, read_committed)  # the session's first switch to READ COMMITTED
    before = _session_counters(store)
    for _ in range(5):
        _isolation(store, read_committed)
        store.call(lambda: store.database.execute_sql("SELECT 1"), transaction=False)
    after = _session_counters(store)
    # Five transactions began; nothing pinged (COM_PING counts as an admin command), nothing
    # rolled back on check-in, and the session's isolation was not set again.
    assert after["Com_begin"] - before["Com_begin"] == 5
    assert after["Com_admin_commands"] == before["Com_admin_commands"]
    assert after["Com_rollback"] == before["Com_rollback"]
    assert after["Com_set_option"] == before["Com_set_option"]


def test_each_transaction_runs_at_the_level_it_asks_for_whatever_ran_before(one_connection_store):
    store = one_connection_store
    plain = lambda database: database.atomic()  # noqa: E731
    assert _isolation(store, read_committed) == "READ COMMITTED"
    assert _isolation(store, plain) == "REPEATABLE READ"
    assert _isolation(store, read_committed) == "READ COMMITTED"
    assert _isolation(store, read_snapshot) == "REPEATABLE READ"
    assert _isolation(store, read_committed) == "READ COMMITTED"


def test_a_killed_pooled_connection_is_replaced_inside_and_outside_transactions(one_connection_store):
    from tests.support.databases import MySQLServer

    store = one_connection_store
    database = store.database
    session = lambda: database.execute_sql("SELECT CONNECTION_ID()").fetchone()[0]  # noqa: E731
    for transaction in (True, False, True):
        killed = store.call(session, transaction=transaction)
        with MySQLServer().connect() as conn, conn.cursor() as cur:
            cur.execute(f"KILL CONNECTION {int(killed)}")
        # Nothing checks the connection on checkout; its first statement fails and is run again
        # on a new connection, and the enclosing connection context still closes cleanly.
        assert store.call(session, transaction=transaction) != killed
        assert store.call(lambda: database.execute_sql("SELECT 1").fetchone()[0]) == 1


def test_after_every_pooled_connection_is_killed_the_next_units_of_work_succeed(one_connection_store):
    """What a server restart does: all idle connections die at once. None is pinged on checkout,
    so the first failure must not hand out another dead one from the pool as its replacement."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from tests.support.databases import MYSQL_URL, MySQLServer

    name = one_connection_store.database.database
    store = Store(open_database(f"{MYSQL_URL.rstrip('/')}/{name}", max_connections=4), max_workers=3)
    try:
        together = threading.Barrier(3)

        def hold():  # three units at once: three connections, then all three idle in the pool
            together.wait(timeout=10)
            return store.database.execute_sql("SELECT CONNECTION_ID()").fetchone()[0]

        with ThreadPoolExecutor(3) as pool:
            sessions = set(pool.map(lambda _: store.call(hold), range(3)))
        assert len(sessions) == 3
        with MySQLServer().connect() as conn, conn.cursor() as cur:
            for session in sessions:
                cur.execute(f"KILL CONNECTION {int(session)}")
        for transaction in (False, True, False, True):
            assert (
                store.call(lambda: store.database.execute_sql("SELECT 1").fetchone()[0], transaction=transaction) == 1
            )
    finally:
        store.close()
