"""Nothing lost, once per OCPP version: a session while the central system cannot be
reached, a link lost midway, and the power cut mid-session (the daemon dies without a
word, as under SIGKILL, and starts again on the same journal)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import trio

from tests.harness import EPOCH, ControlRefused, csms_now
from tests.netutil import Proxy
from tests.scenarios.test_sessions import TAG, charging
from tests.scenarios.versions import Session, first_copies, when

OFFLINE = {
    "MeterValueSampleInterval": 60,
    "LocalAuthorizeOffline": True,
    "AllowOfflineTxForUnknownId": True,
}


def check_delivered(session: Session, minutes: int) -> None:
    """The session's facts whatever the link did: its energy is its time at 7.2 kW, one
    sample a minute, rising, in order, within the session."""
    assert session.stopped is not None, "the end was delivered"
    assert abs(session.duration_s - minutes * 60) <= 2
    assert abs(session.energy_wh - session.duration_s * 2) <= 1  # 7.2 kW: 2 Wh a second
    assert len(session.samples) == minutes
    times = [t for t, _ in session.samples]
    assert times == sorted(times) and len(set(times)) == len(times)
    assert session.started <= times[0] and times[-1] <= session.stopped
    values = [v for _, v in session.samples]
    assert values == sorted(values)
    assert session.meter_stop_wh is not None
    assert session.meter_start_wh <= values[0] and values[-1] <= session.meter_stop_wh


async def test_a_session_wholly_offline_is_delivered_later_in_order(
    nursery, version, autojump_clock
) -> None:
    """The link goes; a 5-minute session; the link comes back 10 minutes later: the start,
    every sample and the stop arrive then, once, in order, with the times they happened
    (2.0.1: each event marked offline, E12). The central system sees the connector's
    state now, not the history."""
    csms = await version.start_csms(nursery)
    proxy = await nursery.start(Proxy(csms.port).serve)
    async with version.charger(nursery, csms, url=proxy.url, keys=OFFLINE) as cp:
        await version.registered(cp)
        proxy.refuse = True
        proxy.cut()
        await trio.sleep(5)
        plugged = csms_now()
        await charging(version, cp, None)
        await trio.sleep(5 * 60)
        await cp.swipe(TAG)
        await cp.sim("unplug", 1)
        await trio.sleep(10 * 60)
        assert version.sessions(csms) == []
        back = csms_now()
        proxy.refuse = False
        second = await version.registered(cp, connection=2)
        await cp.settle(30)
        session = version.session(csms)
        check_delivered(session, 5)
        assert session.reason == version.reason("local")
        assert abs((session.started - plugged).total_seconds()) <= 2
        assert session.stopped is not None and session.stopped < back - timedelta(minutes=9)
        if session.offline is not None:
            assert all(session.offline)
        assert version.states(second, 1) == ["Available"]
        assert (await cp.status())["queue"]["pending"] == 0
    assert csms.violations == []


async def test_a_session_that_loses_the_link_midway_loses_nothing(
    nursery, version, autojump_clock
) -> None:
    """Online at the start, the link gone from minute 2.5 to about minute 7 of a 10-minute
    session, back before the end: every sample arrives, in order; 2.0.1 marks offline
    the events that happened while the link was down, and only those."""
    csms = await version.start_csms(nursery)
    proxy = await nursery.start(Proxy(csms.port).serve)
    async with version.charger(nursery, csms, url=proxy.url, keys=OFFLINE) as cp:
        station = await version.registered(cp)
        await charging(version, cp, station)
        plugged = trio.current_time()
        await trio.sleep(150)
        proxy.refuse = True
        proxy.cut()
        gone = csms_now()
        await trio.sleep_until(plugged + 7 * 60 + 5)  # between two samples
        proxy.refuse = False
        reachable = csms_now()
        await version.registered(cp, connection=2)  # the reconnect waits a random back-off
        back = csms_now()
        await trio.sleep_until(plugged + 10 * 60)
        await cp.swipe(TAG)
        await cp.settle(10)
        session = version.session(csms)
        check_delivered(session, 10)
        assert session.reason == version.reason("local")
        if session.offline is not None:
            stamps = _event_times(csms, session.id)
            for t, offline in zip(stamps, session.offline, strict=True):
                if reachable <= t < back:
                    continue  # the charger may be back online a little before the test sees it
                assert offline == (gone <= t < reachable), (t, offline, gone, reachable)
            assert any(session.offline) and not all(session.offline)
    assert csms.violations == []


def _event_times(csms: Any, transaction_id: str) -> list[Any]:
    """The times of a 2.0.1 transaction's events, in seqNo order."""
    events = [
        c.payload
        for c in first_copies(csms, "TransactionEvent")
        if c.payload["transactionInfo"]["transactionId"] == transaction_id
    ]
    return [when(p["timestamp"]) for p in sorted(events, key=lambda p: p["seqNo"])]


