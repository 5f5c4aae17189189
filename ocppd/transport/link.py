"""The websocket link to the central system: security profiles 0-3, the OCPP version agreed.

:func:`open_link` dials the endpoint and yields a :class:`Link` that sends and
receives text frames and pings. The target names the OCPP versions to offer as
websocket subprotocols, in order of preference (``ocpp2.0.1``, ``ocpp1.6`` ...); the
central system picks one and :attr:`Link.subprotocol` says which, or the attempt
fails [J16 §3.1.2, §3.2]. The link itself carries text and knows no OCPP version.

Every way the link can fail becomes a :class:`LinkError` with a ``reason`` (a short
text for the log and ``ocppctl status``) and a ``kind`` (a :class:`LinkFailure` that
code can act on, e.g. to raise the whitepaper's InvalidCentralSystemCertificate /
InvalidTLSVersion / InvalidTLSCipherSuite security events).

Dialling is done here, step by step, under one deadline (``connect_timeout_s``): TCP
connect, the TLS handshake on that stream (profiles 2 and 3; never a fallback to
plain ws), then trio-websocket's opening handshake on the finished stream. Doing the
TLS handshake ourselves makes a refused certificate fail at once with OpenSSL's
reason; inside trio-websocket it would end the reader task quietly and leave the
opening handshake waiting for the whole timeout (python-trio/trio-websocket#199).
For the same reason the reader task is watched: a server that closes, breaks or
answers garbage before the handshake is answered ends the attempt at once.

Closing is quick and clean: our Close frame is sent and the peer's awaited for at
most :data:`CLOSE_TIMEOUT_S`, and trio-websocket's reader task keeps running until
then even when the link is being cancelled (a daemon stop): without the reader
nobody would read the peer's Close and every stop would wait for the timeout.
"""

from __future__ import annotations

import base64
import logging
import os
import socket
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, NoReturn, cast
from urllib.parse import urlsplit, urlunsplit

import trio
from trio_websocket import (
    ConnectionClosed,
    ConnectionRejected,
    WebSocketConnection,
    wrap_client_stream,
)
from wsproto.utilities import LocalProtocolError

log = logging.getLogger(__name__)

CLOSE_TIMEOUT_S = 1.0  # how long a close waits for the peer's Close frame


class LinkFailure(StrEnum):
    """What kind of failure ended (or prevented) a link: a value to act on, beside the text."""

    CONFIG = "config"  # the settings cannot be dialled (profile 2/3 without wss, client cert)
    NETWORK = "network"  # name resolution, TCP refused, unreachable, reset
    TIMEOUT = "timeout"  # connect_timeout_s passed, or a ping got no pong
    TLS_CERTIFICATE = "tls-certificate"  # the central system's certificate: untrusted, wrong host
    TLS_VERSION = "tls-version"  # the central system offers only TLS older than 1.2
    TLS_CIPHER = "tls-cipher"  # no cipher suite in common
    TLS = "tls"  # any other TLS failure (our client certificate refused, not TLS at all ...)
    REFUSED = "refused"  # the opening handshake was answered with an HTTP error
    PROTOCOL = "protocol"  # subprotocol not agreed, no handshake answer, a frame too big
    CLOSED = "closed"  # closed by either side, or broken, after it was open


class LinkError(Exception):
    """The link could not be opened, or broke. ``reason`` says why in a few words."""

    def __init__(self, reason: str, kind: LinkFailure) -> None:
        super().__init__(reason)
        self.reason = reason
        self.kind = kind


