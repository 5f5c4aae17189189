"""RFID readers on a serial port (pyserial): RDM6300, line readers and PN532 over HSU.

pyserial opens and configures the port (in a worker thread: opening a USB serial device
can take a moment); reading is event-driven on the file descriptor with
``trio.lowlevel.wait_readable``, so an idle reader costs no wake-ups and cancellation is
immediate. A port that is missing at start, disappears (USB unplugged: the read fails
or returns end-of-file) or a PN532 that stops acknowledging raises a READER fault; the
port is reopened with back-off (1 s doubling to 30 s, jittered) and the fault clears
once it has stayed open for ``STABLE_S`` (for a PN532: once it acknowledges again). Only
then does the back-off start from 1 s again: a reader that opens and fails at once (a
flaky USB cable) is retried less and less often, not every second, and its fault does
not flap.

A tag is reported once per presentation: frames of the same tag count as one swipe
until no frame of it arrived for ``hold_s``. Tags are personal data: they are logged at
DEBUG only (the charger logic logs that a tag was presented, without it).
"""

from __future__ import annotations

import errno
import logging
import os
from collections.abc import Callable, Mapping
from typing import Any

import serial
import trio

from hal.base import DeviceUnavailable, EventSink, Fault, FaultKind, TagRead
from hal.context import DeviceContext
from hal.health import Backoff, FaultLatch
from hal.registry import DeviceKind, with_defaults
from hal.rfid_protocols import (
    ACK,
    IN_LIST_PASSIVE_TARGET,
    SAM_CONFIGURATION,
    WAKEUP,
    LineDecoder,
    Pn532Decoder,
    Pn532Message,
    Rdm6300Decoder,
    pn532_frame,
    pn532_target_uid,
)

log = logging.getLogger(__name__)

PN532_ANSWER_S = 1.0  # ACK and SAMConfiguration answer within ms; 1 s is generous
PN532_PAUSE_S = 0.3  # between reads while a card stays on the reader
STABLE_S = 2.0  # a stream reader's port open this long without failing counts as working


