"""Meter values: sampled and clock-aligned, measurands with unit, phase, context and location."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
import trio
from ocpp.v16 import call

from hal.base import Quantity
from hal.meter_maps import MODELS
from ocppd.features import declared_keys
from ocppd.model.keys import Keys
from ocppd.model.metering import supported_measurands
from tests.harness import charger

TAG = "METER001"
ALL = (
    "Energy.Active.Import.Register,Power.Active.Import,Current.Import,Voltage,"
    "Current.Offered,Power.Offered,Frequency"
)


async def charging(cp: Any, station: Any) -> None:
    await cp.sim("plug", 1)
    await cp.swipe(TAG)
    await station.wait_for("StatusNotification", lambda p: p["status"] == "Charging")


def values(meter_values: Any) -> list[dict[str, Any]]:
    return [v for mv in meter_values.payload["meterValue"] for v in mv["sampledValue"]]


async def test_sampled_values_carry_unit_phase_context_and_location(
    nursery, start_csms, autojump_clock
):
    csms = await start_csms()
    keys = {"MeterValueSampleInterval": 30, "MeterValuesSampledData": ALL}
    async with charger(nursery, csms, keys=keys) as cp:
        station = await cp.registered()
        await cp.sim("power", 1, watts=6900)
        await charging(cp, station)
        sample = await station.wait_for("MeterValues")
        got = {(v["measurand"], v.get("phase")): v for v in values(sample)}
        assert got[("Energy.Active.Import.Register", None)]["unit"] == "Wh"
        assert got[("Power.Active.Import", None)] == {
            "value": "6900",
            "context": "Sample.Periodic",
            "measurand": "Power.Active.Import",
            "location": "Outlet",
            "unit": "W",
        }
        for phase in ("L1", "L2", "L3"):
            assert got[("Current.Import", phase)]["value"] == "10"
            assert got[("Current.Import", phase)]["unit"] == "A"
            assert got[("Voltage", f"{phase}-N")]["value"] == "230"
        assert got[("Current.Offered", None)]["value"] == "32"
        assert got[("Power.Offered", None)]["value"] == "22080"
        assert "unit" not in got[("Frequency", None)]
        assert all(v["context"] == "Sample.Periodic" for v in values(sample))
        assert not csms.violations


async def test_an_unsupported_measurand_is_rejected_and_nothing_changes(
    nursery, start_csms, autojump_clock
):
    csms = await start_csms()
    async with charger(nursery, csms) as cp:
        station = await cp.registered()
        before = await station.call(call.GetConfiguration(key=["MeterValuesSampledData"]))
        for bad in ("SoC", "Energy.Active.Import.Register,RPM", "Temperature"):
            answer = await station.call(
                call.ChangeConfiguration(key="MeterValuesSampledData", value=bad)
            )
            assert answer.status == "Rejected", bad
        current = await station.call(call.GetConfiguration(key=["MeterValuesSampledData"]))
        assert current.configuration_key == before.configuration_key


async def test_temperature_is_offered_when_a_sensor_is_fitted(nursery, start_csms, autojump_clock):
    csms = await start_csms()
    extra = '[connector.temperature]\ndriver = "sim"\ncelsius = 41.5\n'
    async with charger(
        nursery, csms, connector_extra=extra, keys={"MeterValueSampleInterval": 10}
    ) as cp:
        station = await cp.registered()
        answer = await station.call(
            call.ChangeConfiguration(
                key="MeterValuesSampledData", value="Energy.Active.Import.Register,Temperature"
            )
        )
        assert answer.status == "Accepted"
        await charging(cp, station)
        sample = await station.wait_for("MeterValues")
        temperature = next(v for v in values(sample) if v["measurand"] == "Temperature")
        assert temperature["unit"] == "Celsius" and temperature["location"] == "Body"


async def test_clock_aligned_values_fall_on_the_wall_clock_boundaries(
    nursery, start_csms, autojump_clock
):
    csms = await start_csms()
    keys = {
        "ClockAlignedDataInterval": 900,
        "MeterValueSampleInterval": 0,
        "StopTxnAlignedData": "Energy.Active.Import.Register",
    }
    async with charger(nursery, csms, keys=keys) as cp:
        station = await cp.registered()
        await trio.sleep(1000)  # one idle boundary: 10:15:00
        idle = station.calls("MeterValues")
        assert len(idle) == 1 and "transactionId" not in idle[0].payload
        assert idle[0].payload["meterValue"][0]["timestamp"] == "2026-11-21T10:15:00Z"
        await charging(cp, station)
        await trio.sleep(1800)
        during = station.calls("MeterValues")[1:]
        stamps = [mv.payload["meterValue"][0]["timestamp"] for mv in during]
        assert stamps == ["2026-11-21T10:30:00Z", "2026-11-21T10:45:00Z"]
        assert all(mv.payload["transactionId"] == 1 for mv in during)
        assert all(v["context"] == "Sample.Clock" for mv in during for v in values(mv))
        await cp.swipe(TAG)
        stop = (await station.wait_for("StopTransaction")).payload
        clocked = [
            mv
            for mv in stop["transactionData"]
            if mv["sampledValue"][0]["context"] == "Sample.Clock"
        ]
        assert [mv["timestamp"] for mv in clocked] == stamps


async def test_zero_intervals_send_no_meter_values(nursery, start_csms, autojump_clock):
    csms = await start_csms()
    keys = {"ClockAlignedDataInterval": 0, "MeterValueSampleInterval": 0}
    async with charger(nursery, csms, keys=keys) as cp:
        station = await cp.registered()
        await charging(cp, station)
        await trio.sleep(4 * 3600)
        assert not station.calls("MeterValues")


async def test_a_new_sample_interval_applies_to_the_running_transaction(
    nursery, start_csms, autojump_clock
):
    csms = await start_csms()
    async with charger(nursery, csms, keys={"MeterValueSampleInterval": 600}) as cp:
        station = await cp.registered()
        await charging(cp, station)
        await trio.sleep(100)
        answer = await station.call(
            call.ChangeConfiguration(key="MeterValueSampleInterval", value="20")
        )
        assert answer.status == "Accepted"
        changed = trio.current_time()
        await station.wait_for("MeterValues", count=3)
        assert trio.current_time() - changed <= 61
        times = [c.t for c in station.calls("MeterValues")]
        assert all(19.5 <= b - a <= 20.5 for a, b in itertools.pairwise(times))


async def test_meter_register_is_raw_and_never_rebased(nursery, start_csms, autojump_clock):
    csms = await start_csms()
    async with charger(nursery, csms, keys={"MeterValueSampleInterval": 60}) as cp:
        station = await cp.registered()
        await cp.sim("power", 1, watts=3600)
        for n in range(1, 4):
            await charging(cp, station)
            await trio.sleep(600)
            await cp.swipe(TAG)
            await station.wait_for("StopTransaction", count=n)
            await cp.sim("unplug", 1)
        starts = [c.payload["meterStart"] for c in station.calls("StartTransaction")]
        stops = [c.payload["meterStop"] for c in station.calls("StopTransaction")]
        assert starts[0] == 1000
        for start, stop, following in zip(starts, stops, [*starts[1:], None], strict=True):
            assert stop - start == 600
            assert following is None or following == stop


# --- the default measurands follow the meter (issue 20) ---------------------------------------

MEASURAND_KEYS = ("MeterValuesSampledData", "MeterValuesAlignedData", "StopTxnSampledData")


@pytest.mark.parametrize(
    ("quantities", "expected"),
    [
        (  # a full meter (every Modbus map in hal/meter_maps.py, the simulator)
            set(MODELS["sdm630"].quantities),
            (
                "Energy.Active.Import.Register",
                "Power.Active.Import",
                "Current.Import",
                "Voltage",
                "Current.Offered",
            ),
        ),
        (  # an older SDM630 revision without per-phase voltages (tests/hal/test_meters.py)
            {Quantity.ENERGY_IMPORT, Quantity.POWER, Quantity.CURRENT},
            (
                "Energy.Active.Import.Register",
                "Power.Active.Import",
                "Current.Import",
                "Current.Offered",
            ),
        ),
        (  # a bare energy counter
            {Quantity.ENERGY_IMPORT},
            ("Energy.Active.Import.Register", "Current.Offered"),
        ),
    ],
)
def test_the_default_measurands_are_what_the_meter_measures(
    quantities: set[Quantity], expected: tuple[str, ...]
) -> None:
    keys = Keys(declared_keys(measurands=supported_measurands(quantities)), {}, {})
    for name in MEASURAND_KEYS:
        assert keys.get_csl(name) == expected, name
        assert len(expected) <= keys.get_int(f"{name}MaxLength")
    assert keys.get_csl("StopTxnAlignedData") == ()


async def test_without_keys_meter_values_carry_power_current_voltage_and_energy(
    nursery, start_csms, autojump_clock
):
    """No [ocpp.keys]: a three-phase simulated meter's MeterValues have every phase."""
    csms = await start_csms()
    async with charger(nursery, csms) as cp:
        station = await cp.registered()
        await cp.sim("plug", 1)
        await cp.swipe("CAFE0001")
        sample = await station.wait_for("MeterValues")
        got = {(v["measurand"], v.get("phase")) for v in values(sample)}
        assert got == {
            ("Energy.Active.Import.Register", None),
            ("Power.Active.Import", None),
            *(("Current.Import", f"L{n}") for n in (1, 2, 3)),
            *(("Voltage", f"L{n}-N") for n in (1, 2, 3)),
            ("Current.Offered", None),
        }
        assert not csms.violations
