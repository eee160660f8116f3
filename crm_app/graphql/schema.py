"""The CRM's GraphQL schema: profiles, the audit log and rejections; live subscriptions."""

from __future__ import annotations

import strawberry

from core.graphql.execution import Schema

from . import events as event_fields
from . import profiles as profile_fields
from . import rejections as rejection_fields
from .subscriptions import Subscription


@strawberry.type
class Query:
    guest_profile = strawberry.field(resolver=profile_fields.guest_profile, description="One guest's profile, or null.")
    guest_profiles = strawberry.field(
        resolver=profile_fields.guest_profiles, description="Listed profiles, newest guest first."
    )
    event = strawberry.field(resolver=event_fields.event, description="One audit-log event, or null.")
    events = strawberry.field(resolver=event_fields.events, description="The audit log, newest first.")
    rejections = strawberry.field(
        resolver=rejection_fields.rejections, description="Refused webhook requests, newest first."
    )


schema = Schema(query=Query, subscription=Subscription)
