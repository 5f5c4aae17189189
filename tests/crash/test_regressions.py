"""Regression tests for daemon bugs the crash test found (in-process, virtual time)."""

from __future__ import annotations

from typing import Any

import trio

from ocppd.testing.csms import NoAnswer, Station
from tests.harness import charger


async def test_link_lost_while_a_transaction_message_waits_for_its_answer_is_redialled(
    nursery, start_csms, autojump_clock
):
    """The courier's SessionClosed and the reader's LinkError arrive together: the daemon must
    dial again, not exit (crash test, seed 1, life 17: exit status 1)."""
    first_start = trio.Event()

    def swallow_first(station: Station, payload: dict[str, Any]) -> Any:
        if not first_start.is_set():
            first_start.set()
            return NoAnswer()
        return {"transactionId": 7, "idTagInfo": {"status": "Accepted"}}

    csms = await start_csms(overrides={"StartTransaction": swallow_first})
    async with charger(nursery, csms) as cp:
        station = await cp.registered()
        await cp.sim("plug", 1)
        await cp.swipe("04A2B3C4")
        await first_start.wait()
        await station.close()  # the link drops while the Start waits for its answer
        second = await cp.station(connection=2)
        with trio.fail_after(60):
            again = await second.wait_for("StartTransaction")
        first = station.calls("StartTransaction")[0]
        assert (again.unique_id, again.payload) == (first.unique_id, first.payload)
        assert not cp.done.is_set(), "the daemon stopped"
