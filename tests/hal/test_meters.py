"""Modbus meters against a fake slave over TCP (port 0) and RTU over a pty, on the real clock
(the worker threads wait out real pymodbus timeouts)."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest
import trio
from hal_fake_modbus import RtuSlave, Slave, TcpSlave
from hal_meter_values import VALUES, load
from hal_support import RecordingSink, cleared, raised

import hal.meters
from hal.base import DeviceUnavailable, FaultKind, Quantity, ReadingTaken
from hal.meter_maps import MODELS
from hal.meters import ModbusMeter, rtu_meter, tcp_meter


@pytest.fixture(autouse=True)
def quick_retry(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(hal.meters, "QUICK_RETRY_S", 0.2)


@pytest.fixture
def slave() -> Slave:
    return Slave()


@pytest.fixture
def rtu(slave: Slave) -> Iterator[RtuSlave]:
    with RtuSlave(slave) as line:
        yield line


@pytest.fixture
def tcp(slave: Slave) -> Iterator[TcpSlave]:
    with TcpSlave(slave) as server:
        yield server


def meter_on(line: RtuSlave | TcpSlave, make_context: Any, **options: Any) -> ModbusMeter:
    context = make_context("meter")
    if isinstance(line, RtuSlave):
        return rtu_meter({"port": line.path, **options}, context)
    return tcp_meter({"host": "127.0.0.1", "tcp_port": line.port, **options}, context)


def check(reading: Any, model_name: str) -> None:
    model = MODELS[model_name]
    assert reading.energy_wh == pytest.approx(VALUES[(Quantity.ENERGY_IMPORT, None)], rel=1e-6)
    assert reading.power_w == pytest.approx(7250.5, rel=1e-6)
    assert len(reading.current_a) == len(reading.voltage_v) == model.phases
    assert reading.current_a[0] == pytest.approx(10.5)


@pytest.mark.parametrize("model", sorted(MODELS))
@pytest.mark.parametrize("transport", ["tcp", "rtu"])
async def test_every_meter_model_over_tcp_and_rtu(
    model: str, transport: str, slave: Slave, request: pytest.FixtureRequest, make_context: Any
) -> None:
    line = request.getfixturevalue(transport)
    load(slave, 7, MODELS[model])
    meter = meter_on(line, make_context, model=model, unit=7)
    assert meter.quantities == MODELS[model].quantities
    with trio.fail_after(10):
        check(await meter.read(), model)
    table = {"input": 4, "holding": 3}[MODELS[model].table]
    assert {(unit, fc) for unit, fc, _ in slave.requests} == {(7, table)}
    assert len(slave.requests) == len(MODELS[model].blocks())


async def test_run_reports_readings_every_poll_interval(
    slave: Slave, tcp: TcpSlave, make_context: Any, sink: RecordingSink
) -> None:
    load(slave, 1, MODELS["sdm630"])
    meter = meter_on(tcp, make_context, poll_interval_s=0.5)
    with trio.fail_after(10):
        async with trio.open_nursery() as nursery:
            nursery.start_soon(meter.run, sink)
            await sink.wait_for(lambda e: isinstance(e, ReadingTaken), start=2)
            nursery.cancel_scope.cancel()
    assert sink.faults() == []
    check(sink.of(ReadingTaken)[-1].reading, "sdm630")


@pytest.mark.parametrize("transport", ["tcp", "rtu"])
async def test_silent_meter_is_a_fault_within_10_s_and_clears_when_it_answers(
    transport: str,
    slave: Slave,
    request: pytest.FixtureRequest,
    make_context: Any,
    sink: RecordingSink,
) -> None:
    line = request.getfixturevalue(transport)
    load(slave, 1, MODELS["sdm630"])
    meter = meter_on(line, make_context, poll_interval_s=2.0)
    with trio.fail_after(40):
        async with trio.open_nursery() as nursery:
            nursery.start_soon(meter.run, sink)
            await sink.wait_for(lambda e: isinstance(e, ReadingTaken))
            slave.silent = True
            silent_since = trio.current_time()
            await sink.wait_for(raised(FaultKind.POWER_METER))
            assert trio.current_time() - silent_since < 10
            with trio.fail_after(0.1), pytest.raises(DeviceUnavailable):
                await meter.read()  # at once, not after another timeout
            await trio.sleep(3)
            slave.silent = False
            answered = len(sink.events)
            await sink.wait_for(cleared(FaultKind.POWER_METER), start=answered)
            await sink.wait_for(lambda e: isinstance(e, ReadingTaken), start=answered)
            nursery.cancel_scope.cancel()
    assert sink.faults() == [("raised", FaultKind.POWER_METER), ("cleared", FaultKind.POWER_METER)]
    check(await meter.read(), "sdm630")


async def test_one_lost_answer_is_not_a_fault(
    slave: Slave, rtu: RtuSlave, make_context: Any, sink: RecordingSink
) -> None:
    load(slave, 1, MODELS["sdm120"])
    meter = meter_on(rtu, make_context, model="sdm120", poll_interval_s=0.5)
    with trio.fail_after(20):
        async with trio.open_nursery() as nursery:
            nursery.start_soon(meter.run, sink)
            await sink.wait_for(lambda e: isinstance(e, ReadingTaken))
            slave.silent = True
            await trio.sleep(0.6)  # about one timed-out poll
            slave.silent = False
            await sink.wait_for(lambda e: isinstance(e, ReadingTaken), start=len(sink.events))
            nursery.cancel_scope.cancel()
    assert sink.faults() == []


async def test_garbled_answers_are_a_fault_not_a_crash_and_clear_on_a_clean_line(
    slave: Slave, rtu: RtuSlave, make_context: Any, sink: RecordingSink
) -> None:
    load(slave, 1, MODELS["sdm630"])
    meter = meter_on(rtu, make_context, poll_interval_s=0.5)
    with trio.fail_after(30):
        async with trio.open_nursery() as nursery:
            nursery.start_soon(meter.run, sink)
            await sink.wait_for(lambda e: isinstance(e, ReadingTaken))
            rtu.corrupt = True
            await sink.wait_for(raised(FaultKind.POWER_METER))
            rtu.corrupt = False
            await sink.wait_for(cleared(FaultKind.POWER_METER))
            nursery.cancel_scope.cancel()
    check(await meter.read(), "sdm630")


async def test_meter_at_another_unit_address_does_not_answer_for_ours(
    slave: Slave, rtu: RtuSlave, make_context: Any
) -> None:
    """pymodbus 3.0 silently ignores a wrong unit keyword and asks unit 0: this catches it."""
    load(slave, 1, MODELS["sdm630"])
    with trio.fail_after(10), pytest.raises(DeviceUnavailable):
        await meter_on(rtu, make_context, unit=2).read()
    load(slave, 2, MODELS["sdm630"])
    with trio.fail_after(10):
        check(await meter_on(rtu, make_context, unit=2).read(), "sdm630")


async def test_registers_the_meter_lacks_are_dropped_energy_still_counts(
    slave: Slave, tcp: TcpSlave, make_context: Any
) -> None:
    load(slave, 1, MODELS["sdm630"])
    with slave.lock:  # an older revision without per-phase voltages and currents
        for address in range(0x0000, 0x000C):
            del slave.units[1][("input", address)]
    meter = meter_on(tcp, make_context)
    with trio.fail_after(10):
        reading = await meter.read()
        assert reading.energy_wh == pytest.approx(12_345_600.0, rel=1e-6)
        assert reading.voltage_v == () and reading.current_a == ()
        assert Quantity.VOLTAGE not in meter.quantities
        asked = len(slave.requests)
        await meter.read()
        assert len(slave.requests) - asked == len(MODELS["sdm630"].blocks()) - 1


async def test_wrong_model_is_a_fault_not_a_crash(
    slave: Slave, tcp: TcpSlave, make_context: Any, sink: RecordingSink
) -> None:
    load(slave, 1, MODELS["sdm630"])  # but configured as an ABB: holding registers 0x5000
    meter = meter_on(tcp, make_context, model="abb-b23", poll_interval_s=0.5)
    with trio.fail_after(10):
        async with trio.open_nursery() as nursery:
            nursery.start_soon(meter.run, sink)
            event = await sink.wait_for(raised(FaultKind.POWER_METER))
            assert "implausible" in event.fault.info  # type: ignore[union-attr]
            nursery.cancel_scope.cancel()


async def test_absent_port_and_refused_tcp_are_faults_and_retried(
    tmp_path: Any, make_context: Any, sink: RecordingSink
) -> None:
    rtu_missing = rtu_meter(
        {"port": str(tmp_path / "ttyUSB9"), "poll_interval_s": 0.5}, make_context("rtu meter")
    )
    port = unused_port()
    tcp_refused = tcp_meter(
        {"host": "127.0.0.1", "tcp_port": port, "poll_interval_s": 0.5},
        make_context("tcp meter"),
    )
    other = RecordingSink()
    with trio.fail_after(15):
        async with trio.open_nursery() as nursery:
            nursery.start_soon(rtu_missing.run, sink)
            nursery.start_soon(tcp_refused.run, other)
            await sink.wait_for(raised(FaultKind.POWER_METER))
            await other.wait_for(raised(FaultKind.POWER_METER))
            await trio.sleep(3)  # keeps retrying, never crashes
            nursery.cancel_scope.cancel()
    assert rtu_missing._bus.transactions >= 3


def unused_port() -> int:
    """A loopback port nobody listens on."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
