"""The websocket link to the central system: security profiles 0-3, subprotocol ``ocpp1.6``.

:func:`open_link` dials the endpoint and yields a :class:`Link` that sends and
receives text frames and pings. Every way the link can fail becomes a
:class:`LinkError` whose ``reason`` is a short text for the log and ``ocppctl
status``: handshake refused, certificate not trusted, subprotocol not agreed, no
pong, closed by the peer. TLS never falls back to plain ws: profiles 2 and 3 only
ever dial ``wss://``.

The websocket protocol itself is :mod:`ocppd.transport.websocket` (sans-IO); this
module is the trio shell around it: TCP and TLS streams, one reader, serialised
writers, the close handshake under a deadline.
"""

from __future__ import annotations

import base64
import logging
import os
import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import trio

from ocppd.transport.websocket import (
    ABNORMAL_CLOSURE,
    NO_STATUS_RCVD,
    PING,
    PONG,
    PROTOCOL_ERROR,
    TEXT,
    Close,
    Handshake,
    HandshakeFailed,
    Message,
    Ping,
    Pong,
    ProtocolViolation,
    Reader,
    close_name,
    encode,
    encode_close,
)

log = logging.getLogger(__name__)

SUBPROTOCOL = "ocpp1.6"
CLOSE_TIMEOUT_S = 5.0  # the close handshake waits at most this long for the peer
RECEIVE_BYTES = 65536