async def test_the_power_cut_mid_session_ends_it_with_power_loss_after_the_restart(
    nursery, version, autojump_clock, tmp_path: Path
) -> None:
    """TC_032_2_CS (1.6) and its 2.0.1 twin: charging, the daemon dies (no stop is sent);
    it starts again on the same journal: registered again, the session is not resumed but
    ended with reason PowerLoss, its energy what the meter had counted, the contactor
    open and the connector free."""
    csms = await version.start_csms(nursery)
    keys = {**OFFLINE, "MeterValueSampleInterval": 60}
    async with (
        trio.open_nursery() as doomed,
        version.charger(doomed, csms, state_dir=tmp_path, keys=keys) as cp,
    ):
        station = await version.registered(cp)
        await charging(version, cp, station)
        await trio.sleep(5 * 60 + 10)
        doomed.cancel_scope.cancel()  # the power is cut: nothing more leaves the charger
    running = version.session(csms)
    assert running.stopped is None
    async with version.charger(nursery, csms, state_dir=tmp_path, keys=keys) as cp:
        again = await version.registered(cp, connection=2)
        await cp.settle(30)
        session = version.session(csms)
        assert session.id == running.id
        assert session.reason == version.reason("power_loss")
        assert session.meter_stop_wh is not None
        assert 5 * 60 * 2 <= session.energy_wh <= (5 * 60 + 10) * 2 + 1  # the last reading
        assert session.stopped is not None and session.stopped >= session.started
        assert len(session.samples) == 5
        assert cp.connector(1).tx is None and not cp.world(1).contactor_closed
        assert "Occupied" not in version.states(again, 1)
        assert (await cp.status())["queue"]["pending"] == 0
    assert csms.violations == []


async def test_an_offline_session_cut_by_the_power_is_delivered_whole_after_the_restart(
    nursery, version, autojump_clock, tmp_path: Path
) -> None:
    """The link is down, a session runs, the power is cut, the daemon starts again and the
    link comes back: the start, the samples and the PowerLoss stop arrive once, in order."""
    csms = await version.start_csms(nursery)
    proxy = await nursery.start(Proxy(csms.port).serve)
    options: dict[str, Any] = {"url": proxy.url, "state_dir": tmp_path, "keys": OFFLINE}
    async with trio.open_nursery() as doomed, version.charger(doomed, csms, **options) as cp:
        await version.registered(cp)
        proxy.refuse = True
        proxy.cut()
        await trio.sleep(5)
        await charging(version, cp, None)
        await trio.sleep(3 * 60 + 10)
        doomed.cancel_scope.cancel()
    assert version.sessions(csms) == []
    async with version.charger(nursery, csms, **options) as cp:
        await trio.sleep(60)
        proxy.refuse = False
        await version.registered(cp, connection=2)
        await cp.settle(30)
        session = version.session(csms)
        assert session.reason == version.reason("power_loss")
        assert len(session.samples) == 3
        assert 3 * 60 * 2 <= session.energy_wh <= (3 * 60 + 10) * 2 + 1
        if session.offline is not None:
            assert all(session.offline)  # the stop too: made after the restart, offline
        assert (await cp.status())["queue"]["pending"] == 0
    assert csms.violations == []


async def test_an_offline_start_the_central_system_finds_invalid_is_stopped_deauthorized(
    nursery, version, autojump_clock
) -> None:
    """Offline, an unknown tag may start (AllowOfflineTxForUnknownId); when the link is
    back the central system answers the start with Invalid: the session ends with reason
    DeAuthorized (1.6 StopTransactionOnInvalidId, 2.0.1 StopTxOnInvalidId, E05) and the
    contactor opens."""
    csms = await version.start_csms(nursery, tags={TAG: "Invalid"})
    proxy = await nursery.start(Proxy(csms.port).serve)
    keys = {**OFFLINE, "StopTransactionOnInvalidId": True}
    async with version.charger(nursery, csms, url=proxy.url, keys=keys) as cp:
        await version.registered(cp)
        proxy.refuse = True
        proxy.cut()
        await trio.sleep(5)
        await charging(version, cp, None)
        await trio.sleep(600)
        proxy.refuse = False
        await version.registered(cp, connection=2)
        await cp.settle(30)
        session = version.session(csms)
        assert session.reason == version.reason("deauthorized")
        assert not cp.world(1).contactor_closed and cp.connector(1).tx is None
        assert len(session.samples) == 10
    assert csms.violations == []


