import pytest

from tests.support.http import call, json_of


@pytest.mark.gen_test
async def test_create_and_fetch_guest(http_client, base_url):
    created = await call(http_client, base_url, "POST", "/api/v1/guests",
                         {"email": "ann@example.com", "name": "Ann"})
    assert created.code == 201, created.body
    guest = json_of(created)["data"]
    fetched = await call(http_client, base_url, "GET", f"/api/v1/guests/{guest['id']}")
    assert json_of(fetched)["data"] == guest
