"""Values fixed by the contract between the services (SPEC s4-s6), defined once for all of them."""

EVENT_TYPES = ("guest.created", "guest.updated", "guest.deleted",
               "reservation.created", "reservation.updated", "reservation.deleted")
RESERVATION_STATUSES = ("confirmed", "checked_in", "checked_out", "cancelled")

# Ids are BIGINT: nothing past this can exist, so a larger one simply matches nothing.
MAX_ID = 2**63 - 1