@dataclass(frozen=True)
class LinkTarget:
    """Where and how to dial."""

    url: str  # the full endpoint, charge point id included
    charge_point_id: str
    subprotocols: tuple[str, ...]  # the OCPP versions offered, preferred first ("ocpp1.6", ...)
    security_profile: int = 0
    authorization_key: str | None = field(default=None, repr=False)
    ca_file: str | None = None
    ca_data: str | None = None  # PEM roots (the certificate store's); instead of ca_file
    cert_file: str | None = None
    key_file: str | None = None
    connect_timeout_s: float = 30.0
    max_frame_bytes: int = 1024 * 1024

    @property
    def tls(self) -> bool:
        return urlsplit(self.url).scheme == "wss"

    @property
    def shown_url(self) -> str:
        """The URL for logs and ``ocppctl status``: without any user:password part."""
        parts = urlsplit(self.url)
        if "@" not in parts.netloc:
            return self.url
        return urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))

    def ssl_context(self) -> ssl.SSLContext | None:
        """TLS 1.2 or newer, verified against ``ca_data``, else ``ca_file``, else the system CAs;
        client cert for 3. Built at each dial, so new roots apply to the next connection."""
        if not self.tls:
            if self.security_profile >= 2:
                raise LinkError(
                    f"security profile {self.security_profile} needs a wss:// URL",
                    LinkFailure.CONFIG,
                )
            return None
        if self.ca_data:
            try:
                context = ssl.create_default_context(cadata=self.ca_data)
            except ssl.SSLError as exc:
                reason = f"cannot load the trusted roots: {exc}"
                raise LinkError(reason, LinkFailure.CONFIG) from exc
        else:
            context = ssl.create_default_context(cafile=self.ca_file)
        context.minimum_version = ssl.TLSVersion.TLSv1_2  # [SEC A00.FR.312]
        if self.security_profile == 3:
            if not (self.cert_file and self.key_file):
                raise LinkError(
                    "security profile 3 needs cert_file and key_file", LinkFailure.CONFIG
                )
            try:
                context.load_cert_chain(self.cert_file, self.key_file)
            except (OSError, ssl.SSLError) as exc:
                raise LinkError(
                    f"cannot load client certificate: {exc}", LinkFailure.CONFIG
                ) from exc
        return context

    def headers(self) -> list[tuple[bytes, bytes]]:
        if self.security_profile in (1, 2) and self.authorization_key:
            token = f"{self.charge_point_id}:{self.authorization_key}".encode()
            return [(b"Authorization", b"Basic " + base64.b64encode(token))]
        return []


class Link:
    """One open websocket. Methods raise :class:`LinkError` once the link is gone."""

    def __init__(
        self, ws: WebSocketConnection, stream: _Watched, reader: _Reader, target: LinkTarget
    ) -> None:
        self._ws = ws
        self._stream = stream
        self._reader = reader
        self.target = target
        self.peer_certificate: bytes | None = stream.peer_certificate()
        """The central system's certificate (DER) on a TLS link: which root verified it."""

    def __repr__(self) -> str:
        return f"<Link {self.target.shown_url} closed={self._ws.closed is not None}>"

    @property
    def subprotocol(self) -> str:
        """The OCPP version the central system agreed to: one of ``target.subprotocols``
        (:func:`open_link` yields no link without one)."""
        return self._ws.subprotocol or ""

    def _closed(self, exc: ConnectionClosed) -> LinkError:
        reason = exc.reason
        if (reason is None or reason.code == 1006) and self._stream.broke is not None:
            return _broken(self._stream.broke, self.target)  # reset, a TLS alert ...
        text = f"closed ({reason.code} {reason.name})" if reason else "closed"
        if reason and reason.reason:
            text += f": {reason.reason}"
        return LinkError(text, LinkFailure.CLOSED)

    def _closing(self) -> LinkError:
        """wsproto refuses to send once a Close is under way; trio-websocket 0.9 lets that
        through as LocalProtocolError instead of ConnectionClosed."""
        reason = self._ws.closed
        return (
            self._closed(ConnectionClosed(reason))
            if reason
            else LinkError("closed (while sending)", LinkFailure.CLOSED)
        )

    async def send(self, text: str) -> None:
        try:
            await self._ws.send_message(text)
        except ConnectionClosed as exc:
            raise self._closed(exc) from None
        except LocalProtocolError:
            raise self._closing() from None

    async def receive(self) -> str:
        try:
            message = await self._ws.get_message()
        except ConnectionClosed as exc:
            raise self._closed(exc) from None
        if isinstance(message, bytes):
            try:
                return message.decode("utf-8")
            except UnicodeDecodeError:
                return ""  # not a frame; the protocol layer ignores it
        return message

    async def ping(self, timeout: float) -> None:
        """Wait for the pong to a ping; a dead link (half-open TCP) fails after ``timeout``."""
        with trio.move_on_after(timeout):
            try:
                await self._ws.ping()
            except ConnectionClosed as exc:
                raise self._closed(exc) from None
            except LocalProtocolError:
                raise self._closing() from None
            return
        raise LinkError(f"no pong within {timeout:g} s", LinkFailure.TIMEOUT)

    async def aclose(self, code: int = 1000, reason: str | None = None) -> None:
        """Send our Close, wait for the peer's (at most CLOSE_TIMEOUT_S), drop the connection.

        Idempotent, and completes even in a cancelled scope (it is how a link ends)."""
        with trio.CancelScope(shield=True):
            with trio.move_on_after(CLOSE_TIMEOUT_S):
                try:
                    await self._ws.aclose(code, reason)
                except Exception as exc:  # closing a broken link may fail in many ways
                    log.debug("closing the link: %r", exc)
            self._reader.stop()
            await trio.aclose_forcefully(self._stream)


