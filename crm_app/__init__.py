"""The CRM service: the signed webhook receiver, the audit log of events and guest profiles."""
