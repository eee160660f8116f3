"""Values fixed by the contract between the services (docs/api.md, docs/webhooks.md), defined once for all of them.

Every status, kind and tier a client can read or filter on is spelled here, and only here: the
services' models, their SQL and their checks import these names, and so can the dashboard. Each
group has its names and a tuple of all of them (the order is the one lists and filters show).
"""

# -- both services ----------------------------------------------------------------------------

GUEST_CREATED, GUEST_UPDATED, GUEST_DELETED = "guest.created", "guest.updated", "guest.deleted"
RESERVATION_CREATED, RESERVATION_UPDATED, RESERVATION_DELETED = (
    "reservation.created",
    "reservation.updated",
    "reservation.deleted",
)
EVENT_TYPES = (
    GUEST_CREATED,
    GUEST_UPDATED,
    GUEST_DELETED,
    RESERVATION_CREATED,
    RESERVATION_UPDATED,
    RESERVATION_DELETED,
)

CONFIRMED, CHECKED_IN, CHECKED_OUT, CANCELLED = "confirmed", "checked_in", "checked_out", "cancelled"
RESERVATION_STATUSES = (CONFIRMED, CHECKED_IN, CHECKED_OUT, CANCELLED)

# Ids are BIGINT: nothing past this can exist, so a larger one simply matches nothing.
MAX_ID = 2**63 - 1

# The longest stay a reservation may cover (about ten years, beyond any long-stay contract).
# Both services refuse longer ones, so a guest's nights summed over any realistic number of
# reservations stay far inside the CRM's integer columns.
MAX_STAY_NIGHTS = 3660

# -- the PMS's deliveries ---------------------------------------------------------------------

# A delivery's status. ``held``: for a disabled endpoint, kept unattempted until it is enabled.
PENDING, DELIVERING, DELIVERED, FAILED, HELD = "pending", "delivering", "delivered", "failed", "held"
OUTBOX_STATUSES = (PENDING, DELIVERING, DELIVERED, FAILED)
DELIVERY_STATUSES = (*OUTBOX_STATUSES, HELD)
# The statuses that keep later events of the same entity waiting (delivery order per entity).
UNFINISHED_STATUSES = (DELIVERING, PENDING, HELD)

# What caused a delivery attempt: the retry schedule, a replay someone asked for, or an
# endpoint test (a ping sent at once).
SCHEDULED, REPLAY, TEST = "scheduled", "replay", "test"
TRIGGERS = (SCHEDULED, REPLAY, TEST)

# A circuit breaker's state, per worker and endpoint (the same words as the breaker package's).
BREAKER_CLOSED, BREAKER_HALF_OPEN, BREAKER_OPEN = "closed", "half_open", "open"
BREAKER_STATES = (BREAKER_CLOSED, BREAKER_HALF_OPEN, BREAKER_OPEN)

# Why an endpoint is disabled: an operator did it, it answered 410 Gone, or it kept failing.
MANUAL, GONE, FAILING = "manual", "gone", "failing"
DISABLED_REASONS = (MANUAL, GONE, FAILING)

# What a notification tells ops: an endpoint failing, recovered or disabled, a delivery that gave
# up, reconciliation finding drift.
ENDPOINT_FAILING, ENDPOINT_RECOVERED, ENDPOINT_DISABLED = "endpoint.failing", "endpoint.recovered", "endpoint.disabled"
DELIVERY_FAILED, SYNC_DRIFT = "delivery.failed", "sync.drift"
NOTIFICATION_TYPES = (ENDPOINT_FAILING, ENDPOINT_RECOVERED, ENDPOINT_DISABLED, DELIVERY_FAILED, SYNC_DRIFT)

# A reconciliation run: under way, done, stopped by an error, or left behind by a dead process.
SYNC_RUNNING, SYNC_COMPLETED, SYNC_FAILED, SYNC_ABANDONED = "running", "completed", "failed", "abandoned"
SYNC_RUN_STATUSES = (SYNC_RUNNING, SYNC_COMPLETED, SYNC_FAILED, SYNC_ABANDONED)

# -- the CRM's audit log and profiles ---------------------------------------------------------

# What the receiver answers for a webhook: applied (or recorded) now, or seen before.
ACCEPTED, DUPLICATE = "accepted", "duplicate"

# An audit-log event's status: applied, older than what the CRM holds, or of no effect.
PROCESSED, STALE, IGNORED = "processed", "stale", "ignored"
EVENT_STATUSES = (PROCESSED, STALE, IGNORED)

# A guest profile's tier, from its live reservations and nights.
NEW, RETURNING, VIP = "new", "returning", "vip"
TIERS = (NEW, RETURNING, VIP)
