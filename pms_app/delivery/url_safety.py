"""Which webhook URLs and addresses delivery may connect to (no I/O here: resolvers are passed in).

A webhook URL must be ``http`` or ``https`` with a host. The addresses its host stands for are
refused when any of them is link-local or a cloud metadata address (``169.254.0.0/16``,
``fe80::/10``, ``fd00:ec2::254``: always, whatever the configuration) or lies in one of the
operator's denied networks (``ENDPOINT_DENIED_NETWORKS``). "Any of them" is deliberate: a name
that answers with one harmless and one metadata address is refused outright.

Spellings do not matter: a host is read the way HTTP clients read it (the WHATWG URL rules
libcurl follows), so ``2852039166``, ``0xa9fea9fe``, ``169.254.43518`` and ``0251.0376.0251.0376``
are all 169.254.169.254; brackets and IPv6 zone ids (``[fe80::1%25eth0]``) are stripped; and an
IPv6 address that carries an IPv4 one (IPv4-mapped ``::ffff:a.b.c.d``, NAT64 ``64:ff9b::/96``,
6to4 ``2002::/16``) is judged by the IPv4 address too.

User names and passwords in a URL are allowed (the sender passes them on as HTTP Basic auth,
which some receivers require); they are never logged. See "URL safety" in docs/delivery.md.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[[str, int], Sequence[IPAddress]]

SCHEMES = {"http": 80, "https": 443}

# Refused whatever the configuration says: these reach the machine's own cloud metadata service
# (instance credentials) or link-local neighbours, never a webhook receiver.
ALWAYS_DENIED: tuple[tuple[IPNetwork, str], ...] = (
    (ipaddress.ip_network("169.254.0.0/16"), "a link-local address"),
    (ipaddress.ip_network("fe80::/10"), "a link-local address"),
    (ipaddress.ip_network("fd00:ec2::254/128"), "a cloud metadata address"),
)
NAT64 = ipaddress.ip_network("64:ff9b::/96")
_DIGITS = {8: set("01234567"), 10: set("0123456789"), 16: set("0123456789abcdefABCDEF")}


class UnsafeUrl(ValueError):
    """The URL may not be delivered to; the message says why (``refused: ...``)."""


@dataclass(frozen=True)
class Target:
    """Where a URL points: its scheme, its host as written (unquoted, no brackets) and port."""

    scheme: str
    host: str
    port: int


def parse_target(url: str) -> Target:
    """The scheme, host and port of an ``http``/``https`` URL, else ``UnsafeUrl``."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UnsafeUrl(f"refused: not a valid URL ({exc})") from None
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES:
        raise UnsafeUrl(f"refused: only http and https URLs are delivered to, not {scheme or 'this'!r}")
    host = unquote(parts.hostname or "")
    if not host:
        raise UnsafeUrl("refused: the URL has no host")
    return Target(scheme, host, port if port is not None else SCHEMES[scheme])


def _ipv4_number(part: str) -> int | None:
    """One dotted part as the WHATWG IPv4 parser reads it: ``0x`` hex, leading-zero octal, decimal."""
    if part[:2] in ("0x", "0X"):
        digits, base = part[2:], 16
        if digits == "":
            return 0
    elif len(part) > 1 and part[0] == "0":
        digits, base = part[1:], 8
    else:
        digits, base = part, 10
    if not digits or not set(digits) <= _DIGITS[base]:
        return None
    return int(digits, base)


def _legacy_ipv4(host: str) -> ipaddress.IPv4Address | None:
    """``2852039166``, ``0xa9.0xfe.43518``, ``127.1`` and friends: the shorthand forms of IPv4."""
    parts = host.split(".")
    if parts and parts[-1] == "" and len(parts) > 1:
        parts.pop()  # one trailing dot is allowed
    if not 1 <= len(parts) <= 4 or not all(parts):
        return None
    numbers = [_ipv4_number(p) for p in parts]
    if any(n is None for n in numbers):
        return None
    *head, last = numbers
    if any(n > 255 for n in head) or last >= 256 ** (5 - len(numbers)):
        return None
    value = last
    for i, n in enumerate(head):
        value += n << (8 * (3 - i))
    return ipaddress.IPv4Address(value)


