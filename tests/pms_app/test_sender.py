"""The sender against real local receivers: the whole-attempt deadline, the 64 KiB read cap,
redirects, Retry-After, keep-alive, connection errors, and the pinned, checked address."""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import socket
import ssl
import threading
import time
import uuid

import pytest
import tornado.test

from core.db import utcnow
from core.signing import keys_from_secrets
from pms_app.delivery.claims import Claim
from pms_app.delivery.sender import Sender
from pms_app.delivery.transport import CurlTransport
from tests.support.receivers import (
    Receiver,
    Reply,
    accept,
    always,
    dripping,
    endless,
    rate_limited,
    redirect,
    wait_until,
)

KEYS = keys_from_secrets(["sender-test-secret"])
LOOPBACK = ipaddress.ip_address("127.0.0.1")


def claim(event_id: str | None = None) -> Claim:
    now = utcnow()
    return Claim(
        seq=1,
        id=event_id or str(uuid.uuid4()),
        endpoint_id=1,
        type="guest.updated",
        payload={"id": 1, "name": "Ann", "version": 2},
        occurred_at=now,
        attempts_since_replay=0,
        worker_id="test",
        lease_until=now + dt.timedelta(seconds=60),
        trigger="scheduled",
        replayed_by=None,
    )


@pytest.fixture
def senders():
    made: list[Sender] = []

    def make(url: str, timeout: float = 2.0, **kwargs) -> Sender:
        sender = Sender(url, KEYS, timeout, **kwargs)
        made.append(sender)
        return sender

    yield make
    for sender in made:
        sender.close()


def resolving_to(*addresses: str, calls: list | None = None):
    """A resolver that answers ``addresses`` for any name (and notes what it was asked)."""

    def resolve(host: str, port: int):
        if calls is not None:
            calls.append((host, port))
        return [ipaddress.ip_address(a) for a in addresses]

    return resolve


def no_resolver(host: str, port: int):
    raise AssertionError(f"{host} should not have been resolved")


# -- the whole-attempt deadline ---------------------------------------------------------------


def test_an_answer_dripping_one_byte_at_a_time_is_cut_off_at_the_deadline(senders):
    # 40 bytes, 0.1 s apart: each read is quick, the whole answer takes 4 s against a 1 s limit.
    with Receiver(dripping(40, interval=0.1)) as receiver:
        sender = senders(receiver.url, timeout=1.0)
        t0 = time.monotonic()
        result = sender.send(claim())
        elapsed = time.monotonic() - t0
        wait_until(lambda: receiver.answers and receiver.answers[0].finished, message="the receiver noticed")
        answer = receiver.answers[0]
    assert elapsed < 1.0 + 0.5
    assert 900 <= result.record.duration_ms < 1500
    assert not result.record.ok and result.trips_breaker
    assert result.record.error.startswith("timed out after 1s")
    assert result.record.status_code is None
    assert answer.closed_early and answer.sent < 40


def test_an_answer_that_never_starts_times_out_at_the_limit(senders):
    with Receiver(lambda n, req: Reply(delay=3.0)) as receiver:
        result = senders(receiver.url, timeout=0.5).send(claim())
    assert result.record.error == "timed out after 0.5s"
    assert result.record.duration_ms < 1000


# -- the 64 KiB read cap ----------------------------------------------------------------------


def test_a_huge_chunked_answer_is_read_to_64_kib_and_its_200_still_counts(senders):
    size = 64 * 1024 * 1024
    with Receiver(endless(size, status=200)) as receiver:
        sender = senders(receiver.url, timeout=5.0)
        result = sender.send(claim())
        wait_until(lambda: receiver.answers and receiver.answers[0].finished, message="the receiver noticed")
        answer = receiver.answers[0]
    assert result.record.ok and result.record.status_code == 200 and result.record.error is None
    assert not result.trips_breaker
    assert len(result.record.response_body) == 2048  # attempts keep the first 2 KiB
    assert answer.closed_early and answer.sent < size  # the sender hung up early


