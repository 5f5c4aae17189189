"""``ocppd demo --fast``: the whole session completes, and the screen is shown at each step."""

from __future__ import annotations

import io

from ocppd import demo


def test_the_fast_demo_completes_and_shows_the_screen_at_each_step() -> None:
    out = io.StringIO()
    assert demo.main(fast=True, out=out) == 0
    text = out.getvalue()
    assert "demo finished: the session completed" in text
    screens = [
        line.split("screen", 1)[1].strip() for line in text.splitlines() if " screen " in line
    ]
    assert len(screens) == 6
    assert "Ready" in screens[0] and "Tap your card" in screens[0]
    assert "Cable connected" in screens[1]
    assert "Charging" in screens[2] and "Time 0:00" in screens[2]
    assert "11.0 kW" in screens[3] and "11.00 kWh" in screens[3] and "Time 1:00" in screens[3]
    assert "Please unplug" in screens[4] and "11.00 kWh charged" in screens[4]
    assert "Ready" in screens[5]
    assert "StopTransaction 1 (Local)" in text  # the rest of the timeline is as before
