"""``/profiles`` (search and tier filter) and ``/profiles/:guest_id`` (stats, tier, the guest's events)."""

from __future__ import annotations

import asyncio

from ..contract import TIERS
from .base import PageHandler


class ProfilesHandler(PageHandler):
    async def get(self) -> None:
        filters = self.list_args("q", "tier")
        page = await self.fetch(self.services.crm.profiles(**filters, cursor=self.get_argument("cursor", None), limit=50))
        self.render_page(
            "profiles.html", title="Guest profiles", filters=filters, tiers=TIERS,
            profiles=page.get("data") if page else None,
            older=self.older_link(page.get("next_cursor") if page else None, filters),
            paged=bool(self.get_argument("cursor", None)),
        )


class ProfileHandler(PageHandler):
    async def get(self, guest_id: str) -> None:
        crm = self.services.crm
        profile, events = await asyncio.gather(
            self.fetch_one(crm.profile(int(guest_id)), "profile"),
            self.fetch(crm.events(guest_id=guest_id, limit=100)),
        )
        self.render_page("profile.html", title=f"Guest {guest_id}", profile=profile, guest_id=guest_id,
                         events=events.get("data") if events is not None else None,
                         older_events=bool(events and events.get("next_cursor")))


default_handlers = [
    (r"/profiles", ProfilesHandler),
    (r"/profiles/([0-9]{1,18})", ProfileHandler),
]