@pytest.mark.parametrize("size, truncated", [(8 * 1024 * 1024, True), (64 * 1024, False), (100, False)])
def test_the_transport_reads_64_kib_and_no_further(size, truncated):
    transport = CurlTransport()
    try:
        with Receiver(endless(size)) as receiver:
            response = transport.post(
                receiver.url, b"{}", ["Content-Type: application/json"], [LOOPBACK], receiver.port, time.monotonic() + 5
            )
    finally:
        transport.close()
    assert response.status == 200 and response.error is None
    assert len(response.body) == min(size, 64 * 1024) and response.truncated is truncated


def test_a_huge_error_answer_is_capped_and_still_a_failure(senders):
    with Receiver(endless(8 * 1024 * 1024, status=500)) as receiver:
        result = senders(receiver.url).send(claim())
    assert not result.record.ok and result.record.status_code == 500
    assert result.record.error == "HTTP 500" and result.trips_breaker


# -- answers the outcome depends on ----------------------------------------------------------


def test_a_redirect_is_not_followed_and_names_its_target(senders):
    with Receiver(accept) as target, Receiver(redirect(target.url, status=302)) as receiver:
        result = senders(receiver.url).send(claim())
        assert target.count() == 0
    assert result.record.status_code == 302 and not result.record.ok and result.trips_breaker
    assert result.record.error == f"HTTP 302 redirect (not followed) to {target.url}"


@pytest.mark.parametrize("status", [429, 503])
def test_retry_after_is_read_from_the_answer(senders, status):
    with Receiver(rate_limited("7", status=status)) as receiver:
        result = senders(receiver.url).send(claim())
    assert result.record.status_code == status and result.retry_after == 7.0


def test_a_refusing_4xx_fails_the_attempt_without_blaming_the_endpoint(senders):
    with Receiver(always(422)) as receiver:
        result = senders(receiver.url).send(claim())
    assert result.record.status_code == 422 and not result.record.ok and not result.trips_breaker
    assert result.record.response_body == '{"error":{"code":"x"}}'


def test_one_connection_is_reused_across_sends(senders):
    with Receiver(accept) as receiver:
        sender = senders(receiver.url)
        results = [sender.send(claim()) for _ in range(5)]
        peers = {req.peer for req in receiver.received}
    assert all(r.record.ok for r in results)
    assert len(peers) == 1 and None not in peers


def test_a_refused_connection_is_a_failure(senders):
    receiver = Receiver(accept)  # bound, never started, then closed: connecting is refused
    url = receiver.url
    receiver._sock.close()
    result = senders(url).send(claim())
    assert result.record.status_code is None and result.trips_breaker
    assert result.record.error.startswith("ConnectionError: ")


def test_credentials_in_the_url_are_sent_as_basic_auth(senders):
    with Receiver(accept) as receiver:
        url = receiver.url.replace("http://", "http://hook:s%40cret@")
        assert senders(url).send(claim()).record.ok
        (req,) = receiver.received
    assert req.headers["authorization"] == "Basic aG9vazpzQGNyZXQ="  # hook:s@cret


def test_each_attempt_records_where_it_went_with_the_password_masked(senders):
    with Receiver(accept) as receiver:
        url = receiver.url.replace("http://", "http://hook:s%40cret@")
        record = senders(url).send(claim()).record
        (req,) = receiver.received
    assert record.target_url == receiver.url.replace("http://", "http://hook:***@")
    assert record.signatures == len(KEYS) == len(req.headers["webhook-signature"].split())


# -- the checked address is the address connected to -----------------------------------------


def test_the_connection_goes_to_the_address_that_passed_the_check(senders):
    calls: list = []
    with Receiver(accept) as receiver:
        # ``.invalid`` never resolves: only the pinned, checked address can be reached.
        url = f"http://hooks.example.invalid:{receiver.port}{receiver.path}"
        result = senders(url, resolver=resolving_to("127.0.0.1", calls=calls)).send(claim())
        (req,) = receiver.received
    assert result.record.ok, result.record.error
    assert calls == [("hooks.example.invalid", receiver.port)]
    assert req.headers["host"] == f"hooks.example.invalid:{receiver.port}"  # the URL's host


