"""The client side of RFC 6455, sans-IO: the opening handshake and frames, bytes in, events out.

Only what a charge point needs: text (and binary) messages, ping/pong, the close
handshake, no extensions. Frames we send are masked (a client must); frames the
central system sends must not be. Anything else the peer does wrong is a
:class:`ProtocolViolation` carrying the close code to answer with (1002 protocol
error, 1007 bad UTF-8, 1009 too big). :mod:`ocppd.transport.link` moves the bytes.

Why not a websocket library: on a Pi Zero the one we used cost about 3 MB of
memory and a background task, a channel and a lock per message; OCPP-J needs
none of what it offered beyond this module.
"""

from __future__ import annotations

import base64
import hashlib
import os
from collections.abc import Sequence

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
MAX_HANDSHAKE_BYTES = 16 * 1024

CONTINUATION, TEXT, BINARY, CLOSE, PING, PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA

NORMAL_CLOSURE = 1000
PROTOCOL_ERROR = 1002
NO_STATUS_RCVD = 1005
ABNORMAL_CLOSURE = 1006
INVALID_PAYLOAD = 1007
MESSAGE_TOO_BIG = 1009

CLOSE_NAMES = {
    1000: "NORMAL_CLOSURE",
    1001: "GOING_AWAY",
    1002: "PROTOCOL_ERROR",
    1003: "UNSUPPORTED_DATA",
    1005: "NO_STATUS_RCVD",
    1006: "ABNORMAL_CLOSURE",
    1007: "INVALID_FRAME_PAYLOAD_DATA",
    1008: "POLICY_VIOLATION",
    1009: "MESSAGE_TOO_BIG",
    1010: "MANDATORY_EXT",
    1011: "INTERNAL_ERROR",
    1012: "SERVICE_RESTART",
    1013: "TRY_AGAIN_LATER",
    1015: "TLS_HANDSHAKE_FAILED",
}


def close_name(code: int) -> str:
    return CLOSE_NAMES.get(code, "PRIVATE_RESERVED" if code >= 4000 else "UNKNOWN")


