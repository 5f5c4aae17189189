"""The serial RFID reader on ptys: RDM6300 and line readers, a PN532 played by a fake, and a
USB adapter that is unplugged and plugged back (same path through a symlink)."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import trio
from hal_fake_serial import FakePn532, PtyPort
from hal_support import RecordingSink, cleared, raised

from hal.base import FaultKind, TagRead
from hal.rfid import SerialReader
from hal.rfid_protocols import rdm6300_frame

TAG, OTHER = "0F00A1B2C3", "1122334455"


def reader(port: PtyPort, make_context: Any, **options: Any) -> SerialReader:
    context = make_context("rfid", connector_id=None)
    return SerialReader({"port": str(port.path), **options}, context)


def tags(sink: RecordingSink) -> list[str]:
    return [e.id_tag for e in sink.of(TagRead)]


async def test_rdm6300_one_swipe_per_presentation_despite_noise_and_split_frames(
    tmp_path: Path, make_context: Any, io_clock: Any, sink: RecordingSink
) -> None:
    port = PtyPort(tmp_path).plug()
    device = reader(port, make_context, hold_s=1.0)
    frame = rdm6300_frame(TAG)
    with trio.fail_after(60):
        async with trio.open_nursery() as nursery:
            nursery.start_soon(device.run, sink)
            await trio.sleep(0.5)
            bad = bytearray(rdm6300_frame(OTHER))
            bad[12] ^= 0x01  # checksum digit wrong
            port.write(b"\x00\xffnoise" + bytes(bad))
            for piece in (frame[:3], frame[3:9], frame[9:]):  # split across reads
                port.write(piece)
                await trio.sleep(0.05)
            await sink.wait_for(lambda e: isinstance(e, TagRead))
            for _ in range(8):  # held on the reader: the module repeats the frame
                port.write(frame)
                await trio.sleep(0.3)
            await trio.sleep(2.0)  # taken away
            port.write(frame + frame)  # presented again
            await sink.wait_for(lambda e: isinstance(e, TagRead), start=len(sink.events))
            port.write(rdm6300_frame(OTHER))
            await sink.wait_for(lambda e: isinstance(e, TagRead) and e.id_tag == OTHER)
            nursery.cancel_scope.cancel()
    assert tags(sink) == [TAG, TAG, OTHER]
    assert sink.faults() == []
    port.unplug()


async def test_line_reader_normalises_uids(
    tmp_path: Path, make_context: Any, io_clock: Any, sink: RecordingSink
) -> None:
    port = PtyPort(tmp_path).plug()
    device = reader(port, make_context, protocol="line", baudrate=115200)
    with trio.fail_after(30):
        async with trio.open_nursery() as nursery:
            nursery.start_soon(device.run, sink)
            await trio.sleep(0.5)
            port.write(b"04:a2:b3:c4\r\n")
            await sink.wait_for(lambda e: isinstance(e, TagRead))
            await trio.sleep(2)
            port.write(b"garbage!\n1234567890\n")
            await sink.wait_for(lambda e: isinstance(e, TagRead) and e.id_tag == "1234567890")
            nursery.cancel_scope.cancel()
    assert tags(sink) == ["04A2B3C4", "1234567890"]
    port.unplug()


async def test_unplugged_reader_is_a_fault_retried_with_backoff_and_cleared_when_back(
    tmp_path: Path, make_context: Any, io_clock: Any, sink: RecordingSink
) -> None:
    port = PtyPort(tmp_path).plug()
    device = reader(port, make_context)
    with trio.fail_after(300):
        async with trio.open_nursery() as nursery:
            nursery.start_soon(device.run, sink)
            await trio.sleep(0.5)
            assert device.opened == 1
            port.unplug()
            await sink.wait_for(raised(FaultKind.READER))
            await trio.sleep(120)  # retries, capped back-off, one fault only
            assert sink.faults() == [("raised", FaultKind.READER)]
            port.plug()  # same path, new device node
            await sink.wait_for(cleared(FaultKind.READER))
            port.write(rdm6300_frame(TAG))
            await sink.wait_for(lambda e: isinstance(e, TagRead))
            nursery.cancel_scope.cancel()
    assert device.opened == 2
    port.unplug()


async def test_a_reader_lost_right_after_each_open_backs_off_and_its_fault_does_not_flap(
    tmp_path: Path, make_context: Any, io_clock: Any, sink: RecordingSink
) -> None:
    """A flaky USB cable: the port opens and fails at once, again and again. Before, every
    open reset the back-off and cleared the fault: a retry and two status changes a second."""
    port = PtyPort(tmp_path).plug()
    device = reader(port, make_context)
    opened_at: list[float] = []
    with trio.fail_after(600):
        async with trio.open_nursery() as nursery:
            nursery.start_soon(device.run, sink)
            for n in range(1, 7):
                while device.opened < n:
                    await trio.sleep(0.5)
                opened_at.append(trio.current_time())
                port.unplug()  # lost at once (within STABLE_S of opening) ...
                port.plug()  # ... and back at once
            nursery.cancel_scope.cancel()
    assert sink.faults() == [("raised", FaultKind.READER)], "one fault, never cleared meanwhile"
    gaps = [b - a for a, b in itertools.pairwise(opened_at)]
    assert gaps[-1] > 4 * gaps[0], f"backing off: {gaps}"
    port.unplug()


async def test_reader_absent_at_start_is_a_fault_until_it_appears(
    tmp_path: Path, make_context: Any, io_clock: Any, sink: RecordingSink
) -> None:
    port = PtyPort(tmp_path)
    device = reader(port, make_context)
    with trio.fail_after(120):
        async with trio.open_nursery() as nursery:
            nursery.start_soon(device.run, sink)
            await sink.wait_for(raised(FaultKind.READER))
            await trio.sleep(10)
            port.plug()
            await sink.wait_for(cleared(FaultKind.READER))
            nursery.cancel_scope.cancel()
    port.unplug()


async def test_pn532_reads_a_card_once_while_held_and_again_when_presented_again(
    tmp_path: Path, make_context: Any, io_clock: Any, sink: RecordingSink
) -> None:
    port = PtyPort(tmp_path).plug()
    chip = FakePn532(port)
    device = reader(
        port, make_context, protocol="pn532", baudrate=115200, hold_s=1.0, pn532_poll_s=5.0
    )
    with trio.fail_after(120):
        async with trio.open_nursery() as nursery:
            nursery.start_soon(chip.serve)
            nursery.start_soon(device.run, sink)
            await trio.sleep(12)  # idle: the search is re-armed every 5 s
            assert chip.commands[0] == 0x14 and chip.commands.count(0x4A) >= 3
            chip.present(bytes.fromhex("04a2b3c4"))
            await sink.wait_for(lambda e: isinstance(e, TagRead))
            await trio.sleep(3)  # held: read again and again, one swipe
            chip.present(None)
            await trio.sleep(2)
            chip.present(bytes.fromhex("0488a1b2c3d4e5"))
            await sink.wait_for(lambda e: isinstance(e, TagRead), start=len(sink.events))
            nursery.cancel_scope.cancel()
    assert tags(sink) == ["04A2B3C4", "0488A1B2C3D4E5"]
    assert sink.faults() == []
    port.unplug()


async def test_pn532_that_stops_answering_is_a_fault_until_it_answers(
    tmp_path: Path, make_context: Any, io_clock: Any, sink: RecordingSink
) -> None:
    port = PtyPort(tmp_path).plug()
    chip = FakePn532(port)
    chip.mute = True  # e.g. wired to the wrong UART, or no power
    device = reader(port, make_context, protocol="pn532", pn532_poll_s=2.0)
    with trio.fail_after(120):
        async with trio.open_nursery() as nursery:
            nursery.start_soon(chip.serve)
            nursery.start_soon(device.run, sink)
            await sink.wait_for(raised(FaultKind.READER))
            chip.mute = False
            await sink.wait_for(cleared(FaultKind.READER))
            chip.present(bytes.fromhex("deadbeef"))
            await sink.wait_for(lambda e: isinstance(e, TagRead))
            nursery.cancel_scope.cancel()
    assert tags(sink) == ["DEADBEEF"]
    port.unplug()
