"""Smart Charging on an EVSE DIN controller board: the central system's profile reaches the
board's current register (1000) at each period boundary, and below 6 A charging is off.
The whole daemon against the independent central system; the board is a fake on RS-485
(RTU over a pty), so the clock is real and the periods are seconds long."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import trio
from hal_fake_modbus import RtuSlave, Slave

from tests.harness import charger, csms_now, make_csms
from tests.test_smart_charging import profile, set_profile

BOARD = 1


def register_1000(slave: Slave) -> int:
    return slave.get(BOARD, "holding", 1000)[0]


async def until(predicate: Any, seconds: float = 10) -> None:
    with trio.fail_after(seconds):
        while not predicate():
            await trio.sleep(0.05)


async def test_a_profile_reaches_the_boards_current_register(nursery) -> None:
    slave = Slave()
    slave.set(BOARD, "holding", 1000, [32, 0, 1, 0, 0, 18, 1])  # after boot, firmware 18
    slave.set(BOARD, "holding", 2005, [0])
    csms = make_csms()
    await nursery.start(csms.serve)
    with RtuSlave(slave) as line:
        board = f'port = "{line.path}"\nunit = {BOARD}\npoll_interval_s = 0.2'
        devices = f"""
[connector.contactor]
driver = "evse-din"
{board}
[connector.plug]
driver = "evse-din"
{board}
[connector.pilot]
driver = "evse-din"
{board}
[connector.meter]
driver = "sim"
initial_wh = 1000.0
"""
        async with charger(
            nursery, csms, devices=devices, keys={"MeterValueSampleInterval": 0}
        ) as cp:
            station = await cp.registered()
            slave.set(BOARD, "holding", 1002, [2])  # vehicle connected (state B)
            slave.set(BOARD, "holding", 1003, [32])  # a 32 A cable
            await station.wait_for("StatusNotification", lambda p: p["status"] == "Preparing")
            slave.set(BOARD, "holding", 1002, [3])  # the EV asks for energy (state C)
            await cp.swipe("04A2B3C4")
            with trio.fail_after(30):
                await station.wait_for("StatusNotification", lambda p: p["status"] == "Charging")
            await until(lambda: register_1000(slave) == 32)
            now = csms_now().replace(microsecond=0) + timedelta(seconds=1)
            wire = profile(1, "TxDefaultProfile", [(0, 10.0), (3, 4.0), (6, 16.0)], start=now)
            assert await set_profile(station, 1, wire) == "Accepted"
            seen = []
            for after in (2.0, 5.0, 8.0):
                await trio.sleep((now - csms_now()).total_seconds() + after)
                seen.append(register_1000(slave))
            assert seen == [10, 0, 16]  # 4 A: below the 6 A minimum, charging off
