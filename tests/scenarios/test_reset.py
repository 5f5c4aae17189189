"""Reset, once per OCPP version: the central system resets the charger with and without a
transaction (1.6 Soft, 2.0.1 Immediate), or once it is idle (2.0.1 OnIdle; 1.6 has no
such reset), and what it sees before and after the restart."""

from __future__ import annotations

from pathlib import Path

import pytest
import trio

from ocppd.app import Outcome
from tests.scenarios.test_sessions import QUIET, TAG, charging
from tests.scenarios.versions import Version


async def test_a_reset_without_a_transaction_restarts_the_charger(
    nursery, version, autojump_clock, tmp_path: Path
) -> None:
    """Idle: Accepted, the daemon ends to be restarted in place; the next process registers
    again (2.0.1: reason RemoteReset, B11.FR.06's; 1.6 says no reason) with every connector
    Available, and nothing of a transaction is sent."""
    csms = await version.start_csms(nursery)
    async with version.charger(nursery, csms, state_dir=tmp_path, keys=QUIET) as cp:
        station = await version.registered(cp)
        assert await version.reset(station) == "Accepted"
        with trio.fail_after(60):
            await cp.done.wait()
        assert cp.outcome == [Outcome.SOFT_RESET]
    async with version.charger(nursery, csms, state_dir=tmp_path, keys=QUIET) as cp:
        again = await version.registered(cp, connection=2)
        boot = again.calls("BootNotification")[0].payload
        assert version.boot_reason(boot) in (None, "RemoteReset")
        assert version.states(again, 1) == ["Available"]
        await cp.settle(10)
    assert version.sessions(csms) == []
    assert csms.violations == []


async def test_a_reset_during_a_transaction_ends_it_first_once(
    nursery, version, autojump_clock, tmp_path: Path
) -> None:
    """Charging: Accepted; the session ends with the reset's reason (1.6 SoftReset, 2.0.1
    ImmediateReset: B12.FR.02), its energy counted, delivered before the restart and not
    again after it; the contactor opens; the charger comes back Available."""
    csms = await version.start_csms(nursery)
    async with version.charger(nursery, csms, state_dir=tmp_path, keys=QUIET) as cp:
        station = await version.registered(cp)
        await charging(version, cp, station)
        await trio.sleep(600)
        assert await version.reset(station) == "Accepted"
        with trio.fail_after(60):
            await cp.done.wait()
        assert cp.outcome == [Outcome.SOFT_RESET]
        assert not cp.world(1).contactor_closed
        session = version.session(csms)  # before the restart
        assert session.reason == version.reason("reset")
        assert abs(session.energy_wh - session.duration_s * 2) <= 1
        assert 600 <= session.duration_s <= 602
    async with version.charger(nursery, csms, state_dir=tmp_path, keys=QUIET) as cp:
        again = await version.registered(cp, connection=2)
        await cp.settle(30)
        assert version.sessions(csms) == [session]  # nothing more, nothing again
        assert version.states(again, 1) == ["Available"]
    assert csms.violations == []


async def test_a_session_end_unanswered_before_a_reset_is_sent_again_after_it(
    nursery, version, autojump_clock, tmp_path: Path
) -> None:
    """Charging; reset; the end of the session is sent but its answer is lost: the restart
    keeps it, and the next process sends the very same message again (same message id,
    same payload) until it is answered: one session, ended once, with the reset's reason."""
    csms = await version.start_csms(nursery)
    version.hold_ends(csms)
    async with version.charger(nursery, csms, state_dir=tmp_path, keys=QUIET) as cp:
        station = await version.registered(cp)
        await charging(version, cp, station)
        await trio.sleep(120)
        assert await version.reset(station) == "Accepted"
        with trio.fail_after(120):
            await cp.done.wait()
        assert cp.outcome == [Outcome.SOFT_RESET]
    sent = version.session(csms)
    assert sent.reason == version.reason("reset")
    version.release_ends(csms)
    async with version.charger(nursery, csms, state_dir=tmp_path, keys=QUIET) as cp:
        await version.registered(cp, connection=2)
        await cp.settle(120)
        assert version.sessions(csms) == [sent]
        ends = version.ends(csms)
        assert len(ends) >= 2 and len({e.unique_id for e in ends}) == 1
        assert (await cp.status())["queue"]["pending"] == 0
    assert csms.violations == []


async def test_a_reset_on_idle_waits_for_the_transaction_to_end(
    nursery, version: Version, autojump_clock, tmp_path: Path
) -> None:
    """2.0.1 OnIdle while charging (TC_B_21_CS): Scheduled (B12.FR.01); the session goes on
    untouched, ends as the driver ends it, and then the charger resets and registers again
    with reason RemoteReset."""
    if not version.resets_on_idle:
        pytest.skip(f"{version} has no reset that waits for the transactions to end")
    csms = await version.start_csms(nursery)
    async with version.charger(nursery, csms, state_dir=tmp_path, keys=QUIET) as cp:
        station = await version.registered(cp)
        await charging(version, cp, station)
        assert await version.reset(station, on_idle=True) == "Scheduled"
        await trio.sleep(900)
        assert cp.outcome == [] and cp.world(1).contactor_closed
        await cp.swipe(TAG)
        with trio.fail_after(60):
            await cp.done.wait()
        assert cp.outcome == [Outcome.SOFT_RESET]
        session = version.session(csms)
        assert session.reason == version.reason("local")
        assert 900 <= session.duration_s <= 902
    async with version.charger(nursery, csms, state_dir=tmp_path, keys=QUIET) as cp:
        again = await version.registered(cp, connection=2)
        assert version.boot_reason(again.calls("BootNotification")[0].payload) == "RemoteReset"
        await cp.settle(10)
        assert version.sessions(csms) == [session]
    assert csms.violations == []


async def test_a_connector_out_of_service_stays_so_across_a_reset(
    nursery, version, autojump_clock, tmp_path: Path
) -> None:
    """TC_013/TC_014 (1.6) and alike in 2.0.1: connector 1 Inoperative, then a reset: it
    comes back Unavailable, connector 2 Available; Operative makes it Available."""
    csms = await version.start_csms(nursery)
    options = {"state_dir": tmp_path, "keys": QUIET, "connectors": 2}
    async with version.charger(nursery, csms, **options) as cp:
        station = await version.registered(cp)
        assert await version.change_availability(station, 1, operative=False) == "Accepted"
        await version.wait_state(station, 1, "Unavailable")
        assert await version.reset(station) == "Accepted"
        with trio.fail_after(60):
            await cp.done.wait()
    async with version.charger(nursery, csms, **options) as cp:
        again = await version.registered(cp, connection=2)
        assert version.states(again, 1) == ["Unavailable"]
        assert version.states(again, 2) == ["Available"]
        assert await version.change_availability(again, 1, operative=True) == "Accepted"
        await version.wait_state(again, 1, "Available")
    assert csms.violations == []