class ProtocolViolation(Exception):
    """The central system broke RFC 6455; close the link with ``code``."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


class HandshakeFailed(Exception):
    """The opening handshake did not produce a websocket. ``status`` is the HTTP status
    when the server answered with something other than 101."""

    def __init__(self, reason: str, status: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status


# --- the opening handshake ---------------------------------------------------------------------


def accept_token(key: str) -> str:
    """The Sec-WebSocket-Accept a server must answer to ``key``."""
    return base64.b64encode(hashlib.sha1(key.encode("ascii") + GUID).digest()).decode("ascii")


class Handshake:
    """One opening handshake: the request to send, and what the answer must carry."""

    __slots__ = ("key", "request")

    def __init__(self, request: bytes, key: str) -> None:
        self.request = request
        self.key = key

    def __repr__(self) -> str:
        return f"<Handshake key={self.key}>"

    @classmethod
    def build(
        cls,
        host: str,
        resource: str,
        subprotocols: list[str],
        extra_headers: Sequence[tuple[bytes, bytes]] = (),
    ) -> Handshake:
        """``host`` as it goes in the Host header (with ``:port`` when not the default)."""
        key = base64.b64encode(os.urandom(16)).decode("ascii")
        lines = [
            f"GET {resource} HTTP/1.1",
            f"Host: {host}",
            "Upgrade: websocket",
            "Connection: Upgrade",
            f"Sec-WebSocket-Key: {key}",
            "Sec-WebSocket-Version: 13",
        ]
        if subprotocols:
            lines.append(f"Sec-WebSocket-Protocol: {', '.join(subprotocols)}")
        head = "\r\n".join(lines).encode("latin-1")
        extra = b"".join(b"\r\n" + name + b": " + value for name, value in extra_headers)
        return cls(head + extra + b"\r\n\r\n", key)

    def response_complete(self, data: bytes | bytearray) -> bool:
        if b"\r\n\r\n" in data:
            return True
        if len(data) > MAX_HANDSHAKE_BYTES:
            raise HandshakeFailed("handshake failed: response headers too long")
        return False

    def accept(self, data: bytes) -> tuple[str | None, bytes]:
        """Check the server's answer; returns (the agreed subprotocol, bytes after the headers).

        Raises :class:`HandshakeFailed` if it is not a valid 101 for our key.
        """
        head, _, rest = data.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status_line = lines[0].split(" ", 2)
        if len(status_line) < 2 or not status_line[0].startswith("HTTP/"):
            raise HandshakeFailed(f"handshake failed: not an HTTP response: {lines[0][:60]!r}")
        try:
            status = int(status_line[1])
        except ValueError:
            raise HandshakeFailed(f"handshake failed: bad status line {lines[0][:60]!r}") from None
        if status != 101:
            raise HandshakeFailed(f"handshake refused: HTTP {status}", status)
        headers: dict[str, str] = {}
        for line in lines[1:]:
            name, sep, value = line.partition(":")
            if sep:
                key = name.strip().lower()
                value = value.strip()
                headers[key] = f"{headers[key]}, {value}" if key in headers else value
        if headers.get("upgrade", "").lower() != "websocket":
            raise HandshakeFailed("handshake failed: no 'Upgrade: websocket' in the answer")
        if "upgrade" not in [t.strip().lower() for t in headers.get("connection", "").split(",")]:
            raise HandshakeFailed("handshake failed: no 'Connection: Upgrade' in the answer")
        if headers.get("sec-websocket-accept") != accept_token(self.key):
            raise HandshakeFailed("handshake failed: wrong Sec-WebSocket-Accept")
        if headers.get("sec-websocket-extensions"):
            raise HandshakeFailed(
                "handshake failed: the server chose an extension we never offered"
            )
        return headers.get("sec-websocket-protocol") or None, rest


# --- frames ------------------------------------------------------------------------------------


def _mask(data: bytes, key: bytes) -> bytes:
    n = len(data)
    if n == 0:
        return data
    pad = (key * (n // 4 + 1))[:n]
    return (int.from_bytes(data, "little") ^ int.from_bytes(pad, "little")).to_bytes(n, "little")


def encode(opcode: int, payload: bytes) -> bytes:
    """One final, masked client frame."""
    n = len(payload)
    if n < 126:
        head = bytes((0x80 | opcode, 0x80 | n))
    elif n < 65536:
        head = bytes((0x80 | opcode, 0x80 | 126)) + n.to_bytes(2, "big")
    else:
        head = bytes((0x80 | opcode, 0x80 | 127)) + n.to_bytes(8, "big")
    key = os.urandom(4)
    return head + key + _mask(payload, key)


def encode_close(code: int, reason: str = "") -> bytes:
    body = b"" if code == NO_STATUS_RCVD else code.to_bytes(2, "big") + reason.encode()[:123]
    return encode(CLOSE, body)


class _Event:
    """Base of the events; plain slotted classes (a charger pays for every generated method)."""

    __slots__: tuple[str, ...] = ()

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return all(getattr(self, n) == getattr(other, n) for n in self.__slots__)

    def __hash__(self) -> int:
        return hash(tuple(getattr(self, n) for n in self.__slots__))

    def __repr__(self) -> str:
        shown = ", ".join(f"{n}={getattr(self, n)!r}" for n in self.__slots__)
        return f"{type(self).__name__}({shown})"


class Message(_Event):
    __slots__ = ("data",)

    def __init__(self, data: str | bytes) -> None:
        self.data = data


class Ping(_Event):
    __slots__ = ("payload",)

    def __init__(self, payload: bytes) -> None:
        self.payload = payload


class Pong(_Event):
    __slots__ = ("payload",)

    def __init__(self, payload: bytes) -> None:
        self.payload = payload


class Close(_Event):
    __slots__ = ("code", "reason")

    def __init__(self, code: int, reason: str) -> None:
        self.code = code
        self.reason = reason


Event = Message | Ping | Pong | Close


class Reader:
    """Server frames in, events out. ``feed`` bytes, then take ``next_event()`` until None."""

    def __init__(self, max_message_bytes: int) -> None:
        self.max_message_bytes = max_message_bytes
        self._buffer = bytearray()
        self._parts: list[bytes] = []
        self._size = 0
        self._opcode: int | None = None  # of the fragmented message being assembled

    def __repr__(self) -> str:
        return f"<Reader buffered={len(self._buffer)} assembling={self._opcode is not None}>"

    def feed(self, data: bytes | bytearray) -> None:
        self._buffer += data

    def next_event(self) -> Event | None:
        """The next complete event, or None until more bytes arrive."""
        while True:
            frame = self._frame()
            if frame is None:
                return None
            event = self._event(*frame)
            if event is not None:
                return event

    def _frame(self) -> tuple[bool, int, bytes] | None:
        buf = self._buffer
        if len(buf) < 2:
            return None
        b0, b1 = buf[0], buf[1]
        if b0 & 0x70:
            raise ProtocolViolation(PROTOCOL_ERROR, "reserved bits set (no extension agreed)")
        if b1 & 0x80:
            raise ProtocolViolation(PROTOCOL_ERROR, "a server frame was masked")
        n, pos = b1 & 0x7F, 2
        if n == 126:
            if len(buf) < 4:
                return None
            n, pos = int.from_bytes(buf[2:4], "big"), 4
        elif n == 127:
            if len(buf) < 10:
                return None
            n, pos = int.from_bytes(buf[2:10], "big"), 10
        opcode, fin = b0 & 0x0F, bool(b0 & 0x80)
        if opcode >= CLOSE:
            if n > 125 or not fin:
                raise ProtocolViolation(PROTOCOL_ERROR, "control frame too long or fragmented")
        elif self._size + n > self.max_message_bytes:
            raise ProtocolViolation(MESSAGE_TOO_BIG, f"message over {self.max_message_bytes} bytes")
        if len(buf) < pos + n:
            return None
        payload = bytes(buf[pos : pos + n])
        del buf[: pos + n]
        return fin, opcode, payload

    def _event(self, fin: bool, opcode: int, payload: bytes) -> Event | None:
        if opcode == PING:
            return Ping(payload)
        if opcode == PONG:
            return Pong(payload)
        if opcode == CLOSE:
            return _close(payload)
        if opcode == CONTINUATION:
            if self._opcode is None:
                raise ProtocolViolation(PROTOCOL_ERROR, "continuation frame without a message")
        elif opcode in (TEXT, BINARY):
            if self._opcode is not None:
                raise ProtocolViolation(PROTOCOL_ERROR, "new message inside a fragmented one")
            if fin:
                return _message(opcode, payload)
            self._opcode = opcode
        else:
            raise ProtocolViolation(PROTOCOL_ERROR, f"unknown opcode {opcode:#x}")
        self._parts.append(payload)
        self._size += len(payload)
        if not fin:
            return None
        whole = b"".join(self._parts)
        kind, self._opcode, self._parts, self._size = self._opcode, None, [], 0
        return _message(kind, whole)


def _message(opcode: int, payload: bytes) -> Message:
    if opcode == BINARY:
        return Message(payload)
    try:
        return Message(payload.decode("utf-8"))
    except UnicodeDecodeError:
        raise ProtocolViolation(INVALID_PAYLOAD, "text message is not UTF-8") from None


def _close(payload: bytes) -> Close:
    if not payload:
        return Close(NO_STATUS_RCVD, "")
    if len(payload) == 1:
        raise ProtocolViolation(PROTOCOL_ERROR, "close frame with a one-byte body")
    try:
        reason = payload[2:].decode("utf-8")
    except UnicodeDecodeError:
        raise ProtocolViolation(INVALID_PAYLOAD, "close reason is not UTF-8") from None
    return Close(int.from_bytes(payload[:2], "big"), reason)
