"""Charging sessions, once per OCPP version: what the driver does, and what the central
system learns (the energy, the times, who stopped it and why, the connector's states)."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
import trio

from tests.harness import Charger, ControlRefused
from tests.scenarios.versions import Version

TAG = "04A2B3C4"
QUIET = {"MeterValueSampleInterval": 0}  # no periodic samples unless a scenario wants them


async def charging(version: Version, cp: Charger, station: Any, tag: str = TAG) -> None:
    """The cable, then the tag: the contactor closed and, with a ``station`` (online), the
    central system told the connector is in use."""
    await cp.sim("plug", 1)
    await cp.swipe(tag)
    with trio.fail_after(60):
        while cp.connector(1).tx is None or not cp.world(1).contactor_closed:
            await trio.sleep(0.5)
    if station is not None:
        await version.wait_state(station, 1, "Occupied")


async def test_a_session_stopped_by_the_drivers_tag(nursery, version, autojump_clock) -> None:
    """Plug, tag, an hour at 7.2 kW, the same tag: 7200 Wh, an hour, reason Local, the tag
    at both ends; Available, Occupied, Available."""
    csms = await version.start_csms(nursery)
    async with version.charger(nursery, csms, keys=QUIET) as cp:
        station = await version.registered(cp)
        await cp.sim("power", 1, watts=7200)
        await charging(version, cp, station)
        await trio.sleep(3600)
        await cp.swipe(TAG)
        assert not cp.world(1).contactor_closed
        await cp.sim("unplug", 1)
        await version.wait_state(station, 1, "Available", count=2)
        await cp.settle(5)
        session = version.session(csms)
        assert session.connector == 1
        assert session.tag == TAG and session.stop_tag == TAG
        assert session.meter_start_wh == 1000
        assert session.energy_wh == 7200
        assert 3600 <= session.duration_s <= 3602
        assert session.reason == version.reason("local")
        assert version.states(station, 1) == ["Available", "Occupied", "Available"]
        assert cp.connector(1).tx is None
        assert (await cp.status())["queue"]["pending"] == 0
    assert csms.violations == []


async def test_a_session_that_began_with_the_tag_and_ended_by_unplugging(
    nursery, version, autojump_clock
) -> None:
    """Tag first, the cable 20 s later; 30 minutes; the EV unplugged: reason EVDisconnected,
    and the session's time runs from the cable (when energy could flow)."""
    csms = await version.start_csms(nursery)
    async with version.charger(nursery, csms, keys=QUIET) as cp:
        station = await version.registered(cp)
        await cp.swipe(TAG)
        await trio.sleep(20)
        await cp.sim("plug", 1)
        await version.wait_state(station, 1, "Occupied")
        await trio.sleep(1800)
        await cp.sim("unplug", 1)
        await version.wait_state(station, 1, "Available", count=2)
        await cp.settle(5)
        session = version.session(csms)
        assert session.tag == TAG
        assert session.reason == version.reason("ev_disconnected")
        assert 1800 <= session.duration_s <= 1802
        assert session.energy_wh == 3600  # the simulated EV draws 7.2 kW
        assert not cp.world(1).contactor_closed
        assert version.states(station, 1) == ["Available", "Occupied", "Available"]
    assert csms.violations == []


async def test_a_session_started_and_stopped_by_the_central_system(
    nursery, version, autojump_clock
) -> None:
    """RemoteStartTransaction / RequestStartTransaction for a tag, then the cable; 10
    minutes; RemoteStop / RequestStop by the id the central system was told: reason Remote.
    A stop of a transaction that does not exist is Rejected."""
    csms = await version.start_csms(nursery)
    async with version.charger(nursery, csms, keys=QUIET) as cp:
        station = await version.registered(cp)
        assert await version.remote_start(station, TAG, 1) == "Accepted"
        await cp.sim("plug", 1)
        await version.wait_state(station, 1, "Occupied")
        with trio.fail_after(60):
            while not cp.world(1).contactor_closed:
                await trio.sleep(0.5)
        await trio.sleep(600)
        running = version.session(csms)
        assert running.stopped is None and running.tag == TAG
        assert await version.remote_stop(station, "999") == "Rejected"
        assert await version.remote_stop(station, running.id) == "Accepted"
        await cp.settle(5)
        assert not cp.world(1).contactor_closed
        session = version.session(csms)
        assert session.id == running.id
        assert session.reason == version.reason("remote")
        assert 600 <= session.duration_s <= 602
        assert abs(session.energy_wh - session.duration_s * 7200 / 3600) <= 1  # 7.2 kW
        await cp.sim("unplug", 1)
        await version.wait_state(station, 1, "Available", count=2)
    assert csms.violations == []