class _Watched(trio.abc.Stream):
    """The link's byte stream (TCP or TLS), remembering why it broke.

    trio-websocket turns a broken stream into a mere "abnormal closure" (1006); the
    error kept here names the cause: a reset, or the TLS alert the central system
    sent (e.g. our client certificate refused, which TLS 1.3 reports only after the
    handshake)."""

    def __init__(self, stream: trio.abc.Stream) -> None:
        self._stream = stream
        self.broke: BaseException | None = None

    def __repr__(self) -> str:
        return f"<_Watched {self._stream!r} broke={self.broke!r}>"

    def peer_certificate(self) -> bytes | None:
        if isinstance(self._stream, trio.SSLStream):
            return cast(bytes | None, self._stream.getpeercert(binary_form=True))
        return None

    async def send_all(self, data: bytes | bytearray | memoryview) -> None:
        try:
            await self._stream.send_all(data)
        except trio.BrokenResourceError as exc:
            self.broke = self.broke or exc
            raise

    async def wait_send_all_might_not_block(self) -> None:
        await self._stream.wait_send_all_might_not_block()

    async def receive_some(self, max_bytes: int | None = None) -> bytes | bytearray:
        try:
            return await self._stream.receive_some(max_bytes)
        except trio.BrokenResourceError as exc:
            self.broke = self.broke or exc
            raise

    async def aclose(self) -> None:
        await self._stream.aclose()


class _Reader:
    """The "nursery" trio-websocket starts its reader task in (it only calls ``start_soon``).

    The reader runs shielded, so that a link being cancelled can still read the peer's
    Close frame (see :meth:`Link.aclose`, which stops it). ``ended`` is set when the
    reader task ends; before the opening handshake is answered that means the attempt
    failed, and ``error`` holds what the reader raised (the HTTP refusal), if anything.
    """

    def __init__(self, nursery: trio.Nursery) -> None:
        self._nursery = nursery
        self._scope = trio.CancelScope(shield=True)
        self.ended = trio.Event()
        self.error: Exception | None = None
        self.established = False

    def __repr__(self) -> str:
        return f"<_Reader established={self.established} ended={self.ended.is_set()}>"

    def start_soon(self, fn: Callable[..., Awaitable[Any]], *args: Any) -> None:
        self._nursery.start_soon(self._run, fn, *args)

    async def _run(self, fn: Callable[..., Awaitable[Any]], *args: Any) -> None:
        try:
            with self._scope:
                await fn(*args)
        except Exception as exc:
            if self.established:
                raise
            self.error = exc  # the attempt's outcome, reported by _handshake
        finally:
            self.ended.set()

    def stop(self) -> None:
        self._scope.cancel()


# --- dialling --------------------------------------------------------------------------------


@asynccontextmanager
async def open_link(target: LinkTarget, *, message_queue_size: int = 32) -> AsyncIterator[Link]:
    """Dial ``target`` and yield the link; it is closed (quickly) when the block ends.

    Raises LinkError for every failure to connect; errors from the block pass through.
    """
    if not target.subprotocols:
        raise LinkError("no OCPP version to offer (subprotocols is empty)", LinkFailure.CONFIG)
    context = target.ssl_context()
    try:
        async with trio.open_nursery() as nursery:
            link = await _connect(nursery, target, context, message_queue_size)
            try:
                yield link
            finally:
                await link.aclose()
    except BaseExceptionGroup as group:
        _raise_single(group)


