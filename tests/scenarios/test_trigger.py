"""TriggerMessage, once per OCPP version: the central system asks for a message now (1.6
names a connectorId, 2.0.1 an evse) and gets it, with what is true at that moment."""

from __future__ import annotations

import trio

from tests.scenarios.test_sessions import QUIET, TAG, charging
from tests.scenarios.versions import Version


async def test_a_triggered_status_says_the_connectors_state_now(
    nursery, version: Version, autojump_clock
) -> None:
    """Connector 2 in use: asked for its status, Accepted, and one more StatusNotification
    of connector 2 arrives, Occupied; connector 1's is Available."""
    csms = await version.start_csms(nursery)
    async with version.charger(nursery, csms, connectors=2, keys=QUIET) as cp:
        station = await version.registered(cp)
        await cp.sim("plug", 2)
        await version.wait_state(station, 2, "Occupied")
        before = len(version.reports(station, 2))
        assert await version.trigger(station, "StatusNotification", 2) == "Accepted"
        await cp.settle(5)
        reports = version.reports(station, 2)
        assert len(reports) == before + 1 and reports[-1] == "Occupied"
        assert await version.trigger(station, "StatusNotification", 1) == "Accepted"
        await cp.settle(5)
        assert version.reports(station, 1)[-1] == "Available"
    assert csms.violations == []


async def test_a_triggered_heartbeat_and_meter_reading(
    nursery, version: Version, autojump_clock
) -> None:
    """Heartbeat: Accepted, one more Heartbeat. MeterValues of a charging connector:
    Accepted, a reading of its register (context Trigger) that lies within its session."""
    csms = await version.start_csms(nursery)
    async with version.charger(nursery, csms, keys=QUIET) as cp:
        station = await version.registered(cp)
        beats = len(station.calls("Heartbeat"))
        assert await version.trigger(station, "Heartbeat", None) == "Accepted"
        await cp.settle(5)
        assert len(station.calls("Heartbeat")) == beats + 1
        await charging(version, cp, station)
        await trio.sleep(600)
        assert await version.trigger(station, "MeterValues", 1) == "Accepted"
        await cp.settle(5)
        [(connector, reading)] = version.readings(station, "Trigger")
        await cp.swipe(TAG)
        await cp.settle(5)
        session = version.session(csms)
        assert connector == 1
        assert session.meter_stop_wh is not None
        assert session.meter_start_wh + 600 * 2 - 2 <= reading <= session.meter_stop_wh
    assert csms.violations == []
