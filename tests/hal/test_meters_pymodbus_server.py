"""Every meter map read through our Modbus TCP driver from pymodbus's own server.

The other meter tests use a small independent slave (tests/hal/hal_fake_modbus.py); this
one checks the same maps against the reference implementation, so an encoding both of
our sides got wrong the same way would still show. Real clock: the server runs in a
thread with its own asyncio loop, the driver in trio's worker threads.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
import warnings
from collections.abc import Iterator
from typing import Any

import pytest
import trio
from hal_meter_values import VALUES, registers

from hal.base import Quantity
from hal.meter_maps import MODELS
from hal.meters import tcp_meter

pymodbus_server = pytest.importorskip("pymodbus.server")
datastore = pytest.importorskip("pymodbus.datastore")

UNIT = 3


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _context(model_name: str) -> Any:
    """A server context holding the model's registers at ``UNIT`` (pymodbus 3.0 and 3.1x)."""
    model = MODELS[model_name]
    words = registers(model)
    # a block starting at 1 serves protocol address 0 (as both 3.0 and 3.1x do)
    block = datastore.ModbusSequentialDataBlock(
        1, [words.get(address, 0) for address in range(max(words) + 1)]
    )
    empty = datastore.ModbusSequentialDataBlock(1, [0])
    banks = {
        "di": empty,
        "co": empty,
        "hr": block if model.table == "holding" else empty,
        "ir": block if model.table == "input" else empty,
    }
    device = getattr(datastore, "ModbusDeviceContext", None) or datastore.ModbusSlaveContext
    try:
        return datastore.ModbusServerContext(devices={UNIT: device(**banks)}, single=False)
    except TypeError:  # pymodbus < 3.10 names them slaves
        return datastore.ModbusServerContext(slaves={UNIT: device(**banks)}, single=False)


@contextlib.contextmanager
def pymodbus_tcp_server(model_name: str) -> Iterator[int]:
    port = _free_port()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # 3.1x announces its v4 datastore
        context = _context(model_name)
    thread = threading.Thread(
        target=pymodbus_server.StartTcpServer,
        kwargs={"context": context, "address": ("127.0.0.1", port)},
        daemon=True,
    )
    thread.start()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:  # wait until it listens
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                break
        time.sleep(0.05)
    try:
        yield port
    finally:
        pymodbus_server.ServerStop()
        thread.join(10)


@pytest.mark.parametrize("model", sorted(MODELS))
async def test_every_meter_map_against_the_pymodbus_server(model: str, make_context: Any) -> None:
    with pymodbus_tcp_server(model) as port:
        meter = tcp_meter(
            {"host": "127.0.0.1", "tcp_port": port, "model": model, "unit": UNIT},
            make_context("meter"),
        )
        try:
            with trio.fail_after(20):
                reading = await meter.read()
        finally:
            await meter.aclose()
    assert reading.energy_wh == pytest.approx(VALUES[(Quantity.ENERGY_IMPORT, None)], rel=1e-6)
    assert reading.power_w == pytest.approx(VALUES[(Quantity.POWER, None)], rel=1e-6)
    phases = MODELS[model].phases
    assert reading.current_a == pytest.approx(
        [VALUES[(Quantity.CURRENT, p)] for p in range(1, phases + 1)], rel=1e-6
    )
    assert reading.voltage_v == pytest.approx(
        [VALUES[(Quantity.VOLTAGE, p)] for p in range(1, phases + 1)], rel=1e-6
    )
