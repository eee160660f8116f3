"""``/profiles`` (search and tier filter) and ``/profiles/:guest_id`` (stats, tier, the guest's events).

A profile is only as complete as what reached the CRM: when the PMS holds failed or held
deliveries to the CRM for this guest, the profile page says so and links to them.
"""

from __future__ import annotations

import asyncio

from ..clients import CRM_ENDPOINT
from ..contract import TIERS
from .base import PageHandler


class ProfilesHandler(PageHandler):
    async def get(self) -> None:
        filters = self.list_args("q", "tier")
        page = await self.fetch(
            self.services.crm.profiles(**filters, cursor=self.get_argument("cursor", None), limit=50)
        )
        self.render_page(
            "profiles.html",
            title="Guest profiles",
            filters=filters,
            tiers=TIERS,
            profiles=page.get("data") if page else None,
            older=self.older_link(page.get("next_cursor") if page else None, filters),
            paged=bool(self.get_argument("cursor", None)),
        )


class ProfileHandler(PageHandler):
    async def get(self, guest_id: str) -> None:
        crm, pms = self.services.crm, self.services.pms
        profile, events, failed, held = await asyncio.gather(
            self.fetch_one(crm.profile(int(guest_id)), "profile"),
            self.fetch(crm.events(guest_id=guest_id, limit=100)),
            self.fetch_optional(pms.endpoint_deliveries_count(CRM_ENDPOINT, guest_id=guest_id, status="failed")),
            self.fetch_optional(pms.endpoint_deliveries_count(CRM_ENDPOINT, guest_id=guest_id, status="held")),
        )
        self.render_page(
            "profile.html",
            title=f"Guest {guest_id}",
            profile=profile,
            guest_id=guest_id,
            events=events.get("data") if events is not None else None,
            older_events=bool(events and events.get("next_cursor")),
            undelivered={"failed": failed or 0, "held": held or 0},
        )


default_handlers = [
    (r"/profiles", ProfilesHandler),
    (r"/profiles/([0-9]{1,18})", ProfileHandler),
]