def test_the_next_checked_address_is_tried_when_the_first_refuses(senders):
    with Receiver(accept) as receiver:
        # The receiver listens on 127.0.0.1 only, so 127.0.0.2 (loopback too) refuses the connection.
        url = f"http://hooks.example.invalid:{receiver.port}{receiver.path}"
        result = senders(url, resolver=resolving_to("127.0.0.2", "127.0.0.1")).send(claim())
        assert receiver.count() == 1
    assert result.record.ok, result.record.error


@pytest.mark.parametrize(
    "host, problem",
    [
        ("hooks.example.invalid", "no alternative certificate subject name"),
        ("foo.example.com", "self-signed certificate"),
    ],
)
def test_tls_names_the_url_host_and_checks_its_certificate_on_the_pinned_connection(senders, host, problem):
    # Tornado's self-signed test certificate for foo.example.com: for another name the name check
    # fails, for its own name the chain check does (no trusted CA signed it).
    certs = os.path.dirname(tornado.test.__file__)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(os.path.join(certs, "test.crt"), os.path.join(certs, "test.key"))
    server_names: list = []
    context.sni_callback = lambda sock, name, ctx: server_names.append(name)
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(10)

    def serve_one() -> None:
        conn, _ = listener.accept()
        with conn:
            try:
                context.wrap_socket(conn, server_side=True)
            except (ssl.SSLError, OSError):
                pass  # the client refused our certificate, as it should

    server = threading.Thread(target=serve_one, daemon=True)
    server.start()
    try:
        url = f"https://{host}:{listener.getsockname()[1]}/hook"
        result = senders(url, resolver=resolving_to("127.0.0.1")).send(claim())
        server.join(10)
    finally:
        listener.close()
    assert server_names == [host]
    assert result.record.error.startswith("TLSError: ") and problem in result.record.error
    assert result.trips_breaker


def test_a_name_resolving_to_the_metadata_address_is_refused_without_connecting(senders):
    with Receiver(accept) as receiver:
        url = f"http://metadata.example.invalid:{receiver.port}{receiver.path}"
        # One good address is not enough: every address the name resolves to must pass.
        result = senders(url, resolver=resolving_to("127.0.0.1", "169.254.169.254")).send(claim())
        assert receiver.count() == 0
    assert result.record.error == (
        "refused: metadata.example.invalid resolves to 169.254.169.254, a link-local address"
    )
    assert result.record.status_code is None and not result.record.ok and result.trips_breaker


@pytest.mark.parametrize(
    "host",
    [
        "169.254.169.254",
        "2852039166",
        "0xa9fea9fe",
        "169.254.43518",
        "0251.0376.0251.0376",
        "[::ffff:169.254.169.254]",
        "[fe80::1%25eth0]",
        "[fd00:ec2::254]",
    ],
)
def test_a_literal_metadata_address_is_refused_in_any_spelling(senders, host):
    result = senders(f"http://{host}/latest/meta-data/", resolver=no_resolver).send(claim())
    assert result.record.error.startswith("refused: ") and result.trips_breaker


def test_denied_networks_are_refused_too(senders):
    with Receiver(accept) as receiver:
        denied = (ipaddress.ip_network("127.0.0.0/8"),)
        result = senders(receiver.url, denied=denied).send(claim())
        assert receiver.count() == 0
    assert result.record.error == "refused: 127.0.0.1 is in a denied network (127.0.0.0/8)"


def test_a_name_that_does_not_resolve_is_a_connection_error(senders):
    def fails(host, port):
        raise OSError("Name or service not known")

    result = senders("http://nowhere.example.invalid/hook", resolver=fails).send(claim())
    assert result.record.error == "ConnectionError: cannot resolve nowhere.example.invalid: Name or service not known"
    assert result.trips_breaker


@pytest.mark.parametrize(
    "url", ["ftp://127.0.0.1/hook", "file:///etc/passwd", "gopher://127.0.0.1:70/x", "http:///no-host"]
)
def test_only_http_and_https_urls_are_sent(senders, url):
    result = senders(url, resolver=no_resolver).send(claim())
    assert result.record.error.startswith("refused: ") and result.trips_breaker
