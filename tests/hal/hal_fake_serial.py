"""Serial devices for tests: a pty whose slave side is reachable through a stable symlink (as
udev gives /dev/serial/by-id/...), which can vanish and come back like an unplugged USB
adapter, and a PN532 that answers on the master side."""

from __future__ import annotations

import os
import tty
from pathlib import Path

import trio

from hal.rfid_protocols import ACK, pn532_frame


class PtyPort:
    """``path`` is what the reader opens; ``write`` plays the device's side."""

    def __init__(self, directory: Path, name: str = "ttyRFID") -> None:
        self.path = directory / name
        self.master: int | None = None
        self._slave: int | None = None

    def plug(self) -> PtyPort:
        self.master, self._slave = os.openpty()
        tty.setraw(self._slave)
        os.set_blocking(self.master, False)
        if self.path.is_symlink():
            self.path.unlink()
        self.path.symlink_to(os.ttyname(self._slave))
        return self

    def unplug(self) -> None:
        """The adapter is gone: the reader's reads fail, the path disappears."""
        self.path.unlink(missing_ok=True)
        for fd in (self.master, self._slave):
            if fd is not None:
                os.close(fd)
        self.master = self._slave = None

    def write(self, data: bytes) -> None:
        assert self.master is not None
        os.write(self.master, data)

    async def receive(self) -> bytes:
        assert self.master is not None
        while True:
            await trio.lowlevel.wait_readable(self.master)
            try:
                return os.read(self.master, 512)
            except BlockingIOError:
                continue


class FakePn532:
    """Answers SAMConfiguration and InListPassiveTarget like a PN532 on HSU; a card is
    "in the field" while ``card`` is set. ``mute`` makes it ignore everything."""

    def __init__(self, port: PtyPort) -> None:
        self.port = port
        self.card: bytes | None = None
        self.mute = False
        self.commands: list[int] = []
        self._waiting = False  # an InListPassiveTarget is pending
        self._card_changed = trio.Event()

    def present(self, uid: bytes | None) -> None:
        self.card = uid
        self._card_changed.set()
        self._card_changed = trio.Event()

    async def serve(self) -> None:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(self._answer_targets)
            buf = b""
            while True:
                buf += await self.port.receive()
                buf = self._handle(buf)

    def _handle(self, buf: bytes) -> bytes:
        while True:
            start = buf.find(b"\x00\x00\xff")
            if start < 0:
                return buf[-2:]
            buf = buf[start:]
            if buf[:6] == ACK:  # the host aborts the pending command
                self._waiting = False
                buf = buf[6:]
                continue
            if len(buf) < 5 or len(buf) < 5 + buf[3] + 2:
                return buf
            length = buf[3]
            body = buf[5 : 5 + length]
            buf = buf[5 + length + 2 :]
            if self.mute or body[:1] != b"\xd4":
                continue
            command = body[1]
            self.commands.append(command)
            self.port.write(ACK)
            if command == 0x14:  # SAMConfiguration
                self.port.write(pn532_frame(b"\x15", tfi=0xD5))
            elif command == 0x4A:  # InListPassiveTarget: answered when a card is there
                self._waiting = True
                self._card_changed.set()
                self._card_changed = trio.Event()

    async def _answer_targets(self) -> None:
        while True:
            if self._waiting and self.card is not None and not self.mute:
                self._waiting = False
                uid = self.card
                self.port.write(
                    pn532_frame(
                        bytes([0x4B, 0x01, 0x01, 0x00, 0x04, 0x08, len(uid)]) + uid, tfi=0xD5
                    )
                )
            await self._card_changed.wait()
