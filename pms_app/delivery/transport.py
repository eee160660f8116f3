"""One HTTP POST over libcurl (pycurl): a whole-attempt deadline, a capped answer, a pinned address.

``CurlTransport.post`` knows nothing of webhooks; it sends bytes to a URL and reports what came
back. What it guarantees:

* **One deadline** for the whole exchange, connect to the last byte of the answer
  (``TIMEOUT_MS`` and ``CONNECTTIMEOUT_MS``), so a receiver that drips its answer is cut off at
  the limit instead of holding the attempt for as long as each byte comes in time.
* **A capped answer**: at most ``body_limit`` bytes are read. The write callback returns a short
  count once past the cap, which stops the transfer (``MAXFILESIZE`` would not: it is ignored
  for chunked answers). Stopping there is not an error: the status line already came.
* **A pinned address**: the connection goes to one of the ``addresses`` the caller checked,
  through a ``CONNECT_TO`` entry that matches any host and port, so libcurl never resolves the
  name itself (no DNS rebinding between the check and the connect, whatever libcurl makes of
  the URL). The ``Host`` header and TLS (SNI, certificate name) still use the URL's host. When
  an address refuses the connection the next one is tried, within the same deadline.
* No redirects (a 3xx is the answer), no proxy (a proxy would resolve the name itself), only
  ``http`` and ``https``; no ``Expect: 100-continue`` round trip.

Each thread gets its own reused ``Curl`` handle (libcurl handles are not thread-safe), so a
sending thread keeps its connections alive across attempts and endpoints.
"""

from __future__ import annotations

import functools
import ipaddress
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass

import pycurl

from .url_safety import IPAddress

RESPONSE_READ_LIMIT = 64 * 1024

# libcurl failures worth a name in an attempt's error; anything else is "TransportError".
_KINDS = {
    pycurl.E_COULDNT_CONNECT: "ConnectionError",
    pycurl.E_COULDNT_RESOLVE_HOST: "ConnectionError",
    pycurl.E_GOT_NOTHING: "ConnectionError",
    pycurl.E_RECV_ERROR: "ConnectionError",
    pycurl.E_SEND_ERROR: "ConnectionError",
    pycurl.E_PARTIAL_FILE: "ConnectionError",
    pycurl.E_SSL_CONNECT_ERROR: "TLSError",
    pycurl.E_PEER_FAILED_VERIFICATION: "TLSError",
    pycurl.E_SSL_CACERT: "TLSError",
    pycurl.E_SSL_CERTPROBLEM: "TLSError",
    pycurl.E_SSL_CIPHER: "TLSError",
    pycurl.E_SSL_ISSUER_ERROR: "TLSError",
    pycurl.E_HTTP2: "ProtocolError",
}


@dataclass(frozen=True)
class Response:
    """What one POST came to. ``status`` is ``None`` when no complete answer arrived in time."""

    status: int | None
    body: bytes  # at most the body limit
    truncated: bool  # the answer went on past the limit and was not read further
    retry_after: str | None
    location: str | None
    error: str | None  # transport failure ("ConnectionError: ..."); None when answered
    timed_out: bool = False
    partial_status: int | None = None  # on a timeout: the status line that did arrive, if any


class _Exchange:
    """Per-handle state of the transfer in progress, fed by libcurl's callbacks."""

    __slots__ = ("limit", "chunks", "size", "truncated", "retry_after", "location")

    def __init__(self, limit: int):
        self.limit = limit
        self.reset()

    def reset(self) -> None:
        self.chunks: list[bytes] = []
        self.size = 0
        self.truncated = False
        self.retry_after: str | None = None
        self.location: str | None = None

    def write(self, data: bytes):
        room = self.limit - self.size
        if len(data) <= room:
            self.chunks.append(data)
            self.size += len(data)
            return None  # all consumed
        if room > 0:
            self.chunks.append(data[:room])
            self.size += room
        self.truncated = True
        return 0  # a short count: libcurl stops reading here

    def header(self, line: bytes) -> None:
        if line[:1] not in b"HhLlRr":  # a quick pass over the headers nobody reads
            return
        if line[:5] == b"HTTP/":  # a new answer (after a 1xx): forget the previous one's
            self.retry_after = self.location = None
            return
        name, sep, value = line.partition(b":")
        if not sep:
            return
        name = name.strip().lower()
        if name == b"retry-after":
            self.retry_after = value.strip().decode("latin-1")
        elif name == b"location":
            self.location = value.strip().decode("latin-1")


