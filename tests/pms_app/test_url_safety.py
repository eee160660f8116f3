"""URL safety as pure functions: every spelling of a refused address, denied networks, schemes,
and the start-up checks of ``ENDPOINT_DENIED_NETWORKS`` and ``CRM_WEBHOOK_URL``."""

from __future__ import annotations

import ipaddress

import pytest

from core.config import ConfigError
from pms_app.config import PmsSettings
from pms_app.delivery.resolver import CachingResolver
from pms_app.delivery.url_safety import (
    CheckedHost,
    Target,
    UnsafeUrl,
    check_addresses,
    check_configured_url,
    denial,
    literal_address,
    parse_target,
)

ip = ipaddress.ip_address
METADATA = ip("169.254.169.254")


@pytest.mark.parametrize(
    "host",
    [
        "169.254.169.254",
        "2852039166",
        "0xa9fea9fe",
        "0XA9FEA9FE",
        "169.254.43518",
        "0251.0376.0251.0376",
        "0xa9.0xfe.0xa9.0xfe",
        "169.16689662",
        "0251.0xfe.43518",
        "169.254.169.254.",
    ],
)
def test_every_ipv4_spelling_of_the_metadata_address_is_read_as_it(host):
    assert literal_address(host) == METADATA
    assert denial(literal_address(host)) == "a link-local address"


@pytest.mark.parametrize(
    "host, expected, why",
    [
        ("[::ffff:169.254.169.254]", "::ffff:a9fe:a9fe", "a link-local address"),
        ("::ffff:a9fe:a9fe", "::ffff:a9fe:a9fe", "a link-local address"),
        ("fe80::1%eth0", "fe80::1%eth0", "a link-local address"),  # zone ids arrive unquoted
        ("[FE80::abcd]", "fe80::abcd", "a link-local address"),
        ("[fd00:ec2::254]", "fd00:ec2::254", "a cloud metadata address"),
        ("64:ff9b::a9fe:a9fe", "64:ff9b::a9fe:a9fe", "a link-local address"),  # NAT64
        ("2002:a9fe:a9fe::1", "2002:a9fe:a9fe::1", "a link-local address"),
    ],
)  # 6to4
def test_ipv6_forms_of_refused_addresses_are_refused(host, expected, why):
    address = literal_address(host)
    assert address == ip(expected)
    assert denial(address) == why


@pytest.mark.parametrize(
    "host",
    ["hooks.example.com", "localhost", "1.2.3.4.5", "256.1.1.1", "08.1.1.1", "1..2", "example.123", "::zz", "[::1", ""],
)
def test_names_and_malformed_numbers_are_not_literal_addresses(host):
    assert literal_address(host) is None


def test_short_forms_follow_the_url_standard():
    assert literal_address("0x") == ip("0.0.0.0")
    assert literal_address("127.1") == ip("127.0.0.1")
    assert literal_address("10.1.65535") == ip("10.1.255.255")
    assert literal_address("10.1.65536") is None  # the last part overflows its room
    assert literal_address("4294967295") == ip("255.255.255.255")
    assert literal_address("4294967296") is None


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.0.0.5",
        "8.8.8.8",
        "::1",
        "2001:db8::1",
        "fd00:ec2::253",
        "169.253.255.255",
        "169.255.0.0",
        "fec0::1",
    ],
)
def test_ordinary_addresses_pass_by_default(address):
    assert denial(ip(address)) is None


def test_denied_networks_add_to_the_fixed_ones_and_cover_mapped_addresses():
    denied = (ipaddress.ip_network("10.0.0.0/8"), ipaddress.ip_network("fd00::/8"))
    assert denial(ip("10.2.3.4"), denied) == "in a denied network (10.0.0.0/8)"
    assert denial(ip("::ffff:10.2.3.4"), denied) == "in a denied network (10.0.0.0/8)"
    assert denial(ip("fd12::1"), denied) == "in a denied network (fd00::/8)"
    assert denial(ip("11.0.0.1"), denied) is None
    assert denial(METADATA, denied) == "a link-local address"


def test_parse_target_reads_scheme_host_and_port():
    assert parse_target("https://Hooks.Example.com/x") == Target("https", "hooks.example.com", 443)
    assert parse_target("HTTP://user:pw@h:8080/x?y") == Target("http", "h", 8080)
    assert parse_target("http://[fe80::1%25eth0]:81/") == Target("http", "fe80::1%eth0", 81)


@pytest.mark.parametrize(
    "url, why",
    [
        ("ftp://h/x", "only http and https"),
        ("file:///etc/passwd", "only http"),
        ("h/x", "only http"),
        ("http:///x", "no host"),
        ("http://h:99999/", "not a valid URL"),
        ("http://[::1/", "not a valid URL"),
    ],
)
def test_parse_target_refuses_what_is_not_an_http_url(url, why):
    with pytest.raises(UnsafeUrl, match=why):
        parse_target(url)


