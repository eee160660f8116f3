"""Signed webhooks that used to answer 500 (found by the property tests and the handler review),
through the real app on every backend: 422 now, nothing recorded, and a rejection listed."""

from __future__ import annotations

import pytest

from crm_app.models import Event, GuestProfile, Rejection
from tests.crm_app.webhook_factory import guest, reservation
from tests.support.http import json_of


def counts(crm_db) -> tuple[int, int, int]:
    return crm_db.store.call(lambda: (Event.select().count(), GuestProfile.select().count(),
                                      Rejection.select().count()))


@pytest.mark.parametrize("event_type, payload, field", [
    ("reservation.created", reservation(1, 1, total_amount="1e999999999999999999"), "payload.total_amount"),
    ("reservation.updated", reservation(1, 1, total_amount="-1e999999999999999999"), "payload.total_amount"),
    # "İ" lower-cases to two characters: 212 characters as given, 412 as the profile's email key.
    ("guest.created", guest(1, email="İ" * 200 + "@example.com"), "payload.email"),
])
@pytest.mark.gen_test
async def test_values_that_cannot_be_stored_are_422_not_500(sender, crm_db, event_type, payload, field):
    response = await sender.send(event_type, payload)
    assert response.code == 422, response.body
    assert [d["field"] for d in json_of(response)["error"]["details"]] == [field]
    assert counts(crm_db) == (0, 0, 1)