async def test_periodic_samples_of_an_hour_are_every_minute_in_order(
    nursery, version, autojump_clock
) -> None:
    """MeterValueSampleInterval 60 (2.0.1's TxUpdatedInterval is the same key): an hour of
    charging is 60 samples, a minute apart, rising, within the session."""
    keys: dict[str, Any] = {"MeterValueSampleInterval": 60}
    csms = await version.start_csms(nursery)
    async with version.charger(nursery, csms, keys=keys) as cp:
        station = await version.registered(cp)
        await cp.sim("power", 1, watts=11000)
        await charging(version, cp, station)
        await trio.sleep(3600 + 5)
        await cp.swipe(TAG)
        await cp.settle(5)
        session = version.session(csms)
        assert 11000 <= session.energy_wh <= 11000 * 3605 / 3600 + 1
        assert 59 <= len(session.samples) <= 61
        times = [t for t, _ in session.samples]
        gaps = {round((b - a).total_seconds()) for a, b in itertools.pairwise(times)}
        assert gaps == {60}
        values = [v for _, v in session.samples]
        assert values == sorted(values)
        assert session.meter_stop_wh is not None
        assert session.meter_start_wh <= values[0] and values[-1] <= session.meter_stop_wh
        assert session.stopped is not None and session.started <= times[0]
        assert times[-1] <= session.stopped
    assert csms.violations == []


async def test_a_tag_the_central_system_refuses_starts_nothing(
    nursery, version, autojump_clock
) -> None:
    """The central system says Blocked (1.6 Authorize.conf, 2.0.1 C01.FR.02): the driver is
    told so, nothing starts, the contactor stays open; the cable alone is Occupied."""
    csms = await version.start_csms(nursery, tags={"BAD00001": "Blocked"})
    async with version.charger(nursery, csms, keys=QUIET) as cp:
        station = await version.registered(cp)
        await cp.sim("plug", 1)
        with pytest.raises(ControlRefused, match="Blocked"):
            await cp.swipe("BAD00001")
        await cp.settle(60)
        assert version.sessions(csms) == []
        assert cp.connector(1).tx is None and not cp.world(1).contactor_closed
        assert version.states(station, 1) == ["Available", "Occupied"]
    assert csms.violations == []


async def test_an_ev_that_pauses_is_not_billed_for_the_pause(
    nursery, version, autojump_clock
) -> None:
    """10 minutes of charging, the EV pauses 10 minutes (the contactor opens), 10 more
    minutes: one session of 30 minutes, 20 minutes' energy; the connector stays in use."""
    csms = await version.start_csms(nursery)
    async with version.charger(nursery, csms, keys=QUIET) as cp:
        station = await version.registered(cp)
        await charging(version, cp, station)
        await trio.sleep(600)
        await cp.sim("suspend", 1)
        await cp.settle(1)
        assert not cp.world(1).contactor_closed
        await trio.sleep(600 - 1)
        await cp.sim("resume", 1)
        await cp.settle(1)
        assert cp.world(1).contactor_closed
        await trio.sleep(600 - 1)
        await cp.swipe(TAG)
        await cp.settle(5)
        session = version.session(csms)
        assert 1800 <= session.duration_s <= 1802
        assert abs(session.energy_wh - 1200 * 2) <= 4  # 20 minutes at 7.2 kW
        assert session.reason == version.reason("local")
        assert version.states(station, 1) == ["Available", "Occupied"]
    assert csms.violations == []


async def test_the_ev_unplugged_and_back_when_that_does_not_stop_the_session(
    nursery, version, autojump_clock
) -> None:
    """StopTransactionOnEVSideDisconnect false (2.0.1's StopTxOnEVSideDisconnect): the
    cable out for 5 minutes suspends the session (no energy), the cable back resumes it,
    the tag ends it: one session, reason Local."""
    keys = {**QUIET, "StopTransactionOnEVSideDisconnect": False}
    csms = await version.start_csms(nursery)
    async with version.charger(nursery, csms, keys=keys) as cp:
        station = await version.registered(cp)
        await charging(version, cp, station)
        await trio.sleep(300)
        await cp.sim("unplug", 1)
        await cp.settle(1)
        assert not cp.world(1).contactor_closed and cp.connector(1).tx is not None
        await trio.sleep(300 - 1)
        await cp.sim("plug", 1)
        await cp.settle(1)
        assert cp.world(1).contactor_closed
        await trio.sleep(300 - 1)
        await cp.swipe(TAG)
        await cp.settle(5)
        session = version.session(csms)
        assert session.reason == version.reason("local")
        assert 900 <= session.duration_s <= 902
        assert abs(session.energy_wh - 600 * 2) <= 4  # 10 minutes at 7.2 kW
    assert csms.violations == []