class _Handle:
    def __init__(self, limit: int, user_agent: str):
        self.exchange = _Exchange(limit)
        self.url: str | None = None  # what the handle was last set to, to skip repeats
        self.connect_to: str | None = None
        curl = self.curl = pycurl.Curl()
        curl.setopt(pycurl.NOSIGNAL, 1)  # timeouts without SIGALRM: safe in threads
        curl.setopt(pycurl.FOLLOWLOCATION, 0)  # a 3xx is the answer, not an instruction
        curl.setopt(pycurl.PROTOCOLS, pycurl.PROTO_HTTP | pycurl.PROTO_HTTPS)
        curl.setopt(pycurl.PROXY, "")  # ignore *_proxy variables: see the module doc
        curl.setopt(pycurl.NOPROXY, "*")
        curl.setopt(pycurl.USERAGENT, user_agent)
        curl.setopt(pycurl.WRITEFUNCTION, self.exchange.write)
        curl.setopt(pycurl.HEADERFUNCTION, self.exchange.header)


@functools.lru_cache(maxsize=1024)
def connect_to(address: IPAddress, port: int) -> str:
    """A ``CONNECT_TO`` entry sending a connection for any host and port to ``address:port``."""
    if isinstance(address, ipaddress.IPv6Address):
        # Only link-local addresses carry a zone (``%eth0``), and those are refused before this.
        return f"::[{str(address).split('%', 1)[0]}]:{port}"
    return f"::{address}:{port}"


class CurlTransport:
    def __init__(self, body_limit: int = RESPONSE_READ_LIMIT, user_agent: str = "guestsync"):
        self.body_limit = body_limit
        self.user_agent = user_agent
        self._local = threading.local()
        self._lock = threading.Lock()
        self._handles: list[_Handle] = []

    def _handle(self) -> _Handle:
        handle = getattr(self._local, "handle", None)
        if handle is None:
            handle = self._local.handle = _Handle(self.body_limit, self.user_agent)
            with self._lock:
                self._handles.append(handle)
        return handle

    def post(
        self, url: str, body: bytes, headers: Sequence[str], addresses: Sequence[IPAddress], port: int, deadline: float
    ) -> Response:
        """POST ``body`` to ``url``, connecting to ``addresses`` in turn, finished by ``deadline``
        (a ``time.monotonic()`` value). ``headers`` are ``"Name: value"`` lines."""
        handle = self._handle()
        curl, exchange = handle.curl, handle.exchange
        if url != handle.url:
            curl.setopt(pycurl.URL, url)
            handle.url = url
        curl.setopt(pycurl.POSTFIELDS, body)
        curl.setopt(pycurl.HTTPHEADER, [*headers, "Expect:"])
        response: Response | None = None
        for address in addresses:
            remaining_ms = int((deadline - time.monotonic()) * 1000)
            if remaining_ms <= 0:
                break
            exchange.reset()
            entry = connect_to(address, port)
            if entry != handle.connect_to:
                curl.setopt(pycurl.CONNECT_TO, [entry])
                handle.connect_to = entry
            curl.setopt(pycurl.TIMEOUT_MS, remaining_ms)
            curl.setopt(pycurl.CONNECTTIMEOUT_MS, remaining_ms)
            response, code = self._perform(curl, exchange)
            if code != pycurl.E_COULDNT_CONNECT:  # nothing was sent: the next address is safe to try
                break
        if response is None:  # the deadline passed before a connection could be tried
            return Response(None, b"", False, None, None, None, timed_out=True)
        return response

    def _perform(self, curl: pycurl.Curl, exchange: _Exchange) -> tuple[Response, int | None]:
        """One transfer; the libcurl error code alongside (``None`` when an answer came)."""
        try:
            curl.perform()
        except pycurl.error as exc:
            code = exc.args[0] if exc.args else -1
            message = exc.args[1] if len(exc.args) > 1 else str(exc)
            status = curl.getinfo(pycurl.RESPONSE_CODE) or None
            if code == pycurl.E_WRITE_ERROR and exchange.truncated:
                return self._answer(status, exchange), None  # our cap stopped it, not a failure
            if code == pycurl.E_OPERATION_TIMEDOUT:
                return Response(
                    None,
                    b"".join(exchange.chunks),
                    exchange.truncated,
                    None,
                    None,
                    None,
                    timed_out=True,
                    partial_status=status,
                ), code
            error = f"{_KINDS.get(code, 'TransportError')}: {message}"[:500]
            return Response(None, b"", False, None, None, error), code
        return self._answer(curl.getinfo(pycurl.RESPONSE_CODE), exchange), None

    @staticmethod
    def _answer(status: int | None, exchange: _Exchange) -> Response:
        return Response(
            status, b"".join(exchange.chunks), exchange.truncated, exchange.retry_after, exchange.location, None
        )

    def close(self) -> None:
        """Close every thread's handle (and its connections); call once no thread is posting."""
        with self._lock:
            handles, self._handles = self._handles, []
        for handle in handles:
            handle.curl.close()
        self._local = threading.local()