class SerialPort:
    """An open port: pyserial for the settings, the raw descriptor for trio."""

    def __init__(self, port: serial.Serial) -> None:
        self._port = port
        self.fd: int = port.fileno()

    async def receive(self) -> bytes:
        """The next bytes; DeviceUnavailable when the device is gone."""
        while True:
            await trio.lowlevel.wait_readable(self.fd)
            try:
                data = os.read(self.fd, 512)
            except BlockingIOError:
                continue
            except OSError as exc:  # EIO: USB adapter unplugged / pty master closed
                raise DeviceUnavailable(f"read failed: {exc}") from exc
            if not data:
                raise DeviceUnavailable("port closed (device unplugged?)")
            return data

    async def send(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            try:
                written = os.write(self.fd, view)
            except BlockingIOError:
                await trio.lowlevel.wait_writable(self.fd)
                continue
            except OSError as exc:
                raise DeviceUnavailable(f"write failed: {exc}") from exc
            view = view[written:]

    def close(self) -> None:
        try:
            trio.lowlevel.notify_closing(self.fd)
        except RuntimeError:  # outside trio (tests closing by hand)
            pass
        try:
            self._port.close()
        except (OSError, serial.SerialException):
            pass


class SerialReader:
    """``RfidReader`` on a serial port speaking ``protocol`` (rdm6300 | line | pn532)."""

    def __init__(self, options: Mapping[str, Any], context: DeviceContext) -> None:
        options = with_defaults(DeviceKind.RFID, "serial", options)
        self.name = context.name
        self.port: str = options["port"]
        self.baudrate: int = options["baudrate"]
        self.protocol: str = options["protocol"]
        self.id_format: str = options["id_format"]
        self.hold_s: float = options["hold_s"]
        self.pn532_poll_s: float = options["pn532_poll_s"]
        Rdm6300Decoder(self.id_format)  # a bad id_format fails here, not in run
        self._faults = FaultLatch()
        self._last_tag: str | None = None
        self._last_at = float("-inf")
        self.opened = 0

    # --- one swipe per presentation ---

    def _seen(self, tag: str, sink: EventSink) -> None:
        now = trio.current_time()
        again = tag == self._last_tag and now - self._last_at < self.hold_s
        self._last_tag, self._last_at = tag, now
        if not again:
            log.debug("%s: tag %s", self.name, tag)
            sink.report(TagRead(tag))

    # --- the port's life ---

    def _open_sync(self) -> serial.Serial:
        return serial.Serial(self.port, self.baudrate, timeout=0, write_timeout=0, exclusive=True)

    async def run(self, sink: EventSink) -> None:
        self._faults.attach(sink)
        backoff = Backoff(1.0, 30.0)
        try:
            while True:
                try:
                    raw = await trio.to_thread.run_sync(self._open_sync)
                except (OSError, serial.SerialException, ValueError) as exc:
                    self._fault(f"cannot open {self.port}", exc)
                    await trio.sleep(backoff.next_delay())
                    continue
                port = SerialPort(raw)
                self.opened += 1
                log.info("%s: %s open (%s)", self.name, self.port, self.protocol)
                try:
                    if self.protocol == "pn532":
                        await self._pn532(port, sink, backoff)
                    else:
                        await self._stream(port, sink, backoff)
                except DeviceUnavailable as exc:
                    self._fault(f"{self.port} lost", exc)
                finally:
                    port.close()
                await trio.sleep(backoff.next_delay())
        finally:
            self._faults.detach(sink)

    def _fault(self, what: str, exc: Exception) -> None:
        """One READER fault per outage, however many retries fail (and however)."""
        if self._faults.active(FaultKind.READER):
            log.debug("%s: still unavailable: %s: %s", self.name, what, exc)
            return
        log.error("%s: %s: %s", self.name, what, exc)
        code = errno.errorcode.get(getattr(exc, "errno", None) or 0)
        self._faults.raise_fault(
            Fault(FaultKind.READER, "RFID reader not available", vendor_code=code)
        )

    def _healthy(self, backoff: Backoff) -> None:
        backoff.reset()
        self._faults.clear_fault(FaultKind.READER)

    async def _stream(self, port: SerialPort, sink: EventSink, backoff: Backoff) -> None:
        """rdm6300 and line readers only talk: a port that stays open is a working reader."""
        decoder: Rdm6300Decoder | LineDecoder = (
            Rdm6300Decoder(self.id_format) if self.protocol == "rdm6300" else LineDecoder()
        )

        async def read_tags() -> None:
            while True:
                for tag in decoder.feed(await port.receive()):
                    self._seen(tag, sink)

        with trio.move_on_after(STABLE_S):
            await read_tags()
        self._healthy(backoff)
        await read_tags()

    async def _pn532(self, port: SerialPort, sink: EventSink, backoff: Backoff) -> None:
        """Wake the chip, configure the SAM, then wait for cards with InListPassiveTarget.

        The chip answers InListPassiveTarget only when a card is in the field; every
        ``pn532_poll_s`` the command is aborted (an ACK from the host) and sent again,
        which also proves the chip still answers.
        """
        inbox = _Pn532Inbox(port)
        await port.send(WAKEUP + pn532_frame(SAM_CONFIGURATION))
        await inbox.expect_ack()
        await inbox.expect_response(0x15)
        self._healthy(backoff)
        while True:
            await port.send(pn532_frame(IN_LIST_PASSIVE_TARGET))
            await inbox.expect_ack()
            message = await inbox.next_response(0x4B, self.pn532_poll_s)
            if message is None:
                await port.send(ACK)  # abort the pending command
                continue
            tag = pn532_target_uid(message.payload)
            if tag is not None:
                self._seen(tag, sink)
                await trio.sleep(PN532_PAUSE_S)

    async def aclose(self) -> None:
        return None  # run() closes the port when it is cancelled

    def __repr__(self) -> str:
        return (
            f"<SerialReader {self.name} {self.port} {self.protocol} opened={self.opened} "
            f"last={self._last_tag} {self._faults!r}>"
        )


class _Pn532Inbox:
    """Messages from a PN532, awaited with time limits."""

    def __init__(self, port: SerialPort) -> None:
        self._port = port
        self._decoder = Pn532Decoder()
        self._pending: list[Pn532Message] = []

    async def _next(self, accept: Callable[[Pn532Message], bool]) -> Pn532Message:
        while True:
            while self._pending:
                message = self._pending.pop(0)
                if accept(message):
                    return message
                log.debug("pn532: ignoring %s", message)
            self._pending.extend(self._decoder.feed(await self._port.receive()))

    async def expect_ack(self) -> None:
        with trio.move_on_after(PN532_ANSWER_S):
            message = await self._next(lambda m: m.kind in ("ack", "nack", "error"))
            if message.kind == "ack":
                return
        raise DeviceUnavailable("PN532 does not acknowledge")

    async def expect_response(self, code: int) -> Pn532Message:
        message = await self.next_response(code, PN532_ANSWER_S)
        if message is None:
            raise DeviceUnavailable(f"PN532 does not answer command 0x{code - 1:02X}")
        return message

    async def next_response(self, code: int, within_s: float) -> Pn532Message | None:
        with trio.move_on_after(within_s):
            return await self._next(
                lambda m: m.kind == "response" and m.payload[:1] == bytes([code])
            )
        return None
