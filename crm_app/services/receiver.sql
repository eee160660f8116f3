-- The receiver's statements on its hot path (see core/sql.py for the notation). The writes
-- are built from the models in working_set.write_rows; these are the reads of a batch.

-- name: recorded_webhook_ids
-- The webhook ids among the given ones that the audit log already holds.
SELECT `webhook_id` FROM `event` WHERE `webhook_id` IN ({ids})

-- name: lock_guest_profiles
-- The profiles of the given guests, locked in key order so concurrent batches cannot deadlock.
SELECT `guest_id`, `email`, `email_key`, `name`, `phone`, `date_of_birth`, `country`, `version`,
       `deleted`, `listed`, `total_reservations`, `cancelled_reservations`, `total_nights`,
       `lifetime_value`, `first_check_in`, `last_check_out`, `tier`, `created_at`, `updated_at`
FROM `guest_profile` WHERE `guest_id` IN ({ids}) ORDER BY `guest_id` {for_update}

-- name: lock_reservation_mirrors
-- The mirror rows of the given reservations, locked in key order (taken before the guests).
SELECT `reservation_id`, `guest_id`, `version`, `deleted`, `room_number`, `room_type`,
       `check_in`, `check_out`, `status`, `total_amount`, `currency`, `adults`, `children`,
       `updated_at`
FROM `reservation_mirror` WHERE `reservation_id` IN ({ids}) ORDER BY `reservation_id` {for_update}

-- name: live_reservations
-- What the stats of the given guests are computed from: their live (not deleted, seen) reservations.
SELECT `guest_id`, `check_in`, `check_out`, `status`, `total_amount`, `currency`
FROM `reservation_mirror` WHERE `guest_id` IN ({ids}) AND `deleted` = 0 AND `version` > 0