async def test_the_daemon_stopped_in_order_mid_session_ends_it_with_reboot(
    nursery, version, autojump_clock, tmp_path
) -> None:
    """systemctl stop (SIGTERM) while charging: the session ends before the daemon does,
    reason Reboot (1.6 §7.41 and 2.0.1 ReasonEnumType alike: "a locally initiated reset or
    reboot"), the contactor open; after the start nothing more is sent of it."""
    csms = await version.start_csms(nursery)
    async with version.charger(nursery, csms, keys=QUIET, state_dir=tmp_path) as cp:
        station = await version.registered(cp)
        await charging(version, cp, station)
        await trio.sleep(300)
        await cp.stop()
        assert not cp.world(1).contactor_closed
        session = version.session(csms)
        assert session.reason == version.reason("reboot")
        assert abs(session.energy_wh - session.duration_s * 2) <= 1
    async with version.charger(nursery, csms, keys=QUIET, state_dir=tmp_path) as cp:
        await version.registered(cp, connection=2)
        await cp.settle(30)
        assert version.sessions(csms) == [session]
    assert csms.violations == []


async def test_a_remote_start_where_it_cannot_be_honoured_is_rejected(
    nursery, version, autojump_clock
) -> None:
    """A connector the charger lacks, one out of service, one with a session: Rejected,
    and nothing starts."""
    csms = await version.start_csms(nursery)
    async with version.charger(nursery, csms, connectors=2, keys=QUIET) as cp:
        station = await version.registered(cp)
        assert await version.remote_start(station, "OTHER001", 3) == "Rejected"
        assert await version.change_availability(station, 2, operative=False) == "Accepted"
        await version.wait_state(station, 2, "Unavailable")
        assert await version.remote_start(station, "OTHER001", 2) == "Rejected"
        await charging(version, cp, station)
        assert await version.remote_start(station, "OTHER001", 1) == "Rejected"
        await cp.settle(60)
        assert [s.tag for s in version.sessions(csms)] == [TAG]
        assert version.states(station, 2) == ["Available", "Unavailable"]
    assert csms.violations == []


async def test_a_remote_start_without_a_cable_expires(nursery, version, autojump_clock) -> None:
    """A remote start, and no cable within ConnectionTimeOut (2.0.1 EVConnectionTimeOut):
    nothing starts; a cable after that starts nothing either."""
    keys = {**QUIET, "ConnectionTimeOut": 45}
    csms = await version.start_csms(nursery)
    async with version.charger(nursery, csms, keys=keys) as cp:
        station = await version.registered(cp)
        assert await version.remote_start(station, TAG, 1) == "Accepted"
        await trio.sleep(60)
        await cp.sim("plug", 1)
        await cp.settle(60)
        assert version.sessions(csms) == []
        assert cp.connector(1).tx is None and not cp.world(1).contactor_closed
        assert version.states(station, 1)[-1] == "Occupied"  # the cable
    assert csms.violations == []


async def test_a_tag_without_a_cable_expires(nursery, version, autojump_clock) -> None:
    """The tag, and no cable within ConnectionTimeOut: the charger is free again (back to
    Available where the version reported the wait), a cable later starts nothing."""
    keys = {**QUIET, "ConnectionTimeOut": 45}
    csms = await version.start_csms(nursery)
    async with version.charger(nursery, csms, keys=keys) as cp:
        station = await version.registered(cp)
        await cp.swipe(TAG)
        await trio.sleep(60)
        assert version.states(station, 1)[-1] == "Available"
        await cp.sim("plug", 1)
        await cp.settle(60)
        assert version.sessions(csms) == []
        assert cp.connector(1).tx is None and not cp.world(1).contactor_closed
    assert csms.violations == []


