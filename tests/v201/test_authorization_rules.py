"""OCPP 2.0.1 authorization rules beyond 1.6 against the independent 2.0.1 CSMS: the master
pass (C16), AuthCtrlr.DisableRemoteAuthorization, and AuthCacheCtrlr.Policy and Storage.

OCTT cases replayed (OCPP 2.0.1 Part 6, as quoted on ocpplab.com): TC_C_49_CS (master pass,
a charging station without a user interface).
"""

from __future__ import annotations

from typing import Any

import pytest
import trio

from tests.harness import ControlRefused
from tests.v201.harness import charger201, registered
from tests.v201.test_local_list import entry, send_list, set_variable, variables

MASTER = "POLICE01"
GROUP = "MASTERPASS"


def groups(table: dict[str, str]):
    """An Authorize answer: Accepted, with the group ``table`` names for the token."""

    def answer(_station: Any, payload: dict[str, Any]) -> dict[str, Any]:
        info: dict[str, Any] = {"status": "Accepted"}
        group = table.get(payload["idToken"]["idToken"])
        if group is not None:
            info["groupIdToken"] = {"idToken": group, "type": "Central"}
        return {"idTokenInfo": info}

    return answer


async def test_tc_c_49_a_master_pass_stops_every_transaction(
    nursery, start_csms201, autojump_clock
) -> None:
    """TC_C_49_CS (C16.FR.02): with AuthCtrlr.MasterPassGroupId set, a token whose
    groupIdToken is that group stops the transactions of both EVSEs: Ended with
    stoppedReason MasterPass, triggerReason StopAuthorized, and its idToken."""
    csms = await start_csms201()
    csms.overrides["Authorize"] = groups({MASTER: GROUP})
    keys = {'"AuthCtrlr.MasterPassGroupId"': GROUP}
    async with charger201(nursery, csms, connectors=2, keys=keys) as cp:
        station = await registered(cp)
        ids = []
        for connector, tag in ((1, "DRIVER01"), (2, "DRIVER02")):
            await cp.sim("plug", connector)
            assert f"charging on connector {connector}" in await cp.swipe(tag)
            started = await station.wait_for(
                "TransactionEvent",
                lambda p, n=connector: p["eventType"] == "Started" and p["evse"]["id"] == n,
            )
            ids.append(started.payload["transactionInfo"]["transactionId"])
        reply = await cp.swipe(MASTER)
        assert "master pass: transactions stopped on connector 1, 2" in reply
        ended = []
        for tx_id in ids:
            event = await station.wait_for(
                "TransactionEvent",
                lambda p, tx_id=tx_id: (
                    p["eventType"] == "Ended" and p["transactionInfo"]["transactionId"] == tx_id
                ),
            )
            ended.append(event.payload)
        for event in ended:
            assert event["transactionInfo"]["stoppedReason"] == "MasterPass"
            assert event["triggerReason"] == "StopAuthorized"
            assert event["idToken"]["idToken"] == MASTER
        assert cp.connector(1).tx is None and cp.connector(2).tx is None
    assert csms.violations == []


async def test_c16_a_master_pass_starts_no_transaction(
    nursery, start_csms201, autojump_clock
) -> None:
    """C16: a master pass token never starts a transaction; without a group set, the
    same token is an ordinary driver's."""
    csms = await start_csms201()
    csms.overrides["Authorize"] = groups({MASTER: GROUP})
    async with charger201(nursery, csms) as cp:
        station = await registered(cp)
        await cp.sim("plug", 1)
        assert await set_variable(station, "AuthCtrlr", "MasterPassGroupId", GROUP) == "Accepted"
        with pytest.raises(ControlRefused, match="a master pass starts no transaction"):
            await cp.swipe(MASTER)
        await trio.sleep(5)
        assert cp.connector(1).tx is None
        assert await set_variable(station, "AuthCtrlr", "MasterPassGroupId", "") == "Accepted"
        assert "charging on connector 1" in await cp.swipe(MASTER)
    assert csms.violations == []


async def test_disable_remote_authorization_sends_no_authorize(
    nursery, start_csms201, autojump_clock
) -> None:
    """AuthCtrlr.DisableRemoteAuthorization: online, the local list and the cache decide
    alone (LocalPreAuthorize or not); an unknown token is refused without Authorize."""
    csms = await start_csms201()
    async with charger201(nursery, csms, keys={"LocalPreAuthorize": False}) as cp:
        station = await registered(cp)
        await send_list(station, 1, "Full", [entry("LISTED01"), entry("BLOCKED1", "Blocked")])
        await cp.sim("plug", 1)
        await cp.swipe("CACHED01")  # asked once: Accepted, and cached
        await cp.swipe("CACHED01")  # its own stop
        assert len(station.calls("Authorize")) == 1
        answer = await set_variable(station, "AuthCtrlr", "DisableRemoteAuthorization", "true")
        assert answer == "Accepted"
        await cp.sim("unplug", 1)
        await cp.sim("plug", 1)
        with pytest.raises(ControlRefused, match="unknown here and remote authorization is off"):
            await cp.swipe("NEW00001")
        with pytest.raises(ControlRefused, match="as Blocked and remote authorization is off"):
            await cp.swipe("BLOCKED1")
        assert "charging on connector 1" in await cp.swipe("CACHED01")
        await cp.swipe("CACHED01")
        await cp.sim("unplug", 1)
        await cp.sim("plug", 1)
        assert "charging on connector 1" in await cp.swipe("LISTED01")
        assert len(station.calls("Authorize")) == 1
    assert csms.violations == []


async def test_auth_cache_policy_and_storage(nursery, start_csms201, autojump_clock) -> None:
    """AuthCacheCtrlr.Policy is LRU, the one the cache has: LFU, FIFO and CUSTOM are
    Rejected; AuthCacheCtrlr.Storage is the bytes the cached verdicts take."""
    csms = await start_csms201()
    async with charger201(nursery, csms) as cp:
        station = await registered(cp)
        assert await variables(station, ("AuthCacheCtrlr", "Policy")) == ["LRU"]
        for policy in ("LFU", "FIFO", "CUSTOM"):
            assert await set_variable(station, "AuthCacheCtrlr", "Policy", policy) == "Rejected"
        assert await set_variable(station, "AuthCacheCtrlr", "Policy", "LRU") == "Accepted"
        assert await variables(station, ("AuthCacheCtrlr", "Storage")) == ["0"]
        await cp.sim("plug", 1)
        await cp.swipe("CACHED01")
        (size,) = await variables(station, ("AuthCacheCtrlr", "Storage"))
        assert int(size) >= len("CACHED01Accepted")
    assert csms.violations == []
