"""Temperature from a fake sysfs tree: parsing, the derating rule with hysteresis, sensor loss."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import trio
from hal_support import RecordingSink, cleared, raised

from hal.base import CurrentAvailable, FaultKind, FaultRaised
from hal.temperature import Level, Limits, SysfsTemperature, parse_sysfs

W1_OK = "72 01 4b 46 7f ff 0e 10 57 : crc=57 YES\n72 01 4b 46 7f ff 0e 10 57 t=23125\n"
W1_BAD = "72 01 4b 46 7f ff 0e 10 57 : crc=00 NO\n72 01 4b 46 7f ff 0e 10 57 t=23125\n"


def test_parses_w1_slave_temperature_and_thermal_zone_files() -> None:
    assert parse_sysfs(Path("w1_slave"), W1_OK) == pytest.approx(23.125)
    assert parse_sysfs(Path("temperature"), "23125\n") == pytest.approx(23.125)
    assert parse_sysfs(Path("temp"), "48312\n") == pytest.approx(48.312)
    assert parse_sysfs(Path("temp"), "-5000\n") == pytest.approx(-5.0)


@pytest.mark.parametrize(
    ("name", "text"),
    [("w1_slave", W1_BAD), ("w1_slave", ""), ("temperature", "85000\n"), ("temp", "junk")],
)
def test_rejects_bad_crc_power_on_reset_value_and_garbage(name: str, text: str) -> None:
    with pytest.raises(ValueError):
        parse_sysfs(Path(name), text)


def test_derating_rule_with_hysteresis_row_by_row() -> None:
    limits = Limits(derate_c=60, max_c=75, hysteresis_c=5, max_current_a=32, min_current_a=6)
    rows = [  # temperature, level, current
        (25, Level.NORMAL, 32),
        (60, Level.NORMAL, 32),
        (61, Level.DERATING, 30),  # 32 - 26 * 1/15 = 30.27 → 30
        (67.5, Level.DERATING, 19),
        (57, Level.DERATING, 32),  # within hysteresis: still flagged, full current
        (55, Level.NORMAL, 32),
        (74.9, Level.DERATING, 6),
        (75, Level.OVER, 0),
        (71, Level.OVER, 0),  # over stays until 70
        (70, Level.DERATING, 14),  # 32 - 26 * 10/15 = 14.67 → 14
        (50, Level.NORMAL, 32),
    ]
    for celsius, level, amps in rows:
        assert limits.update(celsius) is level, celsius
        assert limits.current(celsius) == amps, celsius


def test_limits_must_be_ordered() -> None:
    with pytest.raises(ValueError):
        Limits(80, 70, 5, 32, 6)


async def test_sensor_drives_faults_and_current_through_all_levels(
    tmp_path: Path, make_context: Any, io_clock: Any, sink: RecordingSink
) -> None:
    device_dir = tmp_path / "w1" / "28-000005e2fdc3"
    device_dir.mkdir(parents=True)
    value = device_dir / "temperature"
    value.write_text("25000\n")
    sensor = SysfsTemperature(
        {"path": str(tmp_path / "w1" / "28-*"), "poll_interval_s": 1.0},
        make_context("temperature", max_current_a=16.0),
    )
    with trio.fail_after(120):
        async with trio.open_nursery() as nursery:
            nursery.start_soon(sensor.run, sink)
            await sink.wait_for(lambda e: isinstance(e, CurrentAvailable))
            assert await sensor.read() == 25.0
            value.write_text("68000\n")
            await sink.wait_for(raised(FaultKind.TEMPERATURE_DERATING))
            value.write_text("80000\n")
            await sink.wait_for(lambda e: isinstance(e, CurrentAvailable) and e.amps == 0)
            assert sink.of(FaultRaised)[-1].fault.kind is FaultKind.HIGH_TEMPERATURE
            value.write_text("40000\n")
            await sink.wait_for(cleared(FaultKind.HIGH_TEMPERATURE))
            nursery.cancel_scope.cancel()
    amps = [e.amps for e in sink.of(CurrentAvailable)]
    assert amps[0] == 16 and amps[-1] == 16 and 0 in amps
    assert any(6 <= a < 16 for a in amps)


async def test_vanished_sensor_is_a_fault_until_it_reads_again(
    tmp_path: Path, make_context: Any, io_clock: Any, sink: RecordingSink
) -> None:
    zone = tmp_path / "thermal_zone0"
    zone.mkdir()
    (zone / "temp").write_text("40000\n")
    sensor = SysfsTemperature(
        {"path": str(zone / "temp"), "poll_interval_s": 2.0}, make_context("temperature")
    )
    with trio.fail_after(300):
        async with trio.open_nursery() as nursery:
            nursery.start_soon(sensor.run, sink)
            await sink.wait_for(lambda e: isinstance(e, CurrentAvailable))
            (zone / "temp").unlink()
            start = trio.current_time()
            await sink.wait_for(raised(FaultKind.TEMPERATURE_SENSOR))
            assert trio.current_time() - start <= 2 * 2.0 + 1.0 + 0.5
            await trio.sleep(100)
            (zone / "temp").write_text("41000\n")
            await sink.wait_for(cleared(FaultKind.TEMPERATURE_SENSOR))
            nursery.cancel_scope.cancel()
    sensor_fault = FaultKind.TEMPERATURE_SENSOR
    assert sink.faults() == [("raised", sensor_fault), ("cleared", sensor_fault)]