async def test_what_happened_before_registration_waits_for_it_to_be_accepted(
    nursery, version, autojump_clock
) -> None:
    """A session before the charger ever reached the central system; then it answers
    Pending: for 50 s the charger sends nothing but BootNotification (1.6 §4.2, 2.0.1
    B02.FR.09, which the 2.0.1 central system also checks); once Accepted the whole session
    arrives, in order."""
    csms = await version.start_csms(nursery, boot_status="Pending", heartbeat_interval=60)
    proxy = await nursery.start(Proxy(csms.port).serve)
    proxy.refuse = True
    async with version.charger(nursery, csms, url=proxy.url, keys=OFFLINE) as cp:
        await charging(version, cp, None)
        await trio.sleep(5 * 60)
        await cp.swipe(TAG)
        await cp.sim("unplug", 1)
        proxy.refuse = False
        station = await cp.station()
        await station.wait_for("BootNotification")
        await trio.sleep(50)
        assert {c.action for c in station.inbox} == {"BootNotification"}
        csms.boot_status = "Accepted"
        await cp.settle(120)
        check_delivered(version.session(csms), 5)
        assert (await cp.status())["queue"]["pending"] == 0
    assert csms.violations == []


async def test_with_no_time_known_a_session_is_stamped_once_the_central_system_tells_it(
    nursery, version, autojump_clock
) -> None:
    """A board without a clock boots in 1970 and offline; a 10-minute session; then the
    link: the central system's time (BootNotification) places every stamp by the monotonic
    clock: the session lasted 10 minutes, it began when it did, nothing says 1970."""
    from tests import harness

    def now() -> datetime:  # the central system's time: the test's (2026)
        return datetime.fromtimestamp(EPOCH + trio.current_time(), UTC)

    original = harness.wall
    harness.wall = lambda: 86400.0 + trio.current_time()  # 1970-01-02
    try:
        csms = await version.start_csms(nursery, now=now)
        proxy = await nursery.start(Proxy(csms.port).serve)
        proxy.refuse = True
        async with version.charger(nursery, csms, url=proxy.url, keys=OFFLINE) as cp:
            assert cp.daemon.clock.source == "unknown"
            plugged = now()
            await charging(version, cp, None)
            await trio.sleep(10 * 60)
            await cp.swipe(TAG)
            await cp.sim("unplug", 1)
            await trio.sleep(100)
            proxy.refuse = False
            await version.registered(cp)
            await cp.settle(30)
            session = version.session(csms)
            check_delivered(session, 10)
            assert abs((session.started - plugged).total_seconds()) <= 2
            for call in csms.all_calls():
                assert "1970" not in str(call.payload), call
    finally:
        harness.wall = original
    assert csms.violations == []


async def test_a_session_ended_offline_then_the_power_cut_keeps_its_own_end(
    nursery, version, autojump_clock, tmp_path: Path
) -> None:
    """Offline, a session ends by the driver's tag; before the link is back the power is
    cut: after the restart its end is the driver's (Local), not PowerLoss, and it is sent
    once."""
    csms = await version.start_csms(nursery)
    proxy = await nursery.start(Proxy(csms.port).serve)
    options: dict[str, Any] = {"url": proxy.url, "state_dir": tmp_path, "keys": OFFLINE}
    async with trio.open_nursery() as doomed, version.charger(doomed, csms, **options) as cp:
        await version.registered(cp)
        proxy.refuse = True
        proxy.cut()
        await trio.sleep(5)
        await charging(version, cp, None)
        await trio.sleep(4 * 60)
        await cp.swipe(TAG)
        await trio.sleep(30)
        doomed.cancel_scope.cancel()
    async with version.charger(nursery, csms, **options) as cp:
        await trio.sleep(30)
        proxy.refuse = False
        await version.registered(cp, connection=2)
        await cp.settle(30)
        session = version.session(csms)
        check_delivered(session, 4)
        assert session.reason == version.reason("local")
        assert len(version.ends(csms)) == 1
    assert csms.violations == []


