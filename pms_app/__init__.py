"""The PMS service: guests, reservations, the transactional outbox and its delivery to the CRM."""
