"""A small Modbus slave for tests, independent of pymodbus: TCP (MBAP) on a loopback port 0,
RTU (CRC16) on the master side of a pty whose slave path the client opens like /dev/ttyUSB0.

Function codes 3, 4 (read), 6 and 16 (write). Reading an address with no register gives
exception 2 (illegal data address). Units not in ``units`` and a ``silent`` slave do
not answer at all, as on a real bus.
"""

from __future__ import annotations

import os
import select
import socket
import socketserver
import struct
import threading
import tty
from collections.abc import Iterable
from dataclasses import dataclass, field

Table = str  # "holding" | "input"


@dataclass
class Slave:
    """Register banks per unit; thread-safe enough for tests (one lock)."""

    units: dict[int, dict[tuple[Table, int], int]] = field(default_factory=dict)
    silent: bool = False
    requests: list[tuple[int, int, int]] = field(default_factory=list)  # unit, fc, address
    writes: list[tuple[int, int, tuple[int, ...]]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def set(self, unit: int, table: Table, address: int, values: Iterable[int]) -> None:
        with self.lock:
            bank = self.units.setdefault(unit, {})
            for i, value in enumerate(values):
                bank[(table, address + i)] = value & 0xFFFF

    def get(self, unit: int, table: Table, address: int, count: int = 1) -> list[int]:
        with self.lock:
            return [self.units[unit][(table, address + i)] for i in range(count)]

    def handle(self, unit: int, pdu: bytes) -> bytes | None:
        with self.lock:
            if self.silent or unit not in self.units:
                return None
            bank = self.units[unit]
            fc = pdu[0]
            self.requests.append((unit, fc, struct.unpack(">H", pdu[1:3])[0]))
            if fc in (3, 4):
                address, count = struct.unpack(">HH", pdu[1:5])
                table = "holding" if fc == 3 else "input"
                regs = [bank.get((table, address + i)) for i in range(count)]
                if any(r is None for r in regs):
                    return bytes([fc | 0x80, 2])
                return bytes([fc, 2 * count]) + struct.pack(f">{count}H", *regs)
            if fc == 6:
                address, value = struct.unpack(">HH", pdu[1:5])
                bank[("holding", address)] = value
                self.writes.append((unit, address, (value,)))
                return pdu[:5]
            if fc == 16:
                address, count, _ = struct.unpack(">HHB", pdu[1:6])
                values = struct.unpack(f">{count}H", pdu[6 : 6 + 2 * count])
                for i, value in enumerate(values):
                    bank[("holding", address + i)] = value
                self.writes.append((unit, address, tuple(values)))
                return pdu[:5]
            return bytes([fc | 0x80, 1])


# --- TCP ------------------------------------------------------------------------------------


class TcpSlave:
    """``with TcpSlave(slave) as server:`` listens on 127.0.0.1:``server.port``."""

    def __init__(self, slave: Slave) -> None:
        self.slave = slave
        outer = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                sock: socket.socket = self.request
                sock.settimeout(5)
                try:
                    while True:
                        header = _recv_exact(sock, 7)
                        tid, _pid, length, unit = struct.unpack(">HHHB", header)
                        pdu = _recv_exact(sock, length - 1)
                        answer = outer.slave.handle(unit, pdu)
                        if answer is not None:
                            sock.sendall(
                                struct.pack(">HHHB", tid, 0, len(answer) + 1, unit) + answer
                            )
                except (ConnectionError, OSError, struct.error):
                    return

        socketserver.ThreadingTCPServer.allow_reuse_address = True
        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port: int = self.server.server_address[1]
        self._thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def __enter__(self) -> TcpSlave:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(5)


def _recv_exact(sock: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise ConnectionError("closed")
        data += chunk
    return data


# --- RTU over a pty ------------------------------------------------------------------------------


def crc16(data: bytes) -> bytes:
    crc = 0xFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
    return struct.pack("<H", crc)


def _rtu_frame_length(buf: bytes) -> int | None:
    if len(buf) < 2:
        return None
    fc = buf[1]
    if fc in (3, 4, 6):
        return 8
    if fc == 16:
        return 9 + buf[6] if len(buf) >= 7 else None
    return -1


class RtuSlave:
    """``with RtuSlave(slave) as line:`` the client opens ``line.path``."""

    def __init__(self, slave: Slave) -> None:
        self.slave = slave
        self.master, self._slave_fd = os.openpty()
        tty.setraw(self._slave_fd)
        self.path = os.ttyname(self._slave_fd)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self.garbage = 0
        self.corrupt = False  # answers with a broken CRC and noise (a bad line)

    def _serve(self) -> None:
        buf = b""
        while not self._stop.is_set():
            ready, _, _ = select.select([self.master], [], [], 0.05)
            if not ready:
                if buf:  # an inter-frame gap: whatever is left is noise
                    self.garbage += 1
                    buf = b""
                continue
            try:
                buf += os.read(self.master, 256)
            except OSError:
                continue
            while True:
                length = _rtu_frame_length(buf)
                if length is None or (length > 0 and len(buf) < length):
                    break
                if length < 0 or crc16(buf[: length - 2]) != buf[length - 2 : length]:
                    self.garbage += 1
                    buf = b""
                    break
                frame, buf = buf[:length], buf[length:]
                answer = self.slave.handle(frame[0], frame[1:-2])
                if answer is not None:
                    reply = bytes([frame[0]]) + answer
                    if self.corrupt:
                        os.write(self.master, b"\x00\xff" + reply + b"\xde\xad")
                    else:
                        os.write(self.master, reply + crc16(reply))

    def __enter__(self) -> RtuSlave:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5)
        os.close(self.master)
        os.close(self._slave_fd)
