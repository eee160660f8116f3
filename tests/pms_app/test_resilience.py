"""The database going away under the service: the next request reconnects by itself."""

import pytest

from tests.pms_app.helpers import create_guest
from tests.support.databases import MYSQL_URL, MySQLServer
from tests.support.http import call, json_of

pytestmark = pytest.mark.skipif(not MYSQL_URL, reason="needs TEST_MYSQL_URL")


def kill_connections_to(database_name: str) -> int:
    """What a server restart does to the pool: every open connection dies."""
    killed = 0
    with MySQLServer().connect() as conn, conn.cursor() as cur:
        cur.execute("SELECT id FROM information_schema.processlist WHERE db = %s", (database_name,))
        for (connection_id,) in cur.fetchall():
            cur.execute(f"KILL CONNECTION {int(connection_id)}")
            killed += 1
    return killed


@pytest.mark.parametrize("backend", ["mysql"], indirect=True)
@pytest.mark.gen_test
async def test_service_reconnects_after_its_connections_are_killed(http_client, base_url, pms_db):
    guest = await create_guest(http_client, base_url)
    for _ in range(3):  # warm several pooled connections
        await call(http_client, base_url, "GET", f"/api/v1/guests/{guest['id']}")
    assert kill_connections_to(pms_db.name) >= 1
    for _ in range(10):  # every pooled connection is dead; each must be replaced transparently
        response = await call(http_client, base_url, "GET", f"/api/v1/guests/{guest['id']}")
        assert response.code == 200, response.body
    response = await call(http_client, base_url, "PUT", f"/api/v1/guests/{guest['id']}", {"name": "After"})
    assert response.code == 200 and json_of(response)["data"]["version"] == 2
