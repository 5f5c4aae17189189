"""Reset in OCPP 2.0.1 (B11-B12) against the independent 2.0.1 CSMS: the daemon ends with a
restart (its outcome), at once or once idle; the next process boots with RemoteReset."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import trio
from ocpp.v16 import call as call16
from ocpp.v201 import call

from ocppd.app import Outcome
from tests.harness import Charger
from tests.v201.harness import charger201, registered

OFFLINE_START = {"AllowOfflineTxForUnknownId": True, "LocalAuthorizeOffline": True}


async def charging(cp: Charger) -> Any:
    """A transaction on connector 1 (the offline rules authorise it while 2.0.1's Authorize
    is not built)."""
    await cp.sim("plug", 1)
    await cp.swipe("TAG-1")
    with trio.fail_after(30):
        while cp.connector(1).tx is None:
            await trio.sleep(0.5)
    return cp.connector(1).tx


async def test_tc_b_20_cs_reset_on_idle_without_transaction_then_boot_says_remote_reset(
    nursery, start_csms201, autojump_clock, tmp_path: Path
) -> None:
    """TC_B_20_CS: OnIdle while idle: Accepted and reset (B11.FR.02); the next boot says
    RemoteReset (B11.FR.06's reason), and the one after that PowerUp again."""
    csms = await start_csms201()
    async with charger201(nursery, csms, state_dir=tmp_path) as cp:
        station = await registered(cp)
        answer = await station.call(call.Reset(type="OnIdle"))
        assert answer.status == "Accepted"
        with trio.fail_after(30):
            await cp.done.wait()
        assert cp.outcome == [Outcome.SOFT_RESET]
    reasons = []
    for connection in (2, 3):
        async with charger201(nursery, csms, state_dir=tmp_path) as cp:
            station = await registered(cp, connection=connection)
            reasons.append(station.calls("BootNotification")[0].payload["reason"])
    assert reasons == ["RemoteReset", "PowerUp"]
    assert csms.violations == []


async def test_tc_b_21_cs_reset_on_idle_with_transaction_waits_for_its_end(
    nursery, start_csms201, autojump_clock
) -> None:
    """TC_B_21_CS: OnIdle during a transaction: Scheduled (B12.FR.01); the transaction goes
    on, and the reset follows when it has ended."""
    csms = await start_csms201()
    async with charger201(nursery, csms, keys=OFFLINE_START) as cp:
        station = await registered(cp)
        await charging(cp)
        answer = await station.call(call.Reset(type="OnIdle"))
        assert answer.status == "Scheduled"
        await trio.sleep(600)
        assert cp.outcome == []
        assert cp.connector(1).tx is not None
        await cp.sim("unplug", 1)
        with trio.fail_after(30):
            await cp.done.wait()
        assert cp.outcome == [Outcome.SOFT_RESET]
        assert cp.connector(1).tx is None  # ended (and journaled) before the restart
    assert csms.violations == []


async def test_tc_b_22_cs_reset_immediate_with_transaction_stops_it(
    nursery, start_csms201, autojump_clock
) -> None:
    """TC_B_22_CS: Immediate during a transaction: Accepted, the transaction ends (B12.FR.02)
    and the station resets."""
    csms = await start_csms201()
    async with charger201(nursery, csms, keys=OFFLINE_START) as cp:
        station = await registered(cp)
        await charging(cp)
        answer = await station.call(call.Reset(type="Immediate"))
        assert answer.status == "Accepted"
        with trio.fail_after(30):
            await cp.done.wait()
        assert cp.outcome == [Outcome.SOFT_RESET]
        assert cp.connector(1).tx is None  # ended (and journaled) before the restart
        assert not cp.world(1).contactor_closed
    assert csms.violations == []


async def test_tc_b_29_cs_an_evse_alone_is_not_reset(
    nursery, start_csms201, autojump_clock
) -> None:
    """TC_B_29_CS (and without a transaction alike): this station cannot reset one EVSE
    apart from the rest, and says so: Rejected; nothing resets."""
    csms = await start_csms201()
    async with charger201(nursery, csms, keys=OFFLINE_START) as cp:
        station = await registered(cp)
        answer = await station.call(call.Reset(type="OnIdle", evse_id=1))
        assert answer.status == "Rejected"
        await charging(cp)
        answer = await station.call(call.Reset(type="Immediate", evse_id=1))
        assert answer.status == "Rejected"
        await trio.sleep(60)
        assert cp.outcome == []
        assert cp.connector(1).tx is not None
    assert csms.violations == []


async def test_a_16_reset_makes_the_next_201_boot_say_remote_reset(
    nursery, start_csms, start_csms201, autojump_clock, tmp_path: Path
) -> None:
    """The reason of a boot is the charger's, whatever version asked for the reset: a 1.6
    Reset, and the next process registers over 2.0.1 with RemoteReset."""
    old = await start_csms()
    async with charger201(nursery, old, state_dir=tmp_path) as cp:
        station = await cp.registered()
        answer = await station.call(call16.Reset(type="Soft"))
        assert answer.status == "Accepted"
        with trio.fail_after(30):
            await cp.done.wait()
    csms = await start_csms201()
    async with charger201(nursery, csms, state_dir=tmp_path) as cp:
        station = await registered(cp)
        assert station.calls("BootNotification")[0].payload["reason"] == "RemoteReset"
    assert csms.violations == [] and old.violations == []