async def test_two_sessions_offline_on_two_connectors_are_both_delivered_whole(
    nursery, version, autojump_clock
) -> None:
    """Offline, two overlapping sessions on two connectors (different tags, different
    power): each arrives whole, with its own energy, samples and end; a tag stops only
    its own session."""
    csms = await version.start_csms(nursery)
    proxy = await nursery.start(Proxy(csms.port).serve)
    async with version.charger(nursery, csms, url=proxy.url, keys=OFFLINE, connectors=2) as cp:
        await version.registered(cp)
        proxy.refuse = True
        proxy.cut()
        await trio.sleep(5)
        await cp.sim("power", 2, watts=3600)
        await charging(version, cp, None)  # connector 1, 7.2 kW
        await trio.sleep(2 * 60)
        await cp.sim("plug", 2)
        await cp.swipe("SECOND01")
        await trio.sleep(3 * 60)
        await cp.swipe(TAG)  # connector 1's session ends, after 5 minutes
        assert cp.connector(2).tx is not None
        await trio.sleep(3 * 60)
        await cp.swipe("SECOND01")  # connector 2's, after 6 minutes
        proxy.refuse = False
        await version.registered(cp, connection=2)
        await cp.settle(30)
        sessions = {s.connector: s for s in version.sessions(csms)}
        assert sorted(sessions) == [1, 2]
        check_delivered(sessions[1], 5)
        assert sessions[1].tag == TAG
        second = sessions[2]
        assert second.tag == "SECOND01" and abs(second.duration_s - 360) <= 2
        assert abs(second.energy_wh - second.duration_s) <= 1  # 3.6 kW: 1 Wh a second
        assert len(second.samples) == 6
        assert sessions[1].id != second.id
        assert {s.reason for s in sessions.values()} == {version.reason("local")}
    assert csms.violations == []


async def test_a_session_started_offline_can_be_stopped_remotely_once_online(
    nursery, version, autojump_clock
) -> None:
    """Started offline; once the link is back the central system knows it by the id it
    was told and stops it remotely: reason Remote."""
    csms = await version.start_csms(nursery)
    proxy = await nursery.start(Proxy(csms.port).serve)
    async with version.charger(nursery, csms, url=proxy.url, keys=OFFLINE) as cp:
        await version.registered(cp)
        proxy.refuse = True
        proxy.cut()
        await trio.sleep(5)
        await charging(version, cp, None)
        await trio.sleep(5 * 60)
        proxy.refuse = False
        station = await version.registered(cp, connection=2)
        await cp.settle(30)
        running = version.session(csms)
        assert running.stopped is None
        assert await version.remote_stop(station, running.id) == "Accepted"
        await cp.settle(10)
        session = version.session(csms)
        assert session.reason == version.reason("remote")
        assert not cp.world(1).contactor_closed
    assert csms.violations == []


async def test_a_tag_accepted_online_charges_offline_and_an_unknown_one_does_not(
    nursery, version, autojump_clock
) -> None:
    """The central system accepted a tag once (the authorization cache keeps it); offline,
    with LocalAuthorizeOffline and without AllowOfflineTxForUnknownId, that tag starts a
    session and an unknown one is refused."""
    keys = {"MeterValueSampleInterval": 0, "LocalAuthorizeOffline": True}
    keys["AllowOfflineTxForUnknownId"] = False
    csms = await version.start_csms(nursery)
    proxy = await nursery.start(Proxy(csms.port).serve)
    async with version.charger(nursery, csms, url=proxy.url, keys=keys) as cp:
        station = await version.registered(cp)
        await charging(version, cp, station)
        await cp.swipe(TAG)
        await cp.sim("unplug", 1)
        await cp.settle(5)
        proxy.refuse = True
        proxy.cut()
        await trio.sleep(5)
        await cp.sim("plug", 1)
        with pytest.raises(ControlRefused):
            await cp.swipe("UNKNOWN1")
        assert cp.connector(1).tx is None
        await cp.swipe(TAG)
        assert cp.connector(1).tx is not None and cp.world(1).contactor_closed
        await trio.sleep(60)
        await cp.swipe(TAG)
        proxy.refuse = False
        await version.registered(cp, connection=2)
        await cp.settle(30)
        assert [s.tag for s in version.sessions(csms)] == [TAG, TAG]
    assert csms.violations == []


async def test_a_rejected_charger_sends_only_boot_notifications_until_accepted(
    nursery, version, autojump_clock
) -> None:
    """Registration Rejected (interval 60 s): the charger tries again about every minute and
    sends nothing else (1.6 §4.2, 2.0.1 B03.FR.07), not even the session a driver ran
    meanwhile; once Accepted, that session arrives whole."""
    csms = await version.start_csms(nursery, boot_status="Rejected", heartbeat_interval=60)
    async with version.charger(nursery, csms, keys=OFFLINE) as cp:
        station = await cp.station()
        await station.wait_for("BootNotification")
        await charging(version, cp, None)
        await trio.sleep(5 * 60)
        await cp.swipe(TAG)
        await cp.settle(5)
        boots = station.calls("BootNotification")
        assert {c.action for c in station.inbox} == {"BootNotification"}
        assert 4 <= len(boots) <= 7
        csms.boot_status = "Accepted"
        await cp.settle(120)
        check_delivered(version.session(csms), 5)
    assert csms.violations == []
