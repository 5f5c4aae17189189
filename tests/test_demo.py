"""``ocppd demo --fast``: the session completes, and half-way a charging profile lowers the
current; the pilot's offer and the meter follow it."""

from __future__ import annotations

import io
import re

from ocppd import demo


def test_the_demo_shows_a_profile_lowering_the_current_and_the_meter_following() -> None:
    out = io.StringIO()
    assert demo.main(fast=True, out=out) == 0
    text = out.getvalue()
    assert "demo finished: the session completed" in text
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
