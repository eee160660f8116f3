"""Who the client is behind reverse proxies: ``TRUSTED_PROXIES`` and the address rewrite.

The HTTP servers run with Tornado's ``xheaders`` off, so ``request.remote_ip`` starts as the
socket's peer and ``request.protocol`` as the connection's own scheme. ``ProxyAwareApplication``
then, before any handler (HTTP or websocket) is chosen, honours ``X-Forwarded-For`` and
``X-Forwarded-Proto`` only when that peer is inside one of the trusted networks. Everything
downstream (rejection lists, rate-limit keys, the login throttle, ``Secure`` cookies, access
logs) reads the rewritten values, so a forged header from anyone else changes nothing.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Any

import tornado.web
from tornado.httputil import HTTPServerRequest

from .config import Network, parse_networks

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def _address(text: str) -> Address | None:
    """An IP address as proxies write it (IPv6 possibly in brackets), or ``None``."""
    text = text.strip()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    # A dual-stack socket reports IPv4 peers as ::ffff:a.b.c.d; match them against IPv4 networks.
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


@dataclass(frozen=True)
class TrustedProxies:
    """The networks whose forwarding headers are believed; empty means nobody's."""

    networks: tuple[Network, ...] = ()

    @classmethod
    def parse(cls, raw: str | None, variable: str = "TRUSTED_PROXIES") -> TrustedProxies:
        """Comma-separated CIDRs (a bare address is a single host); ``ConfigError`` names ``variable``."""
        return cls(parse_networks(raw, variable))

    def __bool__(self) -> bool:
        return bool(self.networks)

    def trusts(self, address: Address | None) -> bool:
        return address is not None and any(address in network for network in self.networks)

    def client(self, peer: str, forwarded_for: list[str]) -> str:
        """The client's address: walk ``X-Forwarded-For`` from the right while each hop is a
        trusted proxy; the first address not itself a trusted proxy is the client. An entry
        that is not an IP address stops the walk at the trusted hop that sent it."""
        current = _address(peer)
        if not self.trusts(current):
            return peer
        client = peer
        for entry in reversed(forwarded_for):
            address = _address(entry)
            if address is None:
                break
            client, current = str(address), address
            if not self.trusts(current):
                break
        return client

    def apply(self, request: HTTPServerRequest) -> None:
        """Rewrite ``remote_ip`` and ``protocol`` of ``request`` when its peer is trusted."""
        peer = request.remote_ip
        if peer is None or not self.networks or not self.trusts(_address(peer)):
            return
        hops = [hop for line in request.headers.get_list("X-Forwarded-For") for hop in line.split(",")]
        hops = [hop for hop in hops if hop.strip()]
        if hops:
            request.remote_ip = self.client(peer, hops)
        proto = request.headers.get_list("X-Forwarded-Proto")
        # The value our own trusted proxy set is the last one; anything but http/https is ignored.
        if proto:
            scheme = proto[-1].split(",")[-1].strip().lower()
            if scheme in ("http", "https"):
                request.protocol = scheme


class ProxyAwareApplication(tornado.web.Application):
    """A Tornado ``Application`` that resolves the client behind trusted proxies before routing.

    Reads ``trusted_proxies`` (a ``TrustedProxies``) from its settings; without it, or with an
    empty one, forwarding headers are ignored.
    """

    def find_handler(self, request: HTTPServerRequest, **kwargs: Any):
        proxies: TrustedProxies | None = self.settings.get("trusted_proxies")
        if proxies:
            proxies.apply(request)
        return super().find_handler(request, **kwargs)
