"""Replay one delivery at once; "Replay all failed" previews first and acts only when confirmed;
every action reaches the PMS in the signed-in operator's name."""

from __future__ import annotations

import re

import pytest

from .fakes import now_iso
from .support import add_operator


def form_action_present(body: str, action: str) -> bool:
    return f'action="{action}"' in body


@pytest.mark.gen_test
async def test_replay_button_posts_to_the_pms_replay_route_as_the_operator(visitor, fake_pms, fake_crm):
    row = fake_pms.add_delivery(status="failed")
    await visitor.login()
    page = (await visitor.get(f"/deliveries/{row['id']}")).body.decode()
    assert form_action_present(page, f"/deliveries/{row['id']}/replay")
    response = await visitor.post(f"/deliveries/{row['id']}/replay")
    assert response.code == 302
    assert response.headers["Location"] == f"/deliveries/{row['id']}"
    assert fake_pms.replayed == [row["id"]]
    assert fake_pms.operators == ["ops"]
    assert ("POST", f"/api/v1/webhooks/deliveries/{row['id']}/replay", "") in fake_pms.state.requests
    back = (await visitor.get(response.headers["Location"])).body.decode()
    assert "Queued again" in back
    # the message is shown once
    assert "Queued again" not in (await visitor.get(response.headers["Location"])).body.decode()


@pytest.mark.gen_test
async def test_every_action_names_the_operator_who_asked(visitor, fake_pms, fake_crm, users_file):
    add_operator(users_file, "alice", "correct horse battery")
    row = fake_pms.add_delivery(status="failed")
    await visitor.sign_in("alice", "correct horse battery")
    await visitor.post(f"/deliveries/{row['id']}/replay")
    await visitor.post("/deliveries/replay-failed", {"confirm": "1"})
    assert fake_pms.operators == ["alice", "alice"]


@pytest.mark.gen_test
async def test_replay_all_failed_first_shows_what_it_would_do(visitor, fake_pms, fake_crm):
    failed = [fake_pms.add_delivery("guest.updated", status="failed", entity_id=i) for i in range(25)]
    fake_pms.add_delivery(status="delivered")
    await visitor.login()
    assert form_action_present((await visitor.get("/deliveries")).body.decode(), "/deliveries/replay-failed")
    assert form_action_present((await visitor.get("/")).body.decode(), "/deliveries/replay-failed")

    preview = await visitor.post("/deliveries/replay-failed")
    body = preview.body.decode()
    assert preview.code == 200
    assert fake_pms.replayed_all == 0 and fake_pms.operators == [], "a preview must not act"
    assert 'data-failed-count="25"' in body and "25</strong> failed deliveries will be queued again" in body
    shown = re.findall(r'<tr data-id="([^"]+)"', body)
    assert shown == [d["id"] for d in reversed(failed)][:20]  # the newest 20, as the PMS lists them
    assert "The first 20" in body
    method, path, query = [r for r in fake_pms.state.requests if r[1] == "/api/v1/webhooks/deliveries"][-1]
    assert "status=failed" in query
    form = r'<form method="post" action="/deliveries/replay-failed"[^>]*>(.*?)</form>'
    confirm = re.search(form, body, re.S).group(1)
    assert 'name="confirm" value="1"' in confirm and 'name="_xsrf"' in confirm
    assert "Replay 25 failed deliveries" in confirm

    for not_confirmed in ({"confirm": "0"}, {"confirm": "yes"}, {"confirm": ""}):
        assert (await visitor.post("/deliveries/replay-failed", not_confirmed)).code == 200
    assert fake_pms.replayed_all == 0

    response = await visitor.post("/deliveries/replay-failed", {"confirm": "1"})
    assert response.code == 302 and response.headers["Location"] == "/deliveries"
    assert fake_pms.replayed_all == 1
    assert ("POST", "/api/v1/webhooks/deliveries/replay", "") in fake_pms.state.requests
    assert "Queued again: 25 failed deliveries." in (await visitor.get("/deliveries")).body.decode()


@pytest.mark.gen_test
async def test_the_preview_with_nothing_failed_offers_nothing(visitor, fake_pms, fake_crm):
    fake_pms.add_delivery(status="delivered")
    await visitor.login()
    body = (await visitor.post("/deliveries/replay-failed")).body.decode()
    assert "There are no failed deliveries to replay." in body
    assert 'name="confirm"' not in body


@pytest.mark.gen_test
async def test_a_few_failed_are_all_shown(visitor, fake_pms, fake_crm):
    row = fake_pms.add_delivery(status="failed")
    await visitor.login()
    body = (await visitor.post("/deliveries/replay-failed")).body.decode()
    assert "1</strong> failed delivery will be queued again" in body and "They are" in body
    assert f'<tr data-id="{row["id"]}"' in body and "Replay 1 failed delivery" in body


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
    preview = await visitor.post("/deliveries/replay-failed")
    assert preview.code == 200 and "PMS unavailable." in preview.body.decode()
    assert 'name="confirm"' not in preview.body.decode()
    response = await visitor.post("/deliveries/replay-failed", {"confirm": "1"})
    assert response.code == 302
    body = (await visitor.get("/rejections")).body.decode()
    assert "Nothing replayed: the PMS is unreachable" in body


@pytest.mark.gen_test
async def test_replay_needs_a_login(visitor, fake_pms):
    row = fake_pms.add_delivery(status="failed")
    xsrf = await visitor.xsrf()
    response = await visitor.post(f"/deliveries/{row['id']}/replay", {"_xsrf": xsrf})
    assert response.code == 403
    response = await visitor.post("/deliveries/replay-failed", {"_xsrf": xsrf, "confirm": "1"})
    assert response.code == 403
    assert fake_pms.replayed == [] and fake_pms.replayed_all == 0


@pytest.mark.gen_test
async def test_attempts_show_what_triggered_them_and_who_replayed(visitor, fake_pms, fake_crm):
    row = fake_pms.add_delivery(
        status="delivered",
        attempts=[
            {
                "attempt": 1,
                "started_at": now_iso(-60),
                "status_code": 503,
                "duration_ms": 9,
                "error": "CRM answered 503",
                "response_body": None,
                "trigger": "schedule",
                "replayed_by": None,
            },
            {
                "attempt": 2,
                "started_at": now_iso(),
                "status_code": 204,
                "duration_ms": 7,
                "error": None,
                "response_body": None,
                "trigger": "replay",
                "replayed_by": "alice",
            },
        ],
    )
    older = fake_pms.add_delivery(
        status="failed",
        attempts=[
            {
                "attempt": 1,
                "started_at": now_iso(),
                "status_code": 500,
                "duration_ms": 3,
                "error": "x",
                "response_body": None,
            }
        ],
    )
    await visitor.login()
    body = (await visitor.get(f"/deliveries/{row['id']}")).body.decode()
    assert '<th scope="col">Trigger</th>' in body and '<th scope="col">Replayed by</th>' in body
    assert '<td data-field="trigger"><code>schedule</code></td>' in body
    assert '<td data-field="trigger"><code>replay</code></td>' in body
    assert '<td data-field="replayed_by">alice</td>' in body
    # a PMS that does not send them: no empty columns
    assert "Replayed by" not in (await visitor.get(f"/deliveries/{older['id']}")).body.decode()
