"""TxCtrlr.TxStartPoint / TxStopPoint (E01 "Start Transaction options", E06 "Stop Transaction
options") and AuthCtrlr.Enabled, end to end: the real daemon against the independent 2.0.1
CSMS (every frame validated; no violation), on virtual time. The points are set as OCTT
sets them, with SetVariables; each test names the OCTT case it replays."""

from __future__ import annotations

from typing import Any

import trio

from tests.v201.harness import charger201, registered
from tests.v201.test_device_model import item, set_variables
from tests.v201.test_transactions import KEYS, TAG, events, one_transaction


async def points(station: Any, start: str | None = None, stop: str | None = None) -> None:
    """SetVariables of TxStartPoint and/or TxStopPoint, each Accepted."""
    items = []
    if start is not None:
        items.append(item("TxCtrlr", "TxStartPoint", start))
    if stop is not None:
        items.append(item("TxCtrlr", "TxStopPoint", stop))
    results = await set_variables(station, *items)
    assert [r["attribute_status"] for r in results] == ["Accepted"] * len(items)


def token_of(payload: dict[str, Any]) -> str | None:
    return (payload.get("idToken") or {}).get("idToken")


async def test_tc_e_09_cs_ev_connected_starts_at_the_cable_and_the_token_comes_later(
    nursery, start_csms201, autojump_clock
) -> None:
    """TC_E_09_CS (E01.FR.02): TxStartPoint EVConnected: plugging in starts the transaction
    (CablePluggedIn, chargingState EVConnected, no idToken yet); the tag that follows is
    an Updated with triggerReason Authorized and the idToken, and only then does energy
    flow (Charging). The same tag ends it (PowerPathClosed stop: Local)."""
    csms = await start_csms201()
    async with charger201(nursery, csms, keys=KEYS) as cp:
        station = await registered(cp)
        await points(station, start="EVConnected")
        await cp.sim("plug", 1)
        await cp.settle(5)
        sent = events(csms)
        assert len(sent) == 1
        started = sent[0]
        assert started["eventType"] == "Started"
        assert started["triggerReason"] == "CablePluggedIn"
        assert started["transactionInfo"]["chargingState"] == "EVConnected"
        assert "idToken" not in started
        assert not cp.connector(1).outputs.contactor_closed
        await cp.swipe(TAG)
        await cp.settle(5)
        assert cp.connector(1).outputs.contactor_closed
        authorized = [p for p in events(csms) if p["triggerReason"] == "Authorized"]
        assert len(authorized) == 1 and authorized[0]["eventType"] == "Updated"
        assert authorized[0]["idToken"] == {"idToken": TAG, "type": "ISO14443"}
        await cp.swipe(TAG)
        await cp.settle(5)
        sent = events(csms)
        one_transaction(sent)
        assert sent[-1]["transactionInfo"]["stoppedReason"] == "Local"
        assert sent[-1]["triggerReason"] == "StopAuthorized"
    assert csms.violations == []


async def test_ev_connected_start_without_a_driver_ends_at_ev_connection_timeout(
    nursery, start_csms201, autojump_clock
) -> None:
    """E01 with TxStartPoint EVConnected and nobody authorising within EVConnectionTimeOut:
    the transaction ends (triggerReason EVConnectTimeout, stoppedReason Timeout) without
    energy ever flowing."""
    csms = await start_csms201()
    async with charger201(nursery, csms, keys={**KEYS, "ConnectionTimeOut": 60}) as cp:
        station = await registered(cp)
        await points(station, start="EVConnected")
        await cp.sim("plug", 1)
        await trio.sleep(59)
        assert cp.connector(1).tx is not None
        await trio.sleep(5)
        assert cp.connector(1).tx is None
        sent = events(csms)
        one_transaction(sent)
        ended = sent[-1]
        assert ended["triggerReason"] == "EVConnectTimeout"
        assert ended["transactionInfo"]["stoppedReason"] == "Timeout"
        assert "idToken" not in ended
    assert csms.violations == []


async def test_tc_e_10_cs_authorized_starts_at_the_tag_before_the_cable(
    nursery, start_csms201, autojump_clock
) -> None:
    """TC_E_10_CS (E01.FR.03): TxStartPoint Authorized: the accepted tag starts the
    transaction (Authorized, with the idToken, chargingState Idle: no EV yet); the cable
    that follows is an Updated CablePluggedIn (EVConnected), then Charging."""
    csms = await start_csms201()
    async with charger201(nursery, csms, keys=KEYS) as cp:
        station = await registered(cp)
        await points(station, start="Authorized")
        await cp.swipe(TAG)
        await cp.settle(5)
        sent = events(csms)
        assert len(sent) == 1
        started = sent[0]
        assert started["triggerReason"] == "Authorized"
        assert started["transactionInfo"]["chargingState"] == "Idle"
        assert token_of(started) == TAG
        await cp.sim("plug", 1)
        await cp.settle(5)
        plugged = [p for p in events(csms) if p["triggerReason"] == "CablePluggedIn"]
        assert len(plugged) == 1
        assert plugged[0]["transactionInfo"]["chargingState"] == "EVConnected"
        assert cp.connector(1).outputs.contactor_closed
        await cp.swipe(TAG)
        await cp.settle(5)
        one_transaction(events(csms))
    assert csms.violations == []


async def test_authorized_start_without_a_cable_ends_at_ev_connection_timeout(
    nursery, start_csms201, autojump_clock
) -> None:
    """E03-like with TxStartPoint Authorized: no cable within EVConnectionTimeOut ends the
    transaction: triggerReason EVConnectTimeout, stoppedReason Timeout."""
    csms = await start_csms201()
    async with charger201(nursery, csms, keys={**KEYS, "ConnectionTimeOut": 30}) as cp:
        station = await registered(cp)
        await points(station, start="Authorized")
        await cp.swipe(TAG)
        await trio.sleep(40)
        sent = events(csms)
        one_transaction(sent)
        assert sent[-1]["triggerReason"] == "EVConnectTimeout"
        assert sent[-1]["transactionInfo"]["stoppedReason"] == "Timeout"
        assert cp.connector(1).tx is None
    assert csms.violations == []
