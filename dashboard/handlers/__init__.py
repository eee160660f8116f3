"""Request handlers of the dashboard; each module ends with ``default_handlers``."""
