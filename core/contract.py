"""Values fixed by the contract between the services (docs/api.md, docs/webhooks.md), defined once for all of them."""

EVENT_TYPES = ("guest.created", "guest.updated", "guest.deleted",
               "reservation.created", "reservation.updated", "reservation.deleted")
RESERVATION_STATUSES = ("confirmed", "checked_in", "checked_out", "cancelled")

# Ids are BIGINT: nothing past this can exist, so a larger one simply matches nothing.
MAX_ID = 2**63 - 1

# The longest stay a reservation may cover (about ten years, beyond any long-stay contract).
# Both services refuse longer ones, so a guest's nights summed over any realistic number of
# reservations stay far inside the CRM's integer columns.
MAX_STAY_NIGHTS = 3660
