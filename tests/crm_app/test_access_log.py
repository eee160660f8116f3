"""The CRM's access log: every answer that is not a 2xx gets a line, a set share of the 2xx
answers do (evenly spread), and the metrics count every request whatever the share."""

from __future__ import annotations

import dataclasses
import logging
import re

import pytest

from core.access_log import AccessLogSample
from tests.crm_app.webhook_factory import SECRET, guest
from tests.support.http import call


@pytest.fixture
def crm_settings(crm_settings):
    return dataclasses.replace(crm_settings, access_log_sample=0.25)


def access_lines(caplog) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "guestsync.access"]


def counted(metrics_text: str, status: str) -> float:
    pattern = rf'^http_requests_total\{{method="POST",route="webhook",status="{status}"\}} (\S+)$'
    match = re.search(pattern, metrics_text, flags=re.M)
    return float(match.group(1)) if match else 0.0


@pytest.mark.gen_test
async def test_every_failure_and_a_quarter_of_the_successes_get_a_line(sender, http_client, base_url, caplog):
    caplog.set_level(logging.INFO, logger="guestsync.access")
    for guest_id in range(1, 9):
        assert (await sender.send("guest.created", guest(guest_id))).code == 202
    for guest_id in range(9, 12):  # signed with a secret the CRM does not know: 401 each
        assert (await sender.send("guest.created", guest(guest_id), secrets=("whsec_" + "A" * 32,))).code == 401
    lines = access_lines(caplog)
    successes = [r for r in lines if r.status == 202]
    failures = [r for r in lines if r.status == 401]
    assert len(successes) == 2 and all(r.sample == 0.25 for r in successes)
    assert len(failures) == 3 and not any(hasattr(r, "sample") for r in failures)
    assert all(r.request_id and r.path == "/api/v1/webhooks/pms" for r in lines)

    text = (await call(http_client, base_url, "GET", "/metrics")).body.decode()
    assert (counted(text, "202"), counted(text, "401")) == (8.0, 3.0)


def test_the_share_is_exact_and_evenly_spread():
    def taken(share: float, n: int) -> list[bool]:
        sample = AccessLogSample(share)
        return [sample.take() for _ in range(n)]

    assert taken(0.1, 30) == ([True] + [False] * 9) * 3
    assert taken(1.0, 5) == [True] * 5
    assert taken(0.0, 5) == [False] * 5
    assert sum(taken(0.3, 1000)) == 300
    with pytest.raises(ValueError):
        AccessLogSample(1.5)


def test_secret_fixture_is_the_one_the_sender_signs_with(crm_settings):
    # Guards the test above: its 401s come from the unknown secret, not from a mismatch here.
    assert crm_settings.webhook_secrets == (SECRET,)
