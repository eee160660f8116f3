"""``/audit``: the PMS's record of operator actions, filtered and paged; a banner for an older PMS."""

from __future__ import annotations

import html
import re

import pytest

HOSTILE = "<script>alert(1)</script>"


@pytest.mark.gen_test
async def test_the_audit_page_lists_operator_actions_newest_first(visitor, fake_pms, fake_crm):
    fake_pms.add_audit("alice", "delivery.replay", "6f1c-42")
    fake_pms.add_audit("bob", "delivery.replay_failed", None)
    await visitor.login()
    response = await visitor.get("/audit")
    body = response.body.decode()
    assert response.code == 200
    assert re.findall(r'<td data-field="operator">([^<]+)</td>', body) == ["bob", "alice"]
    assert "<code>delivery.replay</code>" in body and "<code>6f1c-42</code>" in body
    assert '<a href="/audit" aria-current="page">Audit</a>' in body
    assert 'href="/audit"' in (await visitor.get("/")).body.decode()  # in the navigation everywhere


@pytest.mark.gen_test
async def test_a_replay_from_the_dashboard_shows_up_in_the_audit_log(visitor, fake_pms, fake_crm):
    row = fake_pms.add_delivery(status="failed")
    await visitor.login()
    await visitor.post(f"/deliveries/{row['id']}/replay")
    body = (await visitor.get("/audit")).body.decode()
    assert '<td data-field="operator">ops</td>' in body and f"<code>{row['id']}</code>" in body


@pytest.mark.gen_test
async def test_filters_reach_the_pms_and_older_pages_keep_them(visitor, fake_pms, fake_crm):
    for i in range(60):
        fake_pms.add_audit("alice" if i % 2 else "bob", "delivery.replay", f"d-{i}")
    await visitor.login()
    body = (await visitor.get("/audit?operator=alice&action=delivery.replay")).body.decode()
    method, path, query = fake_pms.state.requests[-1]
    assert path == "/api/v1/audit"
    assert "operator=alice" in query and "action=delivery.replay" in query and "limit=50" in query
    assert set(re.findall(r'<td data-field="operator">([^<]+)</td>', body)) == {"alice"}
    assert 'value="alice"' in body and 'value="delivery.replay"' in body
    assert 'rel="next"' not in body  # 30 rows fit one page
    body = (await visitor.get("/audit")).body.decode()
    older = html.unescape(body.split('rel="next"')[0].rsplit('href="', 1)[1].split('"')[0])
    assert older.startswith("/audit?") and "cursor=" in older
    filtered = (await visitor.get("/audit?operator=bob")).body.decode()
    assert 'rel="next"' not in filtered
    for i in range(60, 100):
        fake_pms.add_audit("bob", "delivery.replay", f"d-{i}")
    filtered = (await visitor.get("/audit?operator=bob")).body.decode()
    older = html.unescape(filtered.split('rel="next"')[0].rsplit('href="', 1)[1].split('"')[0])
    assert "operator=bob" in older and "cursor=" in older
    second = (await visitor.get(older)).body.decode()
    assert set(re.findall(r'<td data-field="operator">([^<]+)</td>', second)) == {"bob"}


@pytest.mark.gen_test
async def test_an_older_pms_without_the_audit_log_gets_a_banner_not_an_error(visitor, fake_pms, fake_crm):
    fake_pms.audit = None
    await visitor.login()
    response = await visitor.get("/audit")
    body = response.body.decode()
    assert response.code == 200
    assert "keeps no audit log" in body and 'class="banner banner-warn"' in body
    assert "PMS unavailable." not in body


@pytest.mark.parametrize("outage", ["pms"], indirect=True)
@pytest.mark.gen_test
async def test_the_audit_page_says_when_the_pms_is_down(visitor, outage):
    await visitor.login()
    response = await visitor.get("/audit")
    assert response.code == 200 and "PMS unavailable." in response.body.decode()


@pytest.mark.gen_test
async def test_audit_entries_are_escaped(visitor, fake_pms, fake_crm):
    fake_pms.add_audit(HOSTILE, HOSTILE, HOSTILE)
    await visitor.login()
    body = (await visitor.get("/audit?operator=" + "%3Cscript%3E")).body.decode()
    body += (await visitor.get("/audit")).body.decode()
    assert "<script>alert" not in body
