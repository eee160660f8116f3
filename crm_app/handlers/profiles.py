"""``/guest-profiles`` and ``/guest-profiles/:guest_id``: thin handlers over ``services.profiles``."""

from __future__ import annotations

from core.errors import ValidationError
from core.handlers import APIHandler

from ..models import TIERS
from ..services import profiles


class ProfilesHandler(APIHandler):
    route_name = "guest_profiles"

    async def get(self) -> None:
        page = self.page_request()
        email = self.get_argument("email", None) or None
        q = self.get_argument("q", None) or None
        if q is not None and len(q) > 200:
            raise ValidationError.single("q", "must be at most 200 characters")
        tier = self.choice_argument("tier", TIERS)
        rows, cursor = await self.store.run(profiles.list_profiles, page, email, q, tier, transaction=False)
        self.write_list(rows, cursor)


class ProfileHandler(APIHandler):
    route_name = "guest_profile"

    async def get(self, guest_id: str) -> None:
        self.write_data(await self.store.run(profiles.get_profile, self.path_id(guest_id), transaction=False))


default_handlers = [
    (r"/guest-profiles", ProfilesHandler),
    (r"/guest-profiles/([0-9]+)", ProfileHandler),
]