async def _connect(
    nursery: trio.Nursery, target: LinkTarget, context: ssl.SSLContext | None, queue: int
) -> Link:
    """TCP, TLS and the opening handshake, together bounded by ``connect_timeout_s``."""
    parts = urlsplit(target.url)
    host = parts.hostname or ""
    port = parts.port or (443 if context is not None else 80)
    reader = _Reader(nursery)
    stream: trio.abc.Stream | None = None
    link: Link | None = None
    step = "TCP connect"
    try:
        with trio.move_on_after(target.connect_timeout_s):
            try:
                stream = await trio.open_tcp_stream(host, port)
            except OSError as exc:
                raise LinkError(
                    f"cannot reach {host}:{port}: {_os_reason(exc)}", LinkFailure.NETWORK
                ) from exc
            if context is not None:
                step = "TLS handshake"
                stream = trio.SSLStream(
                    stream, context, server_hostname=host, https_compatible=True
                )
                try:
                    await stream.do_handshake()
                except trio.BrokenResourceError as exc:
                    raise _broken(exc, target) from exc
            step = "WebSocket handshake"
            stream = _Watched(stream)
            ws = await _handshake(reader, stream, target, queue)
            link = Link(ws, stream, reader, target)
    finally:
        if link is None:
            reader.stop()
            if stream is not None:
                await trio.aclose_forcefully(stream)
    if link is None:
        raise LinkError(
            f"connect timed out after {target.connect_timeout_s:g} s in the {step}",
            LinkFailure.TIMEOUT,
        )
    answered = ws.subprotocol
    if answered not in target.subprotocols:  # OCPP-J 1.6 §3.2: the server then closes at once
        offered = " or ".join(target.subprotocols)
        await link.aclose(1002, f"subprotocol {offered} required")
        raise LinkError(
            f"central system did not agree to subprotocol {offered} (answered {answered!r})",
            LinkFailure.PROTOCOL,
        )
    return link