def test_refusals_name_the_host_and_the_address():
    with pytest.raises(UnsafeUrl) as caught:
        check_addresses("meta.example", [ip("8.8.8.8"), METADATA])
    assert str(caught.value) == "refused: meta.example resolves to 169.254.169.254, a link-local address"
    with pytest.raises(UnsafeUrl, match=r"^refused: 2852039166 is 169.254.169.254, a link-local address$"):
        check_addresses("2852039166", [METADATA])
    with pytest.raises(UnsafeUrl, match=r"^refused: fd00:ec2::254 is a cloud metadata address$"):
        check_addresses("fd00:ec2::254", [ip("fd00:ec2::254")])


def test_a_destination_resolves_names_at_every_call_and_never_literals():
    asked = []

    def resolve(host, port):
        asked.append((host, port))
        return [ip("127.0.0.1"), ip("::1")]

    assert CheckedHost("http://hooks.example/x", (), resolve).addresses() == [ip("127.0.0.1"), ip("::1")]
    literal = CheckedHost("http://0x7f.1:8080/x", (), resolve)
    assert literal.addresses() == (ip("127.0.0.1"),) and literal.target.port == 8080
    assert asked == [("hooks.example", 80)]
    with pytest.raises(OSError):
        CheckedHost("http://empty.example/", (), lambda host, port: ()).addresses()


def test_a_destination_checks_every_fresh_answer():
    answers = iter([(ip("10.0.0.1"),), (ip("169.254.169.254"),)])
    destination = CheckedHost("https://rebinding.example/hook", (), lambda host, port: next(answers))
    assert destination.addresses() == (ip("10.0.0.1"),)
    with pytest.raises(UnsafeUrl, match="rebinding.example resolves to 169.254.169.254"):
        destination.addresses()
    with pytest.raises(UnsafeUrl, match="only http and https"):
        CheckedHost("gopher://h/", (), resolve=None).addresses()


def test_the_resolver_cache_keeps_answers_for_its_ttl_only():
    now = [100.0]
    answers = iter([(ip("10.0.0.1"),), (ip("10.0.0.2"),)])
    resolver = CachingResolver(ttl=5, resolve=lambda host, port: next(answers), clock=lambda: now[0])
    assert resolver("h", 80) == (ip("10.0.0.1"),)
    now[0] += 4.9
    assert resolver("h", 80) == (ip("10.0.0.1"),)
    now[0] += 0.2
    assert resolver("h", 80) == (ip("10.0.0.2"),)


# -- start-up checks ------------------------------------------------------------------------


def settings(**env) -> PmsSettings:
    return PmsSettings.from_env({"ENV_FILE": "/nonexistent", **env})


def test_denied_networks_are_read_from_the_environment():
    assert settings().endpoint_denied_networks == ()
    assert settings(ENDPOINT_DENIED_NETWORKS=" 10.0.0.0/8, fd00::/8,192.0.2.7 ").endpoint_denied_networks == (
        ipaddress.ip_network("10.0.0.0/8"),
        ipaddress.ip_network("fd00::/8"),
        ipaddress.ip_network("192.0.2.7/32"),
    )


@pytest.mark.parametrize("value", ["10.0.0.0/33", "10.1.2.3/8", "ten/8", "10.0.0.0/8;11.0.0.0/8"])
def test_malformed_denied_networks_stop_the_start(value):
    with pytest.raises(ConfigError, match="ENDPOINT_DENIED_NETWORKS"):
        settings(ENDPOINT_DENIED_NETWORKS=value)


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/hook",
        "http://2852039166/hook",
        "http://[fe80::1%25eth0]/",
        "http://[::ffff:169.254.169.254]/",
        "ftp://crm.example/hook",
        "http:///hook",
    ],
)
def test_a_crm_url_that_can_never_be_delivered_to_stops_the_start(url):
    with pytest.raises(ConfigError, match="^CRM_WEBHOOK_URL: refused: "):
        settings(CRM_WEBHOOK_URL=url)


def test_a_crm_url_in_a_denied_network_stops_the_start_and_names_are_left_to_each_attempt():
    with pytest.raises(ConfigError, match=r"CRM_WEBHOOK_URL: refused: 10.1.1.1 is in a denied network"):
        settings(CRM_WEBHOOK_URL="http://10.1.1.1/hook", ENDPOINT_DENIED_NETWORKS="10.0.0.0/8")
    ok = settings(CRM_WEBHOOK_URL="https://crm.example/hook", ENDPOINT_DENIED_NETWORKS="10.0.0.0/8")
    assert ok.crm_webhook_url == "https://crm.example/hook"
    assert check_configured_url("http://user:pw@crm.example:8443/x") == Target("http", "crm.example", 8443)