async def test_a_fault_while_charging_pauses_the_session_and_clearing_it_resumes(
    nursery, version, autojump_clock
) -> None:
    """5 minutes of charging; a ground fault for a minute (the contactor opens, the
    connector Faulted, the session kept); cleared: charging again; the tag ends it: the
    faulted minute delivered no energy."""
    csms = await version.start_csms(nursery)
    async with version.charger(nursery, csms, keys=QUIET) as cp:
        station = await version.registered(cp)
        await charging(version, cp, station)
        await trio.sleep(300)
        await cp.sim("fault", 1, error_code="GroundFailure")
        await version.wait_state(station, 1, "Faulted")
        assert not cp.world(1).contactor_closed and cp.connector(1).tx is not None
        await trio.sleep(60)
        await cp.sim("fault", 1, error_code="NoError")
        await version.wait_state(station, 1, "Occupied", count=2)
        assert cp.world(1).contactor_closed
        await trio.sleep(60)
        await cp.swipe(TAG)
        await cp.settle(5)
        session = version.session(csms)
        assert session.reason == version.reason("local")
        assert abs(session.duration_s - 420) <= 3
        assert abs(session.energy_wh - 360 * 2) <= 6  # 6 of the 7 minutes at 7.2 kW
        assert version.states(station, 1) == ["Available", "Occupied", "Faulted", "Occupied"]
    assert csms.violations == []


async def test_a_remote_start_for_a_blocked_tag_starts_nothing_when_it_must_be_authorized(
    nursery, version, autojump_clock
) -> None:
    """AuthorizeRemoteTxRequests (2.0.1 AuthorizeRemoteStart) true: the charger asks about
    the tag first; Blocked: no session, although the request itself was Accepted; an
    accepted tag then starts one."""
    keys = {**QUIET, "AuthorizeRemoteTxRequests": True}
    csms = await version.start_csms(nursery, tags={"BLOCKED1": "Blocked"})
    async with version.charger(nursery, csms, keys=keys) as cp:
        station = await version.registered(cp)
        await cp.sim("plug", 1)
        assert await version.remote_start(station, "BLOCKED1", 1) == "Accepted"
        await cp.settle(30)
        assert station.calls("Authorize") and version.sessions(csms) == []
        assert not cp.world(1).contactor_closed
        assert await version.remote_start(station, TAG, 1) == "Accepted"
        await cp.settle(10)
        assert version.session(csms).tag == TAG and cp.world(1).contactor_closed
    assert csms.violations == []


async def test_clock_aligned_readings_of_a_session_come_on_the_quarter_hour(
    nursery, version, autojump_clock
) -> None:
    """ClockAlignedDataInterval 900 (2.0.1 AlignedDataCtrlr.Interval): an hour of charging
    from 10:00 brings the register at 10:15, 10:30, 10:45 and 11:00, within the session
    (1.6 MeterValues with its transactionId, 2.0.1 TransactionEvent MeterValueClock)."""
    keys = {**QUIET, "ClockAlignedDataInterval": 900}
    csms = await version.start_csms(nursery)
    async with version.charger(nursery, csms, keys=keys) as cp:
        station = await version.registered(cp)
        await charging(version, cp, station)
        await trio.sleep(3600 + 30)
        await cp.swipe(TAG)
        await cp.settle(5)
        session = version.session(csms)
        assert [t.strftime("%H:%M:%S") for t, _ in session.aligned] == [
            "10:15:00",
            "10:30:00",
            "10:45:00",
            "11:00:00",
        ]
        values = [v for _, v in session.aligned]
        assert values == sorted(values)
        assert session.samples == ()
        assert session.meter_stop_wh is not None
        assert session.meter_start_wh < values[0] and values[-1] <= session.meter_stop_wh
    assert csms.violations == []


async def test_a_cable_kept_locked_after_the_ev_left_is_freed_by_the_drivers_tag(
    nursery, version, autojump_clock
) -> None:
    """UnlockConnectorOnEVSideDisconnect false (2.0.1 UnlockOnEVSideDisconnect): the EV
    leaves, the session ends (EVDisconnected) and the cable stays locked, the connector in
    use; another tag does not free it, the driver's own does: Available."""
    keys = {**QUIET, "UnlockConnectorOnEVSideDisconnect": False}
    lock = '[connector.lock]\ndriver = "sim"\n'
    csms = await version.start_csms(nursery)
    async with version.charger(nursery, csms, keys=keys, connector_extra=lock) as cp:
        station = await version.registered(cp)
        await charging(version, cp, station)
        await trio.sleep(120)
        await cp.sim("unplug", 1)
        await cp.settle(5)
        assert version.session(csms).reason == version.reason("ev_disconnected")
        locked = cp.parts.hardware.connectors[1].lock
        assert locked.locked and version.states(station, 1) == ["Available", "Occupied"]
        with pytest.raises(ControlRefused):
            await cp.swipe("OTHER001")
        assert locked.locked
        await cp.swipe(TAG)
        assert not locked.locked
        await version.wait_state(station, 1, "Available", count=2)
        assert len(version.sessions(csms)) == 1
    assert csms.violations == []
