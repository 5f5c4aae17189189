"""The websocket link to the central system: security profiles 0-3, subprotocol ``ocpp1.6``.

:func:`open_link` dials the endpoint and yields a :class:`Link` that sends and
receives text frames and pings. Every way the link can fail becomes a
:class:`LinkError` whose ``reason`` is a short text for the log and ``ocppctl
status``: handshake refused, certificate not trusted, subprotocol not agreed, no
pong, closed by the peer. TLS never falls back to plain ws: profiles 2 and 3 only
ever dial ``wss://``.
"""

from __future__ import annotations

import base64
import logging
import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import trio
from trio_websocket import (
    ConnectionClosed,
    ConnectionRejected,
    ConnectionTimeout,
    DisconnectionTimeout,
    HandshakeError,
    WebSocketConnection,
    open_websocket_url,
)

try:  # closing with a ping unanswered raises this out of trio-websocket 0.9's context manager
    from wsproto.utilities import LocalProtocolError
except ImportError:  # pragma: no cover - wsproto always comes with trio-websocket
    LocalProtocolError = RuntimeError  # type: ignore[assignment,misc]

log = logging.getLogger(__name__)

SUBPROTOCOL = "ocpp1.6"


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
    """One open websocket. Methods raise :class:`LinkError` once the link is gone."""

    def __init__(self, ws: WebSocketConnection, target: LinkTarget) -> None:
        self._ws = ws
        self.target = target

    def __repr__(self) -> str:
        return f"<Link {self.target.url} closed={self._ws.closed is not None}>"

    @staticmethod
    def _closed(exc: ConnectionClosed) -> LinkError:
        reason = exc.reason
        text = f"closed ({reason.code} {reason.name})" if reason else "closed"
        if reason and reason.reason:
            text += f": {reason.reason}"
        return LinkError(text)

    async def send(self, text: str) -> None:
        try:
            await self._ws.send_message(text)
        except ConnectionClosed as exc:
            raise self._closed(exc) from None

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
            return
        raise LinkError(f"no pong within {timeout:g} s")

    async def aclose(self, code: int = 1000, reason: str | None = None) -> None:
        with trio.CancelScope(shield=True), trio.move_on_after(5):
            try:
                await self._ws.aclose(code, reason)
            except Exception as exc:  # closing a broken link may fail in many ways
                log.debug("closing the link: %r", exc)


def _single(exc: BaseException) -> BaseException:
    """Unwrap exception groups of one (trio's strict groups) to the error inside."""
    while isinstance(exc, BaseExceptionGroup) and len(exc.exceptions) == 1:
        exc = exc.exceptions[0]
    return exc


async def _tls_reason(target: LinkTarget, context: ssl.SSLContext) -> str | None:
    """What TLS really said. trio-websocket reports an untrusted certificate as a mere timeout."""
    parts = urlsplit(target.url)
    host, port = parts.hostname or "", parts.port or 443
    with trio.move_on_after(target.connect_timeout_s):
        try:
            stream = await trio.open_ssl_over_tcp_stream(host, port, ssl_context=context)
            await stream.do_handshake()
            await stream.aclose()
            return None
        except trio.BrokenResourceError as exc:
            cause = exc.__cause__
            if isinstance(cause, ssl.SSLCertVerificationError):
                return f"TLS: certificate not trusted: {cause.verify_message}"
            if isinstance(cause, ssl.SSLError):
                return f"TLS: {cause.reason or cause}"
            return f"TLS: {cause or exc}"
        except OSError as exc:
            return exc.strerror or str(exc)
    return None


def _describe(exc: BaseException) -> str:
    if isinstance(exc, ConnectionRejected):
        status = exc.status_code
        hint = " (bad credentials?)" if status == 401 else ""
        return f"handshake refused: HTTP {status}{hint}"
    if isinstance(exc, ConnectionTimeout):
        return "connect timed out"
    if isinstance(exc, HandshakeError):
        cause = exc.__cause__ or exc.__context__
        if isinstance(cause, ssl.SSLCertVerificationError):
            return f"TLS: certificate not trusted: {cause.verify_message}"
        if isinstance(cause, OSError):
            return cause.strerror or str(cause)
        return f"handshake failed: {cause or exc}"
    if isinstance(exc, OSError):
        return exc.strerror or str(exc)
    return f"{type(exc).__name__}: {exc}"


@asynccontextmanager
async def open_link(target: LinkTarget, *, message_queue_size: int = 32) -> AsyncIterator[Link]:
    """Dial ``target`` and yield the link; it is closed when the block ends.

    Raises LinkError for every failure to connect; errors from the block pass through.
    """
    context = target.ssl_context()
    established = False
    try:
        async with open_websocket_url(
            target.url,
            context,
            subprotocols=[SUBPROTOCOL],
            extra_headers=target.headers(),
            message_queue_size=message_queue_size,
            max_message_size=target.max_frame_bytes,
            connect_timeout=target.connect_timeout_s,
            disconnect_timeout=5,
        ) as ws:
            if ws.subprotocol != SUBPROTOCOL:
                await ws.aclose(1002, "subprotocol ocpp1.6 required")
                raise LinkError(
                    f"central system did not agree to subprotocol {SUBPROTOCOL} "
                    f"(answered {ws.subprotocol!r})"
                )
            established = True
            yield Link(ws, target)
    except BaseException as raised:
        exc = _single(raised)
        if established or isinstance(exc, LinkError | trio.Cancelled):
            if isinstance(exc, ConnectionClosed):
                raise Link._closed(exc) from None
            if isinstance(exc, DisconnectionTimeout):
                raise LinkError("close handshake timed out") from None
            if isinstance(exc, LocalProtocolError):
                raise LinkError(f"closed ({exc})") from None
            if exc is not raised and not isinstance(exc, trio.Cancelled):
                raise exc from None
            raise
        if not isinstance(exc, Exception):
            raise
        reason = _describe(exc)
        if context is not None and isinstance(exc, ConnectionTimeout | HandshakeError):
            reason = await _tls_reason(target, context) or reason
        raise LinkError(reason) from exc