async def _handshake(
    reader: _Reader, stream: _Watched, target: LinkTarget, queue: int
) -> WebSocketConnection:
    """trio-websocket's opening handshake, ended early when its reader task ends first."""
    parts = urlsplit(target.url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"  # an IPv6 literal
    if parts.port is not None and parts.port != (443 if target.tls else 80):
        host = f"{host}:{parts.port}"
    resource = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    opened: list[WebSocketConnection] = []
    async with trio.open_nursery() as race:

        async def shake() -> None:
            ws = await wrap_client_stream(
                cast(trio.Nursery, reader),  # it only needs start_soon
                cast(Any, stream),  # any trio Stream will do
                host,
                resource,
                subprotocols=list(target.subprotocols),
                extra_headers=target.headers(),
                message_queue_size=queue,
                max_message_size=target.max_frame_bytes,
            )
            reader.established = True
            opened.append(ws)
            race.cancel_scope.cancel()

        async def watch() -> None:
            await reader.ended.wait()
            race.cancel_scope.cancel()

        race.start_soon(shake)
        race.start_soon(watch)
    if opened:
        return opened[0]
    if isinstance(reader.error, ConnectionRejected):
        status = reader.error.status_code
        hint = " (bad credentials?)" if status == 401 else ""
        raise LinkError(f"handshake refused: HTTP {status}{hint}", LinkFailure.REFUSED)
    if reader.error is not None:
        raise LinkError(
            "invalid answer to the WebSocket handshake "
            f"({type(reader.error).__name__}: {reader.error})",
            LinkFailure.PROTOCOL,
        ) from reader.error
    if stream.broke is not None:
        raise _broken(stream.broke, target)
    raise LinkError(
        "the central system closed the connection without answering the WebSocket handshake",
        LinkFailure.PROTOCOL,
    )


# --- naming failures -------------------------------------------------------------------------

# OpenSSL reasons (ssl.SSLError.reason) by what they tell the owner. A server that shares no
# cipher suite with us can only answer "handshake failure", so that alert counts as a cipher
# refusal: the likeliest cause, though a TLS 1.2 server that wants a client certificate we did
# not send answers the same.
_TLS_VERSION = frozenset(
    {
        "UNSUPPORTED_PROTOCOL",
        "TLSV1_ALERT_PROTOCOL_VERSION",
        "NO_PROTOCOLS_AVAILABLE",
        "UNSUPPORTED_SSL_VERSION",
        "VERSION_TOO_LOW",
    }
)
_TLS_CIPHER = frozenset(
    {
        "SSLV3_ALERT_HANDSHAKE_FAILURE",
        "NO_SHARED_CIPHER",
        "NO_CIPHERS_AVAILABLE",
        "NO_CIPHER_MATCH",
        "TLSV1_ALERT_INSUFFICIENT_SECURITY",
    }
)
_TLS_CLIENT_CERTIFICATE = frozenset(
    {
        "TLSV13_ALERT_CERTIFICATE_REQUIRED",
        "SSLV3_ALERT_BAD_CERTIFICATE",
        "SSLV3_ALERT_CERTIFICATE_UNKNOWN",
        "SSLV3_ALERT_CERTIFICATE_EXPIRED",
        "SSLV3_ALERT_CERTIFICATE_REVOKED",
        "SSLV3_ALERT_UNSUPPORTED_CERTIFICATE",
        "TLSV1_ALERT_UNKNOWN_CA",
        "TLSV1_ALERT_ACCESS_DENIED",
    }
)
_NAME_MISMATCH = frozenset({62, 64})  # X509_V_ERR_HOSTNAME_MISMATCH, X509_V_ERR_IP_ADDRESS_MISMATCH


def _broken(exc: BaseException, target: LinkTarget) -> LinkError:
    """A stream error (trio's BrokenResourceError, caused by an ssl or OS error) as a LinkError."""
    cause = exc.__cause__ if isinstance(exc, trio.BrokenResourceError) else exc
    if isinstance(cause, ssl.SSLCertVerificationError):  # [SEC A00.FR.307-309]
        host = urlsplit(target.url).hostname
        if cause.verify_code in _NAME_MISMATCH:  # [SEC A00.FR.308]
            text = f"TLS: certificate not valid for {host}: {cause.verify_message}"
        else:
            text = f"TLS: certificate not trusted: {cause.verify_message}"
        return LinkError(text, LinkFailure.TLS_CERTIFICATE)
    if isinstance(cause, ssl.SSLError):
        code = cause.reason or ""
        said = code.lower().replace("_", " ") or str(cause)
        if code in _TLS_VERSION:  # [SEC A00.FR.315]
            return LinkError(
                f"TLS: the central system offers no TLS version we accept (1.2 or newer): {said}",
                LinkFailure.TLS_VERSION,
            )
        if code in _TLS_CIPHER:  # [SEC A00.FR.322]
            return LinkError(
                f"TLS: no cipher suite in common with the central system: {said}",
                LinkFailure.TLS_CIPHER,
            )
        if code in _TLS_CLIENT_CERTIFICATE:
            return LinkError(
                f"TLS: the central system refused our client certificate: {said}",
                LinkFailure.TLS,
            )
        if code == "WRONG_VERSION_NUMBER":
            return LinkError(f"TLS: the server did not answer in TLS: {said}", LinkFailure.TLS)
        return LinkError(f"TLS: {said}", LinkFailure.TLS)
    if isinstance(cause, OSError):
        return LinkError(f"connection broken: {_os_reason(cause)}", LinkFailure.NETWORK)
    return LinkError(f"connection broken: {cause or exc}", LinkFailure.NETWORK)


def _os_reason(exc: OSError) -> str:
    """The OS's words ("Connection refused"), without the address trio adds around them."""
    if isinstance(exc, socket.gaierror):
        return f"cannot resolve the name ({exc.strerror or exc})"
    if exc.errno is not None and exc.errno > 0:
        return os.strerror(exc.errno)
    cause = exc.__cause__  # trio's "all attempts failed" carries the attempts' errors
    if isinstance(cause, BaseExceptionGroup):
        inner = cause.exceptions[-1]
        if isinstance(inner, OSError):
            return _os_reason(inner)
    return exc.strerror or str(exc)


def _raise_single(group: BaseExceptionGroup[Any]) -> NoReturn:
    """Re-raise the one error inside a group of one (trio wraps what leaves a nursery); a
    group of several is raised as it is. The raised error keeps its own context."""
    exc: BaseException = group
    while isinstance(exc, BaseExceptionGroup) and len(exc.exceptions) == 1:
        exc = exc.exceptions[0]
    context = exc.__context__
    try:
        raise exc
    finally:
        exc.__context__ = context
        del exc, context
