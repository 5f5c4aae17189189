"""A StatusNotification carries the time of the transition it reports (1.6 §6.47), also when it
is sent later: held by MinimumStatusDuration, or sent after reconnecting, or first known once
the central system told the time to a board without a real-time clock."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import trio
from ocpp.v16 import call

from ocppd.testing.csms import Station
from tests.harness import EPOCH, charger
from tests.netutil import Proxy


def when(t: float) -> datetime:
    """The wall time of trio time ``t`` in these tests (the central system's clock)."""
    return datetime.fromtimestamp(EPOCH + t, UTC)


def stamped(payload: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(payload["timestamp"].replace("Z", "+00:00"))


async def reported(station: Station, connector: int, status: str) -> Any:
    with trio.fail_after(3600):
        return await station.wait_for(
            "StatusNotification",
            lambda p: p["connectorId"] == connector and p["status"] == status,
        )


async def test_a_status_held_by_minimum_status_duration_carries_its_transition_time(
    nursery, start_csms, autojump_clock
):
    csms = await start_csms()
    async with charger(nursery, csms, connectors=2, keys={"MinimumStatusDuration": 30}) as cp:
        station = await cp.registered()
        await cp.sim("plug", 1)
        plugged = trio.current_time()
        preparing = await reported(station, 1, "Preparing")
        assert preparing.t - plugged >= 30  # held ...
        assert abs((stamped(preparing.payload) - when(plugged)).total_seconds()) < 0.5  # ... not
        answer = await station.call(call.ChangeAvailability(connector_id=0, type="Inoperative"))
        assert answer.status == "Accepted"
        changed = trio.current_time()
        unavailable = await reported(station, 0, "Unavailable")  # connector 0 is held too
        assert unavailable.t - changed >= 30
        assert abs((stamped(unavailable.payload) - when(changed)).total_seconds()) < 0.5
        assert not csms.violations


async def test_a_status_sent_after_reconnecting_carries_the_time_it_changed_offline(
    nursery, start_csms, autojump_clock
):
    csms = await start_csms()
    proxy = await nursery.start(Proxy(csms.port).serve)
    async with charger(nursery, csms, url=proxy.url) as cp:
        await cp.registered()
        proxy.refuse = True
        proxy.cut()
        await trio.sleep(5)
        await cp.sim("plug", 1)
        plugged = trio.current_time()
        await trio.sleep(600)
        proxy.refuse = False
        second = await cp.station(connection=2)
        preparing = await reported(second, 1, "Preparing")
        assert preparing.t - plugged >= 600
        assert abs((stamped(preparing.payload) - when(plugged)).total_seconds()) < 0.5


async def test_without_a_clock_statuses_get_their_time_once_the_central_system_tells_it(
    nursery, start_csms, autojump_clock
):
    """A board without RTC starts in 1970 and offline: the first StatusNotifications after
    the boot are placed on the central system's time by the monotonic clock."""
    from tests import harness

    csms = await start_csms(now=lambda: when(trio.current_time()))
    proxy = await nursery.start(Proxy(csms.port).serve)
    proxy.refuse = True
    original = harness.wall
    harness.wall = lambda: 86400.0 + trio.current_time()  # 1970-01-02
    try:
        async with charger(nursery, csms, url=proxy.url) as cp:
            assert cp.daemon.clock.source == "unknown"
            await trio.sleep(60)
            await cp.sim("plug", 1)
            plugged = trio.current_time()
            await trio.sleep(300)
            proxy.refuse = False
            station = await cp.station()
            preparing = await reported(station, 1, "Preparing")
            assert abs((stamped(preparing.payload) - when(plugged)).total_seconds()) < 0.5
            zero = await reported(station, 0, "Available")
            assert stamped(zero.payload) < stamped(preparing.payload)  # since the start
            assert stamped(zero.payload).year >= 2020
    finally:
        harness.wall = original
