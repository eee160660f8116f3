"""The fixtures of tests that cover both API services (``api_service``, ``app``), for every
module in this directory: registered here once, so the modules ask for them by name only."""

from tests.support.services import api_service, app  # noqa: F401 - registered as fixtures
