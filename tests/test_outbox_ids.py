"""Outbox message ids: stable across resends, unique across journals."""

from __future__ import annotations

import trio

from ocppd.testing.csms import NoAnswer
from tests.harness import CP_ID, charger


async def test_a_resend_after_a_restart_keeps_the_derived_id_and_a_new_journal_gets_new_ids(
    nursery, start_csms, autojump_clock, tmp_path
):
    csms = await start_csms()
    csms.overrides["StartTransaction"] = lambda station, payload: NoAnswer()
    first = tmp_path / "first"
    first.mkdir()
    async with charger(nursery, csms, state_dir=first) as cp:
        station = await cp.registered()
        await cp.sim("plug", 1)
        await cp.swipe("IDS00001")
        await station.wait_for("StartTransaction")
    del csms.overrides["StartTransaction"]
    async with charger(nursery, csms, state_dir=first) as cp:
        station = await cp.registered(connection=2)
        await station.wait_for("StartTransaction")
    starts = [c for c in csms.all_calls(CP_ID) if c.action == "StartTransaction"]
    assert len(starts) == 2 and starts[0].unique_id == starts[1].unique_id
    assert starts[0].payload == starts[1].payload
    second = tmp_path / "second"
    second.mkdir()
    async with charger(nursery, csms, state_dir=second) as cp:
        station = await cp.registered(connection=3)
        await cp.sim("plug", 1)
        await cp.swipe("IDS00002")
        fresh = await station.wait_for("StartTransaction")
        await trio.sleep(1)
    assert fresh.unique_id != starts[0].unique_id  # seq 1 again, but another journal's token
    assert len(fresh.unique_id) <= 36
