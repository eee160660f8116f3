"""The Replay and "Replay all failed" buttons call the PMS and come back with a message."""

from __future__ import annotations

import pytest


def form_action_present(body: str, action: str) -> bool:
    return f'action="{action}"' in body


@pytest.mark.gen_test
async def test_replay_button_posts_to_the_pms_replay_route(visitor, fake_pms, fake_crm):
    row = fake_pms.add_delivery(status="failed")
    await visitor.login()
    page = (await visitor.get(f"/deliveries/{row['id']}")).body.decode()
    assert form_action_present(page, f"/deliveries/{row['id']}/replay")
    response = await visitor.post(f"/deliveries/{row['id']}/replay")
    assert response.code == 302
    assert response.headers["Location"] == f"/deliveries/{row['id']}"
    assert fake_pms.replayed == [row["id"]]
    assert ("POST", f"/api/v1/webhooks/deliveries/{row['id']}/replay", "") in fake_pms.state.requests
    back = (await visitor.get(response.headers["Location"])).body.decode()
    assert "Queued again" in back
    # the message is shown once
    assert "Queued again" not in (await visitor.get(response.headers["Location"])).body.decode()


@pytest.mark.gen_test
async def test_replay_all_failed_posts_to_the_pms_bulk_route(visitor, fake_pms, fake_crm):
    fake_pms.add_delivery(status="failed")
    fake_pms.add_delivery(status="failed")
    fake_pms.add_delivery(status="delivered")
    await visitor.login()
    assert form_action_present((await visitor.get("/deliveries")).body.decode(), "/deliveries/replay-failed")
    response = await visitor.post("/deliveries/replay-failed")
    assert response.code == 302 and response.headers["Location"] == "/deliveries"
    assert fake_pms.replayed_all == 1
    assert ("POST", "/api/v1/webhooks/deliveries/replay", "") in fake_pms.state.requests
    assert "Queued again: 2 failed deliveries." in (await visitor.get("/deliveries")).body.decode()


@pytest.mark.gen_test
async def test_replay_of_an_unknown_delivery_says_so(visitor, fake_pms, fake_crm):
    await visitor.login()
    response = await visitor.post("/deliveries/0000-gone/replay")
    assert response.code == 302
    assert "no such delivery" in (await visitor.get(response.headers["Location"])).body.decode()


@pytest.mark.parametrize("outage", ["pms"], indirect=True)
@pytest.mark.gen_test
async def test_replay_while_the_pms_is_down_says_so(visitor, outage):
    await visitor.login()
    response = await visitor.post("/deliveries/replay-failed")
    assert response.code == 302
    body = (await visitor.get("/rejections")).body.decode()
    assert "Nothing replayed: the PMS is unreachable" in body


@pytest.mark.gen_test
async def test_replay_needs_a_login(visitor, fake_pms):
    row = fake_pms.add_delivery(status="failed")
    xsrf = await visitor.xsrf()
    response = await visitor.post(f"/deliveries/{row['id']}/replay", {"_xsrf": xsrf})
    assert response.code == 403
    assert fake_pms.replayed == []