class LinkError(Exception):
    """The link could not be opened, or broke. ``reason`` says why in a few words."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class LinkTarget:
    """Where and how to dial."""

    url: str  # the full endpoint, charge point id included
    charge_point_id: str
    security_profile: int = 0
    authorization_key: str | None = field(default=None, repr=False)
    ca_file: str | None = None
    cert_file: str | None = None
    key_file: str | None = None
    connect_timeout_s: float = 30.0
    max_frame_bytes: int = 1024 * 1024

    @property
    def tls(self) -> bool:
        return urlsplit(self.url).scheme == "wss"

    def ssl_context(self) -> ssl.SSLContext | None:
        """TLS 1.2 or newer, verified against ``ca_file`` or the system CAs; client cert for 3."""
        if not self.tls:
            if self.security_profile >= 2:
                raise LinkError(f"security profile {self.security_profile} needs a wss:// URL")
            return None
        context = ssl.create_default_context(cafile=self.ca_file)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        if self.security_profile == 3:
            if not (self.cert_file and self.key_file):
                raise LinkError("security profile 3 needs cert_file and key_file")
            try:
                context.load_cert_chain(self.cert_file, self.key_file)
            except (OSError, ssl.SSLError) as exc:
                raise LinkError(f"cannot load client certificate: {exc}") from exc
        return context

    def headers(self) -> list[tuple[bytes, bytes]]:
        if self.security_profile in (1, 2) and self.authorization_key:
            token = f"{self.charge_point_id}:{self.authorization_key}".encode()
            return [(b"Authorization", b"Basic " + base64.b64encode(token))]
        return []


class Link:
    """One open websocket. Methods raise :class:`LinkError` once the link is gone.

    One task receives (the session's reader: it also answers pings and takes pongs);
    any task may send (sends are serialised); :meth:`aclose` may come from any task.
    """

    def __init__(
        self,
        stream: trio.abc.Stream,
        target: LinkTarget,
        reader: Reader,
        subprotocol: str | None,
    ) -> None:
        self._stream = stream
        self.target = target
        self.subprotocol = subprotocol
        self._reader = reader
        self._send_lock = trio.StrictFIFOLock()
        self._closed: str | None = None  # why the link is gone, once it is
        self._broken = False  # the stream itself failed: no close handshake possible
        self._close_sent = False
        self._close_received = trio.Event()
        self._receiving = False
        self._stream_closed = False
        self._pong_wanted: bytes | None = None
        self._pong = trio.Event()

    def __repr__(self) -> str:
        return f"<Link {self.target.url} closed={self._closed!r}>"

    # --- sending ---

    async def _send_frame(self, frame: bytes) -> None:
        # A cancelled caller stops here, before a byte is out. Past this point a Cancelled
        # may leave half a frame on the wire, so it breaks the link.
        await trio.lowlevel.checkpoint_if_cancelled()
        try:  # uncontended (nearly always): no extra trip through the scheduler per frame
            self._send_lock.acquire_nowait()
        except trio.WouldBlock:
            await self._send_lock.acquire()
        try:
            await self._stream.send_all(frame)
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            raise self._lost() from None
        except trio.Cancelled:
            self._lost("closed (a send was interrupted)")
            raise
        finally:
            self._send_lock.release()

    def _lost(self, why: str | None = None) -> LinkError:
        self._broken = True
        if self._closed is None:
            self._closed = why or _closed_text(ABNORMAL_CLOSURE, "")
        return LinkError(self._closed)

    async def send(self, text: str) -> None:
        if self._closed is not None:
            raise LinkError(self._closed)
        await self._send_frame(encode(TEXT, text.encode()))

    async def _send_close(self, code: int, reason: str) -> None:
        if not self._close_sent:
            self._close_sent = True
            await self._send_frame(encode_close(code, reason))

    # --- receiving ---

    async def receive(self) -> str:
        """The next message; pings are answered and pongs taken on the way."""
        while True:
            if self._closed is not None:
                raise LinkError(self._closed)
            try:
                event = self._reader.next_event()
            except ProtocolViolation as exc:
                await self._fail(exc)
                raise LinkError(self._closed or exc.reason) from None
            if event is None:
                self._reader.feed(await self._receive_some())
            elif isinstance(event, Message):
                if isinstance(event.data, bytes):
                    try:
                        return event.data.decode("utf-8")
                    except UnicodeDecodeError:
                        return ""  # not a frame; the protocol layer ignores it
                return event.data
            elif isinstance(event, Ping):
                await self._send_frame(encode(PONG, event.payload))
            elif isinstance(event, Pong):
                if event.payload == self._pong_wanted:
                    self._pong.set()
            elif isinstance(event, Close):
                await self._closed_by_peer(event)
                raise LinkError(self._closed or "closed")

    async def _receive_some(self) -> bytes | bytearray:
        self._receiving = True
        try:
            data = await self._stream.receive_some(RECEIVE_BYTES)
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            raise self._lost() from None
        finally:
            self._receiving = False
        if not data:
            raise self._lost()
        return data

    async def _closed_by_peer(self, event: Close) -> None:
        self._close_received.set()
        if self._closed is None:
            self._closed = _closed_text(event.code, event.reason)
        code = event.code
        if code != NO_STATUS_RCVD and not (1000 <= code < 5000 and code not in (1004, 1006, 1015)):
            code = PROTOCOL_ERROR
        try:
            await self._send_close(code, "")
        except LinkError:
            pass

    async def _fail(self, violation: ProtocolViolation) -> None:
        """The central system broke the protocol: close with the code RFC 6455 asks for."""
        log.warning("websocket protocol violation by the central system: %s", violation.reason)
        if self._closed is None:
            self._closed = _closed_text(violation.code, violation.reason)
        try:
            await self._send_close(violation.code, violation.reason)
        except LinkError:
            pass

    # --- ping ---

    async def ping(self, timeout: float) -> None:
        """Wait for the pong to a ping; a dead link (half-open TCP) fails after ``timeout``."""
        payload = os.urandom(8)
        self._pong_wanted, self._pong = payload, trio.Event()
        with trio.move_on_after(timeout):
            await self._send_frame(encode(PING, payload))
            await self._pong.wait()
            return
        raise LinkError(f"no pong within {timeout:g} s")

    # --- closing ---

    async def aclose(self, code: int = 1000, reason: str | None = None) -> None:
        """Close handshake (at most :data:`CLOSE_TIMEOUT_S`), then the stream. Never raises."""
        if self._stream_closed:
            return
        with trio.CancelScope(shield=True):
            with trio.move_on_after(CLOSE_TIMEOUT_S):
                try:
                    if self._closed is None:
                        self._closed = _closed_text(code, reason or "")
                    if not self._broken and not self._close_sent:
                        await self._send_close(code, reason or "")
                    if not self._broken and not self._close_received.is_set():
                        if self._receiving:  # the reader will see the answer
                            await self._close_received.wait()
                        else:
                            await self._drain()
                except (LinkError, ProtocolViolation) as exc:
                    log.debug("closing the link: %r", exc)
            self._stream_closed = True
            await trio.aclose_forcefully(self._stream)

    async def _drain(self) -> None:
        """Read (and drop) until the peer's close frame or the end of the stream."""
        while True:
            event = self._reader.next_event()
            if isinstance(event, Close):
                self._close_received.set()
                return
            if event is None:
                self._reader.feed(await self._receive_some())


def _closed_text(code: int, reason: str) -> str:
    text = f"closed ({code} {close_name(code)})"
    return f"{text}: {reason}" if reason else text


def _host_header(host: str, port: int, tls: bool) -> str:
    name = f"[{host}]" if ":" in host else host
    return name if port == (443 if tls else 80) else f"{name}:{port}"


def _ascii(host: str) -> str | bytes:
    """A plain ASCII name as bytes: the resolver then skips Python's idna codec, which
    would otherwise be imported for every dial (about 100 kB resident)."""
    return host.encode("ascii") if host.isascii() else host


def _tls_reason(exc: BaseException) -> str:
    """What TLS said, in a few words."""
    cause = exc.__cause__ or exc.__context__
    if isinstance(cause, ssl.SSLCertVerificationError):
        return f"TLS: certificate not trusted: {cause.verify_message}"
    if isinstance(cause, ssl.SSLError):
        return f"TLS: {cause.reason or cause}"
    return f"TLS: {cause or exc or 'connection broken'}"


async def _dial(target: LinkTarget, context: ssl.SSLContext | None) -> Link:
    """TCP (and TLS), then the opening handshake. Every failure is a LinkError."""
    parts = urlsplit(target.url)
    host = parts.hostname or ""
    port = parts.port or (443 if context is not None else 80)
    resource = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    handshake = Handshake.build(
        _host_header(host, port, context is not None), resource, [SUBPROTOCOL], target.headers()
    )
    stream: trio.abc.Stream | None = None
    try:
        with trio.fail_after(target.connect_timeout_s):
            stream = await trio.open_tcp_stream(_ascii(host), port)
            if context is not None:
                stream = trio.SSLStream(
                    stream, context, server_hostname=host, https_compatible=True
                )
                await stream.do_handshake()
            await stream.send_all(handshake.request)
            answer = bytearray()
            while not handshake.response_complete(answer):
                data = await stream.receive_some(4096)
                if not data:
                    raise HandshakeFailed("handshake failed: the server closed the connection")
                answer += data
        subprotocol, rest = handshake.accept(bytes(answer))
    except BaseException as exc:
        if stream is not None:
            await trio.aclose_forcefully(stream)
        reason = _dial_failure(exc, context is not None)
        if reason is None:
            raise
        raise LinkError(reason) from exc
    reader = Reader(target.max_frame_bytes)
    reader.feed(rest)
    return Link(stream, target, reader, subprotocol)


def _dial_failure(exc: BaseException, tls: bool) -> str | None:
    """The reason text for a failed dial (None: not a dial failure, let it through)."""
    if isinstance(exc, trio.TooSlowError):
        return "connect timed out"
    if isinstance(exc, HandshakeFailed):
        hint = " (bad credentials?)" if exc.status == 401 else ""
        return exc.reason + hint
    if isinstance(exc, trio.BrokenResourceError | trio.ClosedResourceError):
        return _tls_reason(exc) if tls else "handshake failed: connection broken"
    if isinstance(exc, OSError):
        return exc.strerror or str(exc)
    return None


@asynccontextmanager
async def open_link(target: LinkTarget) -> AsyncIterator[Link]:
    """Dial ``target`` and yield the link; it is closed when the block ends.

    Raises LinkError for every failure to connect; errors from the block pass through.
    """
    context = target.ssl_context()
    link = await _dial(target, context)
    try:
        if link.subprotocol != SUBPROTOCOL:
            await link.aclose(1002, "subprotocol ocpp1.6 required")
            raise LinkError(
                f"central system did not agree to subprotocol {SUBPROTOCOL} "
                f"(answered {link.subprotocol!r})"
            )
        yield link
    finally:
        await link.aclose()
