"""Availability, once per OCPP version: the central system takes the station or one
connector out of service and back (1.6 ChangeAvailability by connectorId, 0 the whole
charger; 2.0.1 by evse, none the whole station), during a transaction too, and it is kept
across a restart."""

from __future__ import annotations

from pathlib import Path

import pytest
import trio

from tests.harness import ControlRefused
from tests.scenarios.test_sessions import QUIET, TAG, charging
from tests.scenarios.versions import Version


async def test_the_station_out_of_service_and_back(nursery, version, autojump_clock) -> None:
    """Station Inoperative: Accepted, every connector Unavailable, a driver's tag refused
    and nothing asked of the central system; Operative: every connector Available and a
    session starts again."""
    csms = await version.start_csms(nursery)
    async with version.charger(nursery, csms, connectors=2, keys=QUIET) as cp:
        station = await version.registered(cp)
        assert await version.change_availability(station, 0, operative=False) == "Accepted"
        for connector in (1, 2):
            await version.wait_state(station, connector, "Unavailable")
        await cp.sim("plug", 1)
        with pytest.raises(ControlRefused, match="no free connector"):
            await cp.swipe(TAG)
        await cp.settle(5)
        assert not station.calls("Authorize") and version.sessions(csms) == []
        assert await version.change_availability(station, 0, operative=True) == "Accepted"
        await version.wait_state(station, 2, "Available", count=2)
        await version.wait_state(station, 1, "Occupied")  # the cable plugged in meanwhile
        await cp.swipe(TAG)
        await cp.settle(5)
        assert version.session(csms).tag == TAG
        assert version.states(station, 1) == ["Available", "Unavailable", "Occupied"]
        assert version.states(station, 2) == ["Available", "Unavailable", "Available"]
    assert csms.violations == []


async def test_one_connector_out_of_service_leaves_the_other_in_use(
    nursery, version, autojump_clock
) -> None:
    """Connector 1 Inoperative: only it is Unavailable; a driver's tag and cable charge on
    connector 2; connector 1 back: Available. A connector the charger lacks is Rejected."""
    csms = await version.start_csms(nursery)
    async with version.charger(nursery, csms, connectors=2, keys=QUIET) as cp:
        station = await version.registered(cp)
        assert await version.change_availability(station, 3, operative=False) == "Rejected"
        assert await version.change_availability(station, 1, operative=False) == "Accepted"
        await version.wait_state(station, 1, "Unavailable")
        await cp.sim("plug", 2)
        await cp.swipe(TAG)
        await version.wait_state(station, 2, "Occupied")
        await cp.settle(5)
        assert version.session(csms).connector == 2
        assert await version.change_availability(station, 1, operative=True) == "Accepted"
        await version.wait_state(station, 1, "Available", count=2)
        assert version.states(station, 1) == ["Available", "Unavailable", "Available"]
        assert version.states(station, 2) == ["Available", "Occupied"]
    assert csms.violations == []


async def test_out_of_service_during_a_transaction_is_scheduled_and_kept_across_a_restart(
    nursery, version: Version, autojump_clock, tmp_path: Path
) -> None:
    """Connector 1 Inoperative while it charges: Scheduled (1.6 §5.2, 2.0.1 G03.FR.05); the
    session goes on untouched and ends as the driver ends it; then the connector is
    Unavailable; the power is cut and back: still Unavailable, a tag refused; Operative:
    Available."""
    csms = await version.start_csms(nursery)
    options = {"state_dir": tmp_path, "keys": QUIET}
    async with trio.open_nursery() as doomed, version.charger(doomed, csms, **options) as cp:
        station = await version.registered(cp)
        await charging(version, cp, station)
        assert await version.change_availability(station, 1, operative=False) == "Scheduled"
        await trio.sleep(600)
        assert cp.world(1).contactor_closed and "Unavailable" not in version.states(station, 1)
        await cp.swipe(TAG)
        await cp.sim("unplug", 1)
        await version.wait_state(station, 1, "Unavailable")
        session = version.session(csms)
        assert session.reason == version.reason("local") and 600 <= session.duration_s <= 602
        assert version.states(station, 1) == ["Available", "Occupied", "Unavailable"]
        doomed.cancel_scope.cancel()  # the power is cut
    async with version.charger(nursery, csms, **options) as cp:
        again = await version.registered(cp, connection=2)
        assert version.states(again, 1) == ["Unavailable"]
        await cp.sim("plug", 1)
        with pytest.raises(ControlRefused, match="no free connector"):
            await cp.swipe(TAG)
        assert await version.change_availability(again, 1, operative=True) == "Accepted"
        await version.wait_state(again, 1, "Occupied")  # the cable is in
        assert version.sessions(csms) == [session]
    assert csms.violations == []


async def test_the_station_out_of_service_is_kept_across_a_restart(
    nursery, version: Version, autojump_clock, tmp_path: Path
) -> None:
    """TC_034_CS (1.6) and its 2.0.1 twin: the station Inoperative, the power cut and back:
    every connector is reported Unavailable at boot."""
    csms = await version.start_csms(nursery)
    options = {"state_dir": tmp_path, "keys": QUIET, "connectors": 2}
    async with trio.open_nursery() as doomed, version.charger(doomed, csms, **options) as cp:
        station = await version.registered(cp)
        assert await version.change_availability(station, 0, operative=False) == "Accepted"
        for connector in (1, 2):
            await version.wait_state(station, connector, "Unavailable")
        doomed.cancel_scope.cancel()
    async with version.charger(nursery, csms, **options) as cp:
        again = await version.registered(cp, connection=2)
        assert version.states(again, 1) == version.states(again, 2) == ["Unavailable"]
    assert csms.violations == []


async def test_the_station_out_of_service_during_a_transaction(
    nursery, version, autojump_clock
) -> None:
    """The whole station Inoperative while connector 1 charges: Scheduled; connector 2 is
    Unavailable at once, connector 1 once its session has ended (1.6 §5.2, 2.0.1
    G04.FR.06)."""
    csms = await version.start_csms(nursery)
    async with version.charger(nursery, csms, connectors=2, keys=QUIET) as cp:
        station = await version.registered(cp)
        await charging(version, cp, station)
        assert await version.change_availability(station, 0, operative=False) == "Scheduled"
        await version.wait_state(station, 2, "Unavailable")
        await trio.sleep(300)
        assert cp.world(1).contactor_closed
        assert version.states(station, 1) == ["Available", "Occupied"]
        await cp.swipe(TAG)
        await cp.sim("unplug", 1)
        await version.wait_state(station, 1, "Unavailable")
        assert version.states(station, 1) == ["Available", "Occupied", "Unavailable"]
        assert version.session(csms).reason == version.reason("local")
    assert csms.violations == []


async def test_a_connector_with_a_cable_but_no_session_goes_out_of_service_at_once(
    nursery, version, autojump_clock
) -> None:
    """A cable plugged in, no session: Inoperative is Accepted (nothing to wait for) and
    the connector Unavailable; a tag then starts nothing."""
    csms = await version.start_csms(nursery)
    async with version.charger(nursery, csms, keys=QUIET) as cp:
        station = await version.registered(cp)
        await cp.sim("plug", 1)
        await version.wait_state(station, 1, "Occupied")
        assert await version.change_availability(station, 1, operative=False) == "Accepted"
        await version.wait_state(station, 1, "Unavailable")
        with pytest.raises(ControlRefused):
            await cp.swipe(TAG)
        await cp.settle(10)
        assert version.sessions(csms) == []
    assert csms.violations == []
