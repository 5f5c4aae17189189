"""Control-pilot duty cycle (IEC 61851 / J1772) and the sysfs PWM driver on a fake sysfs tree."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import trio
from hal_support import RecordingSink, cleared, raised

from hal.base import DeviceError, FaultKind
from hal.pilot import PERIOD_NS, PwmPilot, amps_for_duty, duty_percent


@pytest.mark.parametrize(
    ("amps", "percent"),
    [
        (None, 100.0),
        (0, 100.0),
        (5.9, 100.0),  # below 6 A: no offer, steady +12 V
        (6, 10.0),
        (16, 16 / 0.6),
        (32, 32 / 0.6),
        (51, 85.0),
        (52, 52 / 2.5 + 64),
        (80, 96.0),
        (125, 96.0),  # capped at 80 A
    ],
)
def test_duty_cycle_offers_the_current(amps: float | None, percent: float) -> None:
    assert duty_percent(amps) == pytest.approx(percent)


@pytest.mark.parametrize("amps", [6, 10, 16, 20, 32, 40, 51, 63, 80])
def test_duty_cycle_round_trips(amps: float) -> None:
    assert amps_for_duty(duty_percent(amps)) == pytest.approx(amps)


def sysfs(tmp_path: Path, *, exported: bool = True) -> Path:
    chip = tmp_path / "pwm" / "pwmchip0"
    chip.mkdir(parents=True)
    (chip / "export").write_text("")
    if exported:
        export(chip)
    return tmp_path / "pwm"


def export(chip: Path) -> None:
    channel = chip / "pwm0"
    channel.mkdir()
    for name, value in (("period", "0"), ("duty_cycle", "0"), ("enable", "0")):
        (channel / name).write_text(value + "\n")


def read(root: Path, name: str) -> int:
    return int((root / "pwmchip0" / "pwm0" / name).read_text())


async def test_offer_writes_period_duty_and_enable(
    tmp_path: Path, make_context: Any, io_clock: Any
) -> None:
    root = sysfs(tmp_path)
    pilot = PwmPilot({"sysfs_root": str(root)}, make_context("pilot", max_current_a=32.0))
    with trio.fail_after(10):
        await pilot.offer(16)
        assert read(root, "period") == PERIOD_NS
        assert read(root, "duty_cycle") == round(PERIOD_NS * 16 / 60)
        assert read(root, "enable") == 1
        await pilot.offer(None)
        assert read(root, "duty_cycle") == PERIOD_NS
        await pilot.offer(63)  # capped at the connector's 32 A
        assert read(root, "duty_cycle") == round(PERIOD_NS * 32 / 60)
        await pilot.aclose()
    assert read(root, "duty_cycle") == PERIOD_NS and read(root, "enable") == 1


async def test_inverted_output(tmp_path: Path, make_context: Any, io_clock: Any) -> None:
    root = sysfs(tmp_path)
    pilot = PwmPilot({"sysfs_root": str(root), "invert": True}, make_context("pilot"))
    with trio.fail_after(10):
        await pilot.offer(6)
    assert read(root, "duty_cycle") == PERIOD_NS - PERIOD_NS // 10


async def test_missing_channel_is_exported_and_a_fault_until_it_appears(
    tmp_path: Path, make_context: Any, io_clock: Any, sink: RecordingSink
) -> None:
    root = sysfs(tmp_path, exported=False)
    pilot = PwmPilot({"sysfs_root": str(root), "export_timeout_s": 0.0}, make_context("pilot"))
    with trio.fail_after(60):
        async with trio.open_nursery() as nursery:
            nursery.start_soon(pilot.run, sink)
            await sink.wait_for(raised(FaultKind.EV_COMMUNICATION))
            assert (root / "pwmchip0" / "export").read_text() == "0\n"
            with pytest.raises(DeviceError):
                await pilot.offer(10)
            export(root / "pwmchip0")  # udev/kernel caught up
            await sink.wait_for(cleared(FaultKind.EV_COMMUNICATION))
            assert read(root, "duty_cycle") == round(PERIOD_NS / 6)  # the 10 A asked for meanwhile
            nursery.cancel_scope.cancel()


async def test_no_pwm_chip_at_all_is_a_fault_not_a_crash(
    tmp_path: Path, make_context: Any, io_clock: Any, sink: RecordingSink
) -> None:
    pilot = PwmPilot({"sysfs_root": str(tmp_path / "nothing")}, make_context("pilot"))
    with trio.fail_after(300):
        async with trio.open_nursery() as nursery:
            nursery.start_soon(pilot.run, sink)
            await sink.wait_for(raised(FaultKind.EV_COMMUNICATION))
            await trio.sleep(200)  # retries with back-off, capped
            nursery.cancel_scope.cancel()
    assert sink.faults() == [("raised", FaultKind.EV_COMMUNICATION)]
    await pilot.aclose()  # logs, never raises