def literal_address(host: str) -> IPAddress | None:
    """The address a host written as an IP literal stands for, in any spelling; ``None`` for a name."""
    host = host.strip()
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if ":" in host:
        try:
            return ipaddress.IPv6Address(host)  # zone ids (``%eth0``) are accepted and kept
        except ValueError:
            return None
    return _legacy_ipv4(host)


def _embedded_ipv4(address: IPAddress) -> ipaddress.IPv4Address | None:
    if isinstance(address, ipaddress.IPv4Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address in NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return address.sixtofour


def denial(address: IPAddress, denied: Iterable[IPNetwork] = ()) -> str | None:
    """Why ``address`` may not be connected to (``"a link-local address"``...), or ``None``."""
    denied = tuple(denied)
    candidates = [address]
    inner = _embedded_ipv4(address)
    if inner is not None:
        candidates.append(inner)
    for candidate in candidates:
        for network, label in ALWAYS_DENIED:
            if candidate.version == network.version and candidate in network:
                return label
        for network in denied:
            if candidate.version == network.version and candidate in network:
                return f"in a denied network ({network})"
    return None


def check_addresses(host: str, addresses: Sequence[IPAddress], denied: Iterable[IPNetwork] = ()) -> None:
    """``UnsafeUrl`` naming the first refused address among ``addresses`` (all must pass)."""
    denied = tuple(denied)
    for address in addresses:
        reason = denial(address, denied)
        if reason is None:
            continue
        text = str(address)
        if host == text:
            raise UnsafeUrl(f"refused: {text} is {reason}")
        verb = "is" if literal_address(host) is not None else "resolves to"
        raise UnsafeUrl(f"refused: {host} {verb} {text}, {reason}")


class CheckedHost:
    """One URL and the addresses it may be connected to, checked on every call of ``addresses()``.

    A literal host is its own address (never looked up); a name is asked of ``resolve`` each
    time (which may cache). Every address must pass, or ``UnsafeUrl`` names the first refused
    one; a URL that is not ``http(s)`` is refused the same way. Errors of ``resolve``
    (``OSError``) propagate: not being able to resolve a name is not a refusal.
    """

    def __init__(self, url: str, denied: Iterable[IPNetwork], resolve: Resolver):
        self.url = url
        self.denied = tuple(denied)
        self.resolve = resolve
        try:
            self.target: Target | None = parse_target(url)
            self._error: UnsafeUrl | None = None
        except UnsafeUrl as exc:
            self.target, self._error = None, exc
        literal = literal_address(self.target.host) if self.target else None
        self._literal = (literal,) if literal is not None else None
        # The last addresses that passed: a caching resolver hands back the same tuple while its
        # answer is fresh, and the verdict on it cannot change (the denied networks are fixed).
        self._passed: Sequence[IPAddress] | None = None

    def addresses(self) -> Sequence[IPAddress]:
        if self._error is not None:
            raise self._error
        target = self.target
        addresses = self._literal or self.resolve(target.host, target.port)
        if addresses is not self._passed:
            if not addresses:
                raise OSError(f"no address for {target.host}")
            check_addresses(target.host, addresses, self.denied)
            self._passed = addresses
        return addresses


def check_configured_url(url: str, denied: Iterable[IPNetwork] = ()) -> Target:
    """The start-up check of a configured URL: ``http(s)``, a host, and not a refused literal address.

    Names are not resolved here (DNS answers change); every attempt checks them again.
    """
    target = parse_target(url)
    literal = literal_address(target.host)
    if literal is not None:
        check_addresses(target.host, (literal,), denied)
    return target


def address_problem(
    url: str, denied: Iterable[IPNetwork], resolve: Callable[[str, int], Sequence[IPAddress]]
) -> str | None:
    """Why ``url`` may not be an endpoint's URL, judged by the addresses its host resolves to
    now (blocking: call it off the IOLoop), or ``None``. A name that does not resolve yet is
    accepted: every attempt resolves and checks it again before connecting."""
    try:
        target = parse_target(url)
        literal = literal_address(target.host)
        if literal is not None:
            addresses: Sequence[IPAddress] = (literal,)
        else:
            try:
                addresses = resolve(target.host, target.port)
            except OSError:
                return None
        check_addresses(target.host, addresses, denied)
    except UnsafeUrl as exc:
        return str(exc)
    return None
