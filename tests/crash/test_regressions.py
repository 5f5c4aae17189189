"""Regression tests for daemon bugs the crash test found (in-process, virtual time)."""

from __future__ import annotations

from typing import Any

import trio

from ocppd.journal import Journal
from ocppd.testing.csms import Delay, NoAnswer, Station
from tests.harness import ControlRefused, charger
from tests.netutil import Proxy


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


async def test_a_tag_shown_while_the_link_dies_under_a_waiting_call_gets_the_offline_rules(
    nursery, start_csms, autojump_clock
):
    """A swipe's Authorize queued behind a transaction message on a link that a missed pong
    then ends must fall back to the offline rules, not fail with RpcBusy (crash test, seed 1,
    life 6: "Authorize: call ... (MeterValues) is still outstanding")."""
    swallowed = trio.Event()

    def swallow(station: Station, payload: dict[str, Any]) -> Any:
        swallowed.set()
        return NoAnswer()

    csms = await start_csms(overrides={"StartTransaction": swallow})
    proxy = await nursery.start(Proxy(csms.port).serve)
    keys = {"WebSocketPingInterval": 5, "AllowOfflineTxForUnknownId": True}
    async with charger(nursery, csms, url=proxy.url, connectors=2, keys=keys) as cp:
        await cp.registered()
        await cp.sim("plug", 1)
        await cp.swipe("TAG-ONE")
        await swallowed.wait()  # the Start waits for an answer that never comes
        await cp.sim("plug", 2)
        outcome: list[str] = []

        async def swipe() -> None:
            try:
                outcome.append(await cp.swipe("TAG-TWO"))  # its Authorize waits behind the Start
            except ControlRefused as exc:
                outcome.append(f"refused: {exc}")

        nursery.start_soon(swipe)
        await trio.sleep(1)
        proxy.blackhole()  # no pong: the session is torn down with the Start outstanding
        with trio.fail_after(60):
            while not outcome:
                await trio.sleep(0.5)
        assert outcome == ["authorised: charging on connector 2"]


async def test_no_transaction_starts_once_an_orderly_stop_began(
    nursery, start_csms, autojump_clock
):
    """SIGTERM stops every transaction with Reboot; a tag whose Authorize answer arrives during
    the stop's grace period must not start a new one that is left running (crash test, seed 1,
    life 6: the next start stopped it PowerLoss)."""
    authorize_sent = trio.Event()

    def slow_authorize(station: Station, payload: dict[str, Any]) -> Any:
        authorize_sent.set()
        return Delay(2.0, {"idTagInfo": {"status": "Accepted"}})

    csms = await start_csms(overrides={"Authorize": slow_authorize})
    async with charger(nursery, csms, connectors=2, keys={"LocalPreAuthorize": False}) as cp:
        station = await cp.registered()
        await cp.sim("plug", 1)
        await cp.swipe("TAG-ONE")  # its Authorize is slow too; it just waits
        await station.wait_for("StartTransaction")
        await cp.sim("plug", 2)
        authorize_sent = trio.Event()
        refused: list[str] = []

        async def second_swipe() -> None:
            try:
                await cp.swipe("TAG-TWO")
            except ControlRefused as exc:  # the driver is told why
                refused.append(str(exc))

        nursery.start_soon(second_swipe)
        await authorize_sent.wait()
        await cp.stop()  # the Reboot Stop of TAG-ONE waits behind the Authorize: a grace period
        assert refused == ["ocppd is stopping"]
        journal = await Journal.open(cp.state_dir, inline=True)
        try:
            ledger = await journal.transactions()
        finally:
            await journal.aclose()
        assert [(tx.id_tag, tx.state, tx.stop_reason) for tx in ledger] == [
            ("TAG-ONE", "done", "Reboot")
        ]
