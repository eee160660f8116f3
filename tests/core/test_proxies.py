"""``TRUSTED_PROXIES``: parsing, walking an ``X-Forwarded-For`` chain, and the real server path.

The server tests go through ``core.server.listen`` (the function every service starts with), so
they also prove that Tornado's own ``xheaders`` handling, which believes anyone, stays off.
"""

from __future__ import annotations

import json

import pytest
import tornado.web
import tornado.websocket
from tornado.httpclient import AsyncHTTPClient, HTTPRequest
from tornado.testing import bind_unused_port

from core.config import ConfigError
from core.proxies import ProxyAwareApplication, TrustedProxies
from core.server import listen


def test_parsing_networks_and_single_addresses():
    proxies = TrustedProxies.parse(" 10.0.0.0/8, 192.0.2.7 ,2001:db8::/32,,")
    assert [str(n) for n in proxies.networks] == ["10.0.0.0/8", "192.0.2.7/32", "2001:db8::/32"]
    assert not TrustedProxies.parse(None) and not TrustedProxies.parse("  ")
    assert TrustedProxies.parse(None) == TrustedProxies()


@pytest.mark.parametrize("raw", ["10.0.0.0/33", "localhost", "10.0.0.1/24", "10.0.0.0/8;192.0.2.1", "*"])
def test_invalid_entries_are_a_configuration_error_naming_the_variable(raw):
    with pytest.raises(ConfigError, match="TRUSTED_PROXIES"):
        TrustedProxies.parse(raw)


@pytest.mark.parametrize(
    "peer, chain, client",
    [
        ("203.0.113.1", ["198.51.100.1"], "203.0.113.1"),  # peer not trusted: chain ignored
        ("10.0.0.1", ["198.51.100.1"], "198.51.100.1"),  # one trusted proxy
        ("10.0.0.1", ["6.6.6.6", "198.51.100.1"], "198.51.100.1"),  # what the client wrote is ignored
        ("10.0.0.1", ["198.51.100.1", "10.0.0.2"], "198.51.100.1"),  # two trusted proxies in a row
        ("10.0.0.1", ["10.0.0.3", "10.0.0.2"], "10.0.0.3"),  # all trusted: the left-most
        ("10.0.0.1", ["not-an-ip", "10.0.0.2"], "10.0.0.2"),  # garbage stops at the hop that sent it
        ("10.0.0.1", ["[2001:db8::1]"], "2001:db8::1"),
        ("::ffff:10.0.0.1", ["198.51.100.1"], "198.51.100.1"),  # IPv4 peer on a dual-stack socket
    ],
)
def test_the_client_is_the_right_most_address_that_is_not_a_trusted_proxy(peer, chain, client):
    assert TrustedProxies.parse("10.0.0.0/8").client(peer, chain) == client


class Echo(tornado.web.RequestHandler):
    def get(self):
        self.write({"ip": self.request.remote_ip, "protocol": self.request.protocol})


class EchoSocket(tornado.websocket.WebSocketHandler):
    def open(self):
        self.write_message(json.dumps({"ip": self.request.remote_ip, "protocol": self.request.protocol}))


def serve(trusted: str | None):
    app = ProxyAwareApplication([(r"/", Echo), (r"/ws", EchoSocket)], trusted_proxies=TrustedProxies.parse(trusted))
    sock, port = bind_unused_port()
    sock.close()
    return listen(app, port, "127.0.0.1"), f"127.0.0.1:{port}"


FORGED = {
    "X-Forwarded-For": "203.0.113.9",
    "X-Forwarded-Proto": "https",
    "X-Real-IP": "203.0.113.10",
    "X-Scheme": "https",
}


async def seen(where: str) -> tuple[dict, dict]:
    response = await AsyncHTTPClient().fetch(f"http://{where}/", headers=FORGED)
    socket = await tornado.websocket.websocket_connect(HTTPRequest(f"ws://{where}/ws", headers=FORGED))
    message = json.loads(await socket.read_message())
    socket.close()
    return json.loads(response.body), message


@pytest.mark.gen_test
async def test_forwarding_headers_from_an_untrusted_peer_are_ignored_by_http_and_websocket_handlers():
    for trusted in (None, "10.0.0.0/8"):
        server, where = serve(trusted)
        try:
            page, socket = await seen(where)
        finally:
            server.stop()
        assert page == socket == {"ip": "127.0.0.1", "protocol": "http"}, trusted


@pytest.mark.gen_test
async def test_forwarding_headers_from_a_trusted_peer_are_honoured_by_http_and_websocket_handlers():
    server, where = serve("127.0.0.1/32")
    try:
        page, socket = await seen(where)
    finally:
        server.stop()
    assert page == socket == {"ip": "203.0.113.9", "protocol": "https"}
