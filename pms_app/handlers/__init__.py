"""HTTP handlers of the PMS API; each module ends with ``default_handlers``."""
