"""The daemon's LEDs say "central system unreachable" exactly while it is: an RGB indicator on
gpiozero MockFactory pins, the rest simulated, the independent central system behind a
proxy that can refuse and cut connections. Virtual time."""

from __future__ import annotations

from typing import Any

import trio

from ocppd.features.core.words import STATUS
from tests.harness import charger
from tests.netutil import Proxy

RED, GREEN, BLUE = 5, 6, 13

DEVICES = f"""
[connector.contactor]
driver = "sim"
[connector.plug]
driver = "sim"
[connector.meter]
driver = "sim"
[connector.indicator]
driver = "gpio"
red_pin = {RED}
green_pin = {GREEN}
blue_pin = {BLUE}
"""


def red_changes(pins: Any) -> int:
    return len(pins.pin(RED).states)  # MockPin records every change of level


async def red_flashes_within(pins: Any, seconds: float) -> int:
    before = red_changes(pins)
    await trio.sleep(seconds)
    return red_changes(pins) - before


async def test_unreachable_flashes_follow_the_link(
    pins: Any, nursery: trio.Nursery, start_csms: Any, autojump_clock: Any
) -> None:
    csms = await start_csms()
    proxy = await nursery.start(Proxy(csms.port).serve)
    with trio.fail_after(600):
        async with charger(nursery, csms, url=proxy.url, devices=DEVICES) as cp:
            await cp.registered()
            await trio.sleep(1)
            assert await red_flashes_within(pins, 30) == 0  # registered: steady green
            assert pins.pin(GREEN).state and not pins.pin(RED).state

            proxy.refuse = True
            proxy.cut()
            assert await red_flashes_within(pins, 30) >= 6  # three red flashes per loop
            status = cp.connector(1).reported.status
            assert STATUS[status] == "Available"  # the status did not change

            proxy.refuse = False
            await cp.station(connection=2)
            await trio.sleep(5)
            assert await red_flashes_within(pins, 30) == 0
            assert pins.pin(GREEN).state and not pins.pin(RED).state
    assert not csms.violations
