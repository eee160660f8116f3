"""A stopping server lets the requests in flight finish, within a bound."""

import asyncio

import pytest
import tornado.web

from core.handlers import InFlight
from core.server import drain


@pytest.mark.gen_test
async def test_drain_waits_for_requests_in_flight():
    in_flight = InFlight()
    in_flight.count = 2
    app = tornado.web.Application([], in_flight=in_flight)
    loop = asyncio.get_running_loop()
    loop.call_soon(lambda: setattr(in_flight, "count", 1))
    loop.call_later(0.05, lambda: setattr(in_flight, "count", 0))
    await drain(app, timeout=5)
    assert in_flight.count == 0


@pytest.mark.gen_test
async def test_drain_gives_up_after_its_timeout():
    in_flight = InFlight()
    in_flight.count = 1
    await drain(tornado.web.Application([], in_flight=in_flight), timeout=0.05)
    assert in_flight.count == 1
