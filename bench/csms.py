"""A lean central system for measuring: RFC 6455 by hand on trio streams, no validation.

The test central system (:mod:`ocppd.testing.csms`) validates every frame with the
``ocpp`` package; that is right for tests and wrong for a benchmark, where its own
cost (jsonschema, wsproto) would sit inside every measured round trip. This one
does the least a central system can: the upgrade handshake, unmasking, JSON, a
canned answer per action. Round trips are timed from just before our CALL goes on
the socket to the moment the bytes of the answer come back
(:func:`time.perf_counter_ns`, the same clock the launcher uses for process spawn).

It speaks to any charge point (ocppd, the reference peer) the same way, so both
are measured through the very same code.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import logging
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import trio

log = logging.getLogger(__name__)

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
SUBPROTOCOL = "ocpp1.6"
MAX_HEADER = 16 * 1024
TRANSACTION_ACTIONS = frozenset({"StartTransaction", "MeterValues", "StopTransaction"})


class StationGone(Exception):
    """The charge point closed the connection (or it broke) while we waited on it."""


class CallFailed(Exception):
    """The charge point answered our CALL with a CALLERROR."""


def _unmask(data: bytes, key: bytes) -> bytes:
    n = len(data)
    if n == 0:
        return data
    pad = (key * (n // 4 + 1))[:n]
    return (int.from_bytes(data, "little") ^ int.from_bytes(pad, "little")).to_bytes(n, "little")


def frame(opcode: int, payload: bytes) -> bytes:
    """A server frame (never masked), FIN set."""
    n = len(payload)
    if n < 126:
        head = bytes((0x80 | opcode, n))
    elif n < 65536:
        head = bytes((0x80 | opcode, 126)) + n.to_bytes(2, "big")
    else:
        head = bytes((0x80 | opcode, 127)) + n.to_bytes(8, "big")
    return head + payload


def iso_now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass
class Station:
    """One connected charge point."""

    cp_id: str
    stream: trio.abc.Stream
    csms: CentralSystem
    counts: Counter[str] = field(default_factory=Counter)
    first_at: dict[str, int] = field(default_factory=dict)  # action -> perf_counter_ns
    last_at: dict[str, int] = field(default_factory=dict)
    closed: bool = False

    def __post_init__(self) -> None:
        self._send_lock = trio.StrictFIFOLock()
        self._changed = trio.Event()
        self._pending: dict[str, trio.MemorySendChannel[tuple[int, Any]]] = {}
        self._ids = itertools.count(1)
        self._transaction_ids = itertools.count(1)

    def __repr__(self) -> str:
        return f"<Station {self.cp_id} calls={sum(self.counts.values())} closed={self.closed}>"

    # --- the wire ---

    async def _send_text(self, text: str) -> None:
        async with self._send_lock:
            await self.stream.send_all(frame(0x1, text.encode()))

    async def serve(self, buffer: bytearray) -> None:
        """Read frames until the charge point closes; answer CALLs, route answers."""
        message = bytearray()
        try:
            while True:
                while True:
                    parsed = _parse(buffer)
                    if parsed is None:
                        break
                    fin, opcode, payload = parsed
                    if opcode == 0x8:
                        await self._close_reply(payload)
                        return
                    if opcode == 0x9:
                        async with self._send_lock:
                            await self.stream.send_all(frame(0xA, payload))
                        continue
                    if opcode == 0xA:
                        continue
                    message += payload
                    if fin:
                        text, message = bytes(message).decode(), bytearray()
                        await self._received(text, time.perf_counter_ns())
                data = await self.stream.receive_some(65536)
                if not data:
                    return
                buffer += data
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            return
        finally:
            self.closed = True
            for channel in self._pending.values():
                channel.close()
            self._notify()

    async def _close_reply(self, payload: bytes) -> None:
        try:
            async with self._send_lock:
                await self.stream.send_all(frame(0x8, payload[:2]))
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            pass

    def _notify(self) -> None:
        self._changed.set()
        self._changed = trio.Event()
        self.csms._notify()

    async def _received(self, text: str, at_ns: int) -> None:
        msg = json.loads(text)
        kind, unique_id = msg[0], msg[1]
        if kind == 2:
            action, payload = msg[2], msg[3]
            self.counts[action] += 1
            if action in TRANSACTION_ACTIONS:
                self.csms.transaction_messages_total += 1
            self.first_at.setdefault(action, at_ns)
            self.last_at[action] = at_ns
            answer = self.csms.answer(self, action, payload)
            if answer is None:
                reply = json.dumps([4, unique_id, "NotImplemented", action, {}])
            else:
                reply = json.dumps([3, unique_id, answer])
            await self._send_text(reply)
            self._notify()
        elif kind in (3, 4):
            channel = self._pending.pop(unique_id, None)
            if channel is not None:
                channel.send_nowait((at_ns, msg))

    # --- what the bench asks ---

    def transaction_messages(self) -> int:
        return sum(self.counts[a] for a in TRANSACTION_ACTIONS)

    async def wait_until(self, predicate: Callable[[], bool], what: str) -> None:
        while not predicate():
            if self.closed:
                raise StationGone(f"{self.cp_id} disconnected while waiting for {what}")
            await self._changed.wait()

    async def call(self, action: str, payload: dict[str, Any]) -> tuple[Any, int]:
        """Send one CALL; return (answer payload, round trip in ns)."""
        unique_id = f"b{next(self._ids)}"
        send, receive = trio.open_memory_channel[tuple[int, Any]](1)
        self._pending[unique_id] = send
        text = json.dumps([2, unique_id, action, payload])
        sent_ns = time.perf_counter_ns()
        await self._send_text(text)
        try:
            at_ns, msg = await receive.receive()
        except trio.EndOfChannel:
            raise StationGone(f"{self.cp_id} disconnected during {action}") from None
        if msg[0] == 4:
            raise CallFailed(f"{action}: {msg[2]}: {msg[3]}")
        return msg[2], at_ns - sent_ns

    async def aclose(self) -> None:
        with trio.move_on_after(2):
            try:
                async with self._send_lock:
                    await self.stream.send_all(frame(0x8, (1000).to_bytes(2, "big")))
            except (trio.BrokenResourceError, trio.ClosedResourceError):
                pass
        await self.stream.aclose()


def _parse(buffer: bytearray) -> tuple[bool, int, bytes] | None:
    """Take one frame off the front of ``buffer`` (None: not complete yet)."""
    if len(buffer) < 2:
        return None
    b0, b1 = buffer[0], buffer[1]
    n = b1 & 0x7F
    pos = 2
    if n == 126:
        if len(buffer) < 4:
            return None
        n, pos = int.from_bytes(buffer[2:4], "big"), 4
    elif n == 127:
        if len(buffer) < 10:
            return None
        n, pos = int.from_bytes(buffer[2:10], "big"), 10
    masked = b1 & 0x80
    key = b""
    if masked:
        if len(buffer) < pos + 4:
            return None
        key, pos = bytes(buffer[pos : pos + 4]), pos + 4
    if len(buffer) < pos + n:
        return None
    payload = bytes(buffer[pos : pos + n])
    del buffer[: pos + n]
    if masked:
        payload = _unmask(payload, key)
    return bool(b0 & 0x80), b0 & 0x0F, payload


@dataclass
class CentralSystem:
    """Listens on 127.0.0.1 (port 0). ``accepting=False`` refuses handshakes with HTTP 503,
    which a charge point sees as the central system being down."""

    heartbeat_interval: int = 10
    accepting: bool = True
    now: Callable[[], str] = iso_now
    path: str = "/ocpp/"

    def __post_init__(self) -> None:
        self.port = 0
        self.stations: dict[str, Station] = {}
        self.connections = 0
        self.refused = 0
        self.transaction_messages_total = 0  # over every connection
        self._changed = trio.Event()
        self._nursery: trio.Nursery | None = None

    def __repr__(self) -> str:
        return f"<CentralSystem port={self.port} stations={sorted(self.stations)}>"

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}{self.path.rstrip('/')}"

    def _notify(self) -> None:
        self._changed.set()
        self._changed = trio.Event()

    def answer(self, station: Station, action: str, payload: dict[str, Any]) -> Any:
        """The canned CALLRESULT payload for ``action`` (None: NotImplemented)."""
        accepted = {"status": "Accepted"}
        if action == "BootNotification":
            return {
                "currentTime": self.now(),
                "interval": self.heartbeat_interval,
                "status": "Accepted",
            }
        if action == "Heartbeat":
            return {"currentTime": self.now()}
        if action in ("StatusNotification", "MeterValues"):
            return {}
        if action == "Authorize":
            return {"idTagInfo": accepted}
        if action == "StartTransaction":
            return {"transactionId": next(station._transaction_ids), "idTagInfo": accepted}
        if action == "StopTransaction":
            return {"idTagInfo": accepted} if payload.get("idTag") else {}
        if action == "DataTransfer":
            return {"status": "UnknownVendorId"}
        return None

    async def serve(self, *, task_status: trio.TaskStatus[CentralSystem]) -> None:
        listeners = await trio.open_tcp_listeners(0, host="127.0.0.1")
        self.port = listeners[0].socket.getsockname()[1]
        async with trio.open_nursery() as nursery:
            self._nursery = nursery
            await nursery.start(trio.serve_listeners, self._handle, listeners)
            task_status.started(self)

    async def wait_station(self, cp_id: str) -> Station:
        while cp_id not in self.stations or self.stations[cp_id].closed:
            await self._changed.wait()
        return self.stations[cp_id]

    async def _handle(self, stream: trio.SocketStream) -> None:
        buffer = bytearray()
        async with stream:
            with trio.move_on_after(10) as handshake:
                while b"\r\n\r\n" not in buffer:
                    data = await stream.receive_some(4096)
                    if not data or len(buffer) > MAX_HEADER:
                        return
                    buffer += data
            if handshake.cancelled_caught:
                return
            head, _, rest = bytes(buffer).partition(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            target = lines[0].split(" ")[1] if len(lines[0].split(" ")) > 1 else ""
            headers = {}
            for line in lines[1:]:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
            cp_id = target[len(self.path) :] if target.startswith(self.path) else ""
            offered = [p.strip() for p in headers.get("sec-websocket-protocol", "").split(",")]
            key = headers.get("sec-websocket-key", "")
            if not self.accepting or not cp_id or SUBPROTOCOL not in offered or not key:
                self.refused += 1
                status = "503 Service Unavailable" if not self.accepting else "400 Bad Request"
                await stream.send_all(
                    f"HTTP/1.1 {status}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".encode()
                )
                return
            accept = base64.b64encode(hashlib.sha1(key.encode() + GUID).digest()).decode()
            await stream.send_all(
                (
                    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                    f"Connection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n"
                    f"Sec-WebSocket-Protocol: {SUBPROTOCOL}\r\n\r\n"
                ).encode()
            )
            station = Station(cp_id, stream, self)
            self.stations[cp_id] = station
            self.connections += 1
            self._notify()
            await station.serve(bytearray(rest))
