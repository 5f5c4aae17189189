"""Modbus RTU against pymodbus's own serial server, over a pair of linked ptys (socat).

Every meter map, and the EVSE DIN board (plug state, enabling, the offered current), on
the reference implementation of the other side of the RS-485 line. Real clock.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import os
import shutil
import subprocess
import threading
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import trio
from hal_meter_values import VALUES, registers
from hal_support import RecordingSink

from hal.base import PlugChanged, PlugState, Quantity
from hal.evse_board import EvseDinContactor, EvseDinOffer, EvseDinPlug
from hal.meter_maps import MODELS
from hal.meters import rtu_meter

pymodbus_server = pytest.importorskip("pymodbus.server")
datastore = pytest.importorskip("pymodbus.datastore")

if shutil.which("socat") is None:  # installed by tools/system-deps.sh test
    pytest.skip("socat is not installed", allow_module_level=True)

_VERSION = tuple(int(part) for part in importlib.metadata.version("pymodbus").split(".")[:2])
if _VERSION < (3, 5):
    pytest.skip(
        "pymodbus 3.0's serial server does not answer over a pty; on 3.0 the RTU driver is "
        "tested against the independent slave (test_meters.py, test_evse_board.py)",
        allow_module_level=True,
    )

UNIT = 5


def _rtu_framer() -> Any:
    try:
        from pymodbus import FramerType  # 3.7 and newer

        return FramerType.RTU
    except ImportError:  # 3.0
        from pymodbus.framer.rtu_framer import ModbusRtuFramer

        return ModbusRtuFramer


@contextlib.contextmanager
def linked_ptys(directory: Path) -> Iterator[tuple[str, str]]:
    """Two pty paths whose bytes cross over, like the two ends of an RS-485 cable."""
    a, b = directory / "ttyBUS-A", directory / "ttyBUS-B"
    process = subprocess.Popen(
        ["socat", f"pty,raw,echo=0,link={a}", f"pty,raw,echo=0,link={b}"], stderr=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 10
        while not (a.exists() and b.exists()):
            if time.monotonic() > deadline:
                raise RuntimeError("socat did not create the ptys")
            time.sleep(0.02)
        yield str(a), str(b)
    finally:
        process.terminate()
        process.wait(5)
        for link in (a, b):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(link)


def _server_context(holding: dict[int, int], inputs: dict[int, int]) -> tuple[Any, Any]:
    """The server context, and the holding-register block (protocol address a is a + 1)."""

    def block(words: dict[int, int]) -> Any:
        top = max(words, default=0)
        return datastore.ModbusSequentialDataBlock(1, [words.get(a, 0) for a in range(top + 1)])

    empty = datastore.ModbusSequentialDataBlock(1, [0])
    hr = block(holding)
    device = getattr(datastore, "ModbusDeviceContext", None) or datastore.ModbusSlaveContext
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # 3.1x announces its v4 datastore
        unit = device(di=empty, co=empty, hr=hr, ir=block(inputs))
        try:
            return datastore.ModbusServerContext(devices={UNIT: unit}, single=False), hr
        except TypeError:  # pymodbus < 3.10
            return datastore.ModbusServerContext(slaves={UNIT: unit}, single=False), hr


@contextlib.contextmanager
def pymodbus_rtu_server(port: str, context: Any) -> Iterator[None]:
    thread = threading.Thread(
        target=pymodbus_server.StartSerialServer,
        kwargs={
            "context": context,
            "framer": _rtu_framer(),
            "port": port,
            "baudrate": 9600,
            "bytesize": 8,
            "parity": "N",
            "stopbits": 1,
        },
        daemon=True,
    )
    thread.start()
    time.sleep(0.3)  # the server opens its port
    try:
        yield
    finally:
        pymodbus_server.ServerStop()
        thread.join(10)


@pytest.mark.parametrize("model", sorted(MODELS))
async def test_every_meter_map_over_rtu_against_the_pymodbus_server(
    model: str, make_context: Any, tmp_path: Path
) -> None:
    words = registers(MODELS[model])
    holding, inputs = (words, {}) if MODELS[model].table == "holding" else ({}, words)
    context, _ = _server_context(holding, inputs)
    with linked_ptys(tmp_path) as (server_end, our_end), pymodbus_rtu_server(server_end, context):
        meter = rtu_meter({"port": our_end, "model": model, "unit": UNIT}, make_context("meter"))
        try:
            with trio.fail_after(20):
                reading = await meter.read()
        finally:
            await meter.aclose()
    assert reading.energy_wh == pytest.approx(VALUES[(Quantity.ENERGY_IMPORT, None)], rel=1e-6)
    assert reading.power_w == pytest.approx(VALUES[(Quantity.POWER, None)], rel=1e-6)
    phases = MODELS[model].phases
    assert reading.voltage_v == pytest.approx(
        [VALUES[(Quantity.VOLTAGE, p)] for p in range(1, phases + 1)], rel=1e-6
    )


async def test_the_evse_din_board_against_the_pymodbus_server(
    make_context: Any, tmp_path: Path
) -> None:
    """Reads (the vehicle state) and writes (enable, offered current) over RTU framing that
    pymodbus's server checks; where pymodbus exposes its registers (3.0-3.15, Debian's) the
    written values are checked too."""
    # 32 A in 1000 (current after boot), vehicle present (2), firmware 18; 2005: config bits
    holding = {1000 + i: word for i, word in enumerate([32, 0, 2, 0, 0, 18, 1])} | {2005: 0}
    context, board = _server_context(holding, {})

    def register(address: int) -> int | None:
        if hasattr(board, "getValues"):
            return int(board.getValues(address + 1, 1)[0])
        return None  # pymodbus 3.16 keeps its registers to itself

    with linked_ptys(tmp_path) as (server_end, our_end), pymodbus_rtu_server(server_end, context):
        options = {"port": our_end, "unit": UNIT, "poll_interval_s": 0.2}
        plug = EvseDinPlug(options, make_context("plug", max_current_a=32.0))
        contactor = EvseDinContactor(options, make_context("contactor", max_current_a=32.0))
        offer = EvseDinOffer(options, make_context("pilot", max_current_a=32.0))
        sink, contactor_sink = RecordingSink(), RecordingSink()
        with trio.fail_after(30):
            async with trio.open_nursery() as nursery:
                nursery.start_soon(plug.run, sink)
                nursery.start_soon(contactor.run, contactor_sink)
                await sink.wait_for(
                    lambda e: isinstance(e, PlugChanged) and e.state == PlugState(True, False)
                )
                await contactor.set_closed(True)
                await offer.offer(16)
                assert register(1000) in (16, None)
                await contactor.set_closed(False)
                assert register(1000) in (0, None)
                nursery.cancel_scope.cancel()
        await contactor.aclose()
    assert not sink.faults() and not contactor_sink.faults()
