"""``ocppd demo --fast``: the session completes; half-way a charging profile lowers the
current and the pilot's offer and the meter follow it; the screen is shown at each step."""

from __future__ import annotations

import io
import re

from ocppd import demo


def _run() -> str:
    out = io.StringIO()
    assert demo.main(fast=True, out=out) == 0
    text = out.getvalue()
    assert "demo finished: the session completed" in text
    return text


def test_the_demo_shows_a_profile_lowering_the_current_and_the_meter_following() -> None:
    text = _run()
    assert "SetChargingProfile connector 1: TxProfile 8.0 A" in text
    before, after = text.split("SetChargingProfile connector 1", 1)
    power = re.compile(
        r"MeterValues transaction \d+: [\d.]+ kWh, ([\d.]+) kW, .*?([\d.]+) A offered"
    )
    first = [m.groups() for m in power.finditer(before)]
    then = [m.groups() for m in power.finditer(after)]
    assert first and all(kw == "11.0" and amps == "16" for kw, amps in first)
    assert then and all(kw == "5.5" and amps == "8" for kw, amps in then)  # 8 A x 230 V x 3
    assert "limit 16 A set by the configured maximum" in before
    assert "limit 8 A set by charging profile 100 (TxProfile)" in after


def test_the_fast_demo_shows_the_screen_at_each_step() -> None:
    text = _run()
    screens = [
        line.split("screen", 1)[1].strip() for line in text.splitlines() if " screen " in line
    ]
    assert len(screens) == 6
    assert "Ready" in screens[0] and "Tap your card" in screens[0]
    assert "Cable connected" in screens[1]
    assert "Charging" in screens[2] and "Time 0:00" in screens[2]
    # half an hour at 11 kW, then half an hour at 5.5 kW under the charging profile
    # (about 8.25 kWh: the profile arrives a moment after half-time)
    assert "5.5 kW" in screens[3] and "Time 1:00" in screens[3]
    assert "| 8.2" in screens[3] and "Max 8 A (profile)" in screens[3]
    assert "Please unplug" in screens[4] and " 8.2" in screens[4] and "kWh charged" in screens[4]
    assert "Ready" in screens[5]
    assert "StopTransaction 1 (Local)" in text  # the rest of the timeline is as before
