"""The EVSE DIN board driver against a fake board on RS-485 (RTU over a pty), real clock."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import trio
from hal_fake_modbus import RtuSlave, Slave
from hal_meter_values import load
from hal_support import RecordingSink, cleared, raised

from hal.base import (
    UNPLUGGED,
    CurrentAvailable,
    DeviceError,
    FaultKind,
    FaultRaised,
    PlugChanged,
    PlugState,
    ReadingTaken,
)
from hal.evse_board import EvseDinContactor, EvseDinOffer, EvseDinPlug
from hal.meter_maps import MODELS
from hal.meters import rtu_meter

BOARD = 1


@pytest.fixture
def slave() -> Slave:
    slave = Slave()
    # after boot: "current after boot" 32 A in 1000, vehicle ready, steady 12 V, firmware 18
    slave.set(BOARD, "holding", 1000, [32, 0, 1, 0, 0, 18, 1])
    slave.set(BOARD, "holding", 2005, [0])
    return slave


@pytest.fixture
def line(slave: Slave) -> Iterator[RtuSlave]:
    with RtuSlave(slave) as line:
        yield line


def vehicle(slave: Slave, state: int, pp: int | None = None) -> None:
    slave.set(BOARD, "holding", 1002, [state])
    if pp is not None:
        slave.set(BOARD, "holding", 1003, [pp])


def register_1000(slave: Slave) -> int:
    return slave.get(BOARD, "holding", 1000)[0]


class Facets:
    def __init__(self, line: RtuSlave, make_context: Any, **options: Any) -> None:
        options = {"port": line.path, "poll_interval_s": 0.2, **options}
        self.plug = EvseDinPlug(options, make_context("plug", max_current_a=32.0))
        self.contactor = EvseDinContactor(options, make_context("contactor", max_current_a=32.0))
        self.offer = EvseDinOffer(options, make_context("pilot", max_current_a=32.0))
        self.plug_sink, self.contactor_sink, self.offer_sink = (RecordingSink() for _ in "abc")

    def start(self, nursery: trio.Nursery) -> None:
        nursery.start_soon(self.plug.run, self.plug_sink)
        nursery.start_soon(self.contactor.run, self.contactor_sink)
        nursery.start_soon(self.offer.run, self.offer_sink)


def plug_states(sink: RecordingSink) -> list[PlugState]:
    return [e.state for e in sink.of(PlugChanged)]


async def until(predicate: Any) -> None:
    """Wait (up to 5 s) until ``predicate()`` holds: the board is polled, not evented."""
    with trio.fail_after(5):
        while not predicate():
            await trio.sleep(0.02)


async def test_three_facets_share_one_board_which_starts_disabled(
    slave: Slave, line: RtuSlave, make_context: Any
) -> None:
    f = Facets(line, make_context)
    assert f.plug.board is f.contactor.board is f.offer.board
    with trio.fail_after(10):
        async with trio.open_nursery() as nursery:
            f.start(nursery)
            await until(lambda: register_1000(slave) == 0)  # no unauthorised charging
            await f.plug_sink.wait_for(lambda e: isinstance(e, CurrentAvailable))
            nursery.cancel_scope.cancel()
    assert plug_states(f.plug_sink) == [UNPLUGGED]
    assert f.plug_sink.of(CurrentAvailable)[0].amps == 32
    assert f.contactor_sink.events == f.offer_sink.events == []


async def test_vehicle_states_and_cable_limit(
    slave: Slave, line: RtuSlave, make_context: Any
) -> None:
    f = Facets(line, make_context)
    with trio.fail_after(15):
        async with trio.open_nursery() as nursery:
            f.start(nursery)
            sink = f.plug_sink
            await sink.wait_for(lambda e: isinstance(e, PlugChanged))
            vehicle(slave, 2, pp=20)
            await sink.wait_for(lambda e: isinstance(e, CurrentAvailable) and e.amps == 20)
            assert f.plug.state == PlugState(True, False)
            vehicle(slave, 3)
            await until(lambda: f.plug.state == PlugState(True, True))
            vehicle(slave, 4)  # ventilation: still charging
            await trio.sleep(0.5)
            vehicle(slave, 1, pp=0)
            await sink.wait_for(
                lambda e: isinstance(e, CurrentAvailable) and e.amps == 32,
                start=len(sink.events) - 1,
            )
            nursery.cancel_scope.cancel()
    assert plug_states(sink) == [
        UNPLUGGED,
        PlugState(True, False),
        PlugState(True, True),
        UNPLUGGED,
    ]


async def test_contactor_enables_and_pilot_sets_register_1000(
    slave: Slave, line: RtuSlave, make_context: Any
) -> None:
    f = Facets(line, make_context)
    with trio.fail_after(15):
        async with trio.open_nursery() as nursery:
            f.start(nursery)
            await until(lambda: register_1000(slave) == 0)
            await f.contactor.set_closed(True)
            assert f.contactor.closed and register_1000(slave) == 32  # no offer yet: maximum
            await f.offer.offer(16)
            assert register_1000(slave) == 16
            await f.offer.offer(10.7)
            assert register_1000(slave) == 10  # never more than offered
            await f.offer.offer(5.5)
            assert register_1000(slave) == 0  # below the 6 A minimum: no PWM
            await f.offer.offer(None)
            assert register_1000(slave) == 0
            await f.offer.offer(40)
            assert register_1000(slave) == 32  # the connector's maximum
            await f.contactor.set_closed(False)
            assert register_1000(slave) == 0
            await f.contactor.set_closed(True)
            nursery.cancel_scope.cancel()
        await f.contactor.aclose()
    assert register_1000(slave) == 0


async def test_board_failure_state_is_a_controller_fault_on_one_sink(
    slave: Slave, line: RtuSlave, make_context: Any
) -> None:
    f = Facets(line, make_context)
    with trio.fail_after(15):
        async with trio.open_nursery() as nursery:
            f.start(nursery)
            vehicle(slave, 2)
            await until(lambda: f.plug.state.plugged)
            vehicle(slave, 5)
            event = await f.plug_sink.wait_for(raised(FaultKind.CONTROLLER))
            assert isinstance(event, FaultRaised) and event.fault.vendor_code == "evse-din:5"
            vehicle(slave, 2)
            await f.plug_sink.wait_for(cleared(FaultKind.CONTROLLER))
            nursery.cancel_scope.cancel()
    assert f.contactor_sink.faults() == f.offer_sink.faults() == []
    assert f.plug.state == PlugState(True, False)  # the failure state did not unplug


async def test_silent_board_is_a_fault_and_a_rebooted_board_is_disabled_again(
    slave: Slave, line: RtuSlave, make_context: Any
) -> None:
    f = Facets(line, make_context)
    with trio.fail_after(30):
        async with trio.open_nursery() as nursery:
            f.start(nursery)
            await until(lambda: register_1000(slave) == 0)
            slave.silent = True
            start = trio.current_time()
            event = await f.plug_sink.wait_for(raised(FaultKind.CONTROLLER))
            assert "not answering" in event.fault.info  # type: ignore[union-attr]
            assert trio.current_time() - start < 10
            with pytest.raises(DeviceError):
                await f.contactor.set_closed(True)
            assert not f.contactor.closed
            slave.set(BOARD, "holding", 1000, [32])  # rebooted with its boot current
            slave.silent = False
            await f.plug_sink.wait_for(cleared(FaultKind.CONTROLLER))
            await until(lambda: register_1000(slave) == 0)
            nursery.cancel_scope.cancel()


async def test_precise_current_firmware_takes_hundredths_of_an_ampere(
    slave: Slave, line: RtuSlave, make_context: Any
) -> None:
    slave.set(BOARD, "holding", 2005, [1 << 7])
    f = Facets(line, make_context)
    with trio.fail_after(10):
        await f.contactor.set_closed(True)
        await f.offer.offer(16.5)
    assert register_1000(slave) == 1650


async def test_poll_continues_when_the_facet_that_ran_it_stops(
    slave: Slave, line: RtuSlave, make_context: Any
) -> None:
    f = Facets(line, make_context)
    with trio.fail_after(10):
        async with trio.open_nursery() as nursery:
            plug_scope = trio.CancelScope()
            nursery.start_soon(plug_task, f, plug_scope)
            await trio.sleep(0.5)
            nursery.start_soon(f.contactor.run, f.contactor_sink)
            await trio.sleep(0.3)
            plug_scope.cancel()
            vehicle(slave, 5)
            # with the plug facet gone, faults go to the contactor's sink
            await f.contactor_sink.wait_for(raised(FaultKind.CONTROLLER))
            nursery.cancel_scope.cancel()


async def plug_task(f: Facets, scope: trio.CancelScope) -> None:
    with scope:
        await f.plug.run(f.plug_sink)


async def test_meter_and_board_share_one_rs485_line(
    slave: Slave, line: RtuSlave, make_context: Any
) -> None:
    load(slave, 2, MODELS["sdm630"])
    f = Facets(line, make_context)
    meter = rtu_meter({"port": line.path, "unit": 2, "poll_interval_s": 0.5}, make_context("meter"))
    assert meter._bus is f.plug.board.bus
    meter_sink = RecordingSink()
    with trio.fail_after(15):
        async with trio.open_nursery() as nursery:
            f.start(nursery)
            nursery.start_soon(meter.run, meter_sink)
            vehicle(slave, 3, pp=16)
            for _ in range(5):
                await f.contactor.set_closed(True)
                await f.offer.offer(16)
                await trio.sleep(0.1)
            await meter_sink.wait_for(lambda e: isinstance(e, ReadingTaken), start=3)
            await until(lambda: f.plug.state == PlugState(True, True))
            nursery.cancel_scope.cancel()
    assert meter_sink.faults() == [] and f.plug_sink.faults() == []
    assert line.garbage == 0  # never two requests on the wire at once
    assert {unit for unit, _, _ in slave.requests} == {1, 2}


def test_one_line_needs_one_framing(line: RtuSlave, make_context: Any) -> None:
    EvseDinPlug({"port": line.path, "baudrate": 9600}, make_context("plug"))
    with pytest.raises(DeviceError, match="already used"):
        rtu_meter({"port": line.path, "baudrate": 2400}, make_context("meter"))
