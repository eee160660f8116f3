"""HTTP handlers of the CRM API; each module ends with ``default_handlers``."""
