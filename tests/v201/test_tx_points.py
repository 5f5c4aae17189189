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
        record = (await cp.journal.transactions())[-1]
        assert record.id_tag == TAG  # the ledger learnt the driver with that event
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


async def test_tc_e_02_cs_energy_transfer_starts_when_the_ev_draws_energy(
    nursery, start_csms201, autojump_clock
) -> None:
    """TC_E_02_CS (E01.FR.06): TxStartPoint EnergyTransfer: cable and tag are not enough
    while the EV does not ask for energy; the transaction starts when it does
    (ChargingStateChanged), with the token."""
    csms = await start_csms201()
    async with charger201(nursery, csms, keys=KEYS) as cp:
        station = await registered(cp)
        await points(station, start="EnergyTransfer")
        await cp.sim("plug", 1)
        await cp.sim("suspend", 1)
        await cp.swipe(TAG)
        await trio.sleep(120)  # longer than EVConnectionTimeOut: the cable is in
        assert events(csms) == []
        await cp.sim("resume", 1)
        await cp.settle(5)
        started = events(csms)[0]
        assert started["eventType"] == "Started"
        assert started["triggerReason"] == "ChargingStateChanged"
        assert token_of(started) == TAG
        assert cp.connector(1).outputs.contactor_closed
        await cp.swipe(TAG)
        await cp.settle(5)
        one_transaction(events(csms))
    assert csms.violations == []


async def test_tc_e_08_cs_energy_transfer_stop_ends_when_the_ev_stops_drawing(
    nursery, start_csms201, autojump_clock
) -> None:
    """TC_E_08_CS / TC_E_22 (E06.FR.07): TxStopPoint EnergyTransfer: the EV no longer asking
    for energy ends the transaction: stoppedReason StoppedByEV, chargingState SuspendedEV."""
    csms = await start_csms201()
    async with charger201(nursery, csms, keys=KEYS) as cp:
        station = await registered(cp)
        await points(station, stop="EnergyTransfer")
        await cp.sim("plug", 1)
        await cp.swipe(TAG)
        await trio.sleep(90)
        await cp.sim("suspend", 1)
        await cp.settle(5)
        sent = events(csms)
        one_transaction(sent)
        info = sent[-1]["transactionInfo"]
        assert info["stoppedReason"] == "StoppedByEV"
        assert info["chargingState"] == "SuspendedEV"
        assert cp.connector(1).tx is None
    assert csms.violations == []


async def test_tc_e_14_cs_ev_connected_stop_waits_for_the_cable(
    nursery, start_csms201, autojump_clock
) -> None:
    """TC_E_14_CS (E06.FR.02): TxStopPoint EVConnected: the driver's tag ends the charge (an
    Updated StopAuthorized, the energy stops) but not the transaction (EVConnectedPostSession);
    unplugging ends it (EVCommunicationLost, stoppedReason EVDisconnected, Idle)."""
    csms = await start_csms201()
    async with charger201(nursery, csms, keys=KEYS) as cp:
        station = await registered(cp)
        await points(station, stop="EVConnected")
        await cp.sim("plug", 1)
        await cp.swipe(TAG)
        await trio.sleep(90)
        await cp.swipe(TAG)
        await cp.settle(5)
        assert cp.connector(1).tx is not None
        assert not cp.connector(1).outputs.contactor_closed
        last = events(csms)[-1]
        assert last["eventType"] == "Updated" and last["triggerReason"] == "StopAuthorized"
        assert token_of(last) == TAG
        await cp.swipe(TAG)  # again: nothing more to end
        await cp.settle(5)
        assert cp.connector(1).tx is not None
        await cp.sim("unplug", 1)
        await cp.settle(5)
        sent = events(csms)
        one_transaction(sent)
        ended = sent[-1]
        assert ended["triggerReason"] == "EVCommunicationLost"
        assert ended["transactionInfo"]["stoppedReason"] == "EVDisconnected"
        assert ended["transactionInfo"]["chargingState"] == "Idle"
    assert csms.violations == []


async def test_tc_e_26_cs_authorized_stop_goes_on_without_the_cable(
    nursery, start_csms201, autojump_clock
) -> None:
    """TC_E_26_CS (E10, E06.FR.03): TxStopPoint Authorized, StopTxOnEVSideDisconnect false:
    unplugging suspends the transaction (Updated EVCommunicationLost, Idle; the connector is
    Available), plugging in again resumes it (CablePluggedIn, then Charging); the tag ends
    it (Local)."""
    csms = await start_csms201()
    keys = {**KEYS, "StopTransactionOnEVSideDisconnect": False}
    async with charger201(nursery, csms, keys=keys) as cp:
        station = await registered(cp)
        await points(station, stop="Authorized")
        await cp.sim("plug", 1)
        await cp.swipe(TAG)
        await trio.sleep(90)
        await cp.sim("unplug", 1)
        await cp.settle(5)
        lost = events(csms)[-1]
        assert lost["eventType"] == "Updated"
        assert lost["triggerReason"] == "EVCommunicationLost"
        assert lost["transactionInfo"]["chargingState"] == "Idle"
        status = await station.wait_for(
            "StatusNotification", lambda p: p["connectorStatus"] == "Available"
        )
        assert status.payload["evseId"] == 1
        await cp.sim("plug", 1)
        await cp.settle(5)
        assert cp.connector(1).outputs.contactor_closed
        triggers = [p["triggerReason"] for p in events(csms)]
        assert triggers[-2:] == ["CablePluggedIn", "ChargingStateChanged"]
        await cp.swipe(TAG)
        await cp.settle(5)
        sent = events(csms)
        one_transaction(sent)
        assert sent[-1]["transactionInfo"]["stoppedReason"] == "Local"
    assert csms.violations == []


async def test_auth_disabled_lets_anyone_charge_with_the_no_authorization_token(
    nursery, start_csms201, autojump_clock
) -> None:
    """AuthCtrlr.Enabled false (C01/E01): plugging in starts the transaction and energy
    flows with no tag; the idToken is empty with type NoAuthorization; unplugging ends it."""
    csms = await start_csms201()
    async with charger201(nursery, csms, keys=KEYS) as cp:
        station = await registered(cp)
        results = await set_variables(station, item("AuthCtrlr", "Enabled", "false"))
        assert results[0]["attribute_status"] == "Accepted"
        await cp.sim("plug", 1)
        await cp.settle(5)
        assert cp.connector(1).outputs.contactor_closed
        started = events(csms)[0]
        assert started["triggerReason"] == "CablePluggedIn"
        assert started["idToken"] == {"idToken": "", "type": "NoAuthorization"}
        assert station.calls("Authorize") == []
        await trio.sleep(60)
        await cp.sim("unplug", 1)
        await cp.settle(5)
        sent = events(csms)
        one_transaction(sent)
        assert sent[-1]["transactionInfo"]["stoppedReason"] == "EVDisconnected"
    assert csms.violations == []


async def test_a_1_6_transaction_keeps_1_6_rules_whatever_the_2_0_1_points_say(
    nursery, start_csms, autojump_clock
) -> None:
    """1.6 has no TxStartPoint, TxStopPoint or AuthCtrlr.Enabled: with them set (in the config
    file here) a charger speaking 1.6 still starts at authorised + plugged (the cable alone
    starts nothing, a tag is needed) and stops as 1.6 says."""
    csms = await start_csms()
    keys = {
        **KEYS,
        '"TxCtrlr.TxStartPoint"': "EVConnected",
        '"TxCtrlr.TxStopPoint"': "EVConnected",
        '"AuthCtrlr.Enabled"': False,
    }
    async with charger201(nursery, csms, versions=["ocpp1.6"], keys=keys) as cp:
        assert cp.keys.text("TxCtrlr.TxStartPoint") == "EVConnected"
        station = await cp.station()
        await cp.sim("plug", 1)
        await cp.settle(120)
        assert station.calls("StartTransaction") == []
        assert cp.connector(1).tx is None
        await cp.swipe(TAG)
        await station.wait_for("StartTransaction")
        await cp.swipe(TAG)
        stop = await station.wait_for("StopTransaction")
        assert stop.payload["reason"] == "Local"
        assert cp.connector(1).tx is None
    assert csms.violations == []


async def test_started_carries_tx_started_measurands_and_updated_the_phases_used(
    nursery, start_csms201, autojump_clock
) -> None:
    """SampledDataCtrlr.TxStartedMeasurands (E01/J02): Started carries those measurands at
    Transaction.Begin beside the register; numberOfPhasesUsed is said (once, then when it
    changes) in the periodic Updated, from the meter's current per phase. TxEndedMeasurands
    (StopTxnSampledData) are in Ended."""
    csms = await start_csms201()
    keys = {
        **KEYS,
        "MeterValuesSampledData": "Energy.Active.Import.Register,Current.Import",
        "StopTxnSampledData": "Energy.Active.Import.Register",
    }
    async with charger201(nursery, csms, keys=keys) as cp:
        station = await registered(cp)
        results = await set_variables(
            station,
            item(
                "SampledDataCtrlr",
                "TxStartedMeasurands",
                "Energy.Active.Import.Register,Power.Active.Import",
            ),
        )
        assert results[0]["attribute_status"] == "Accepted"
        await cp.sim("plug", 1)
        await cp.swipe(TAG)
        await trio.sleep(3 * 60 + 5)
        await cp.swipe(TAG)
        await cp.settle(5)
        sent = events(csms)
        one_transaction(sent)
        begin = sent[0]["meterValue"]
        assert len(begin) == 1
        measurands = [v["measurand"] for v in begin[0]["sampledValue"]]
        assert measurands == ["Energy.Active.Import.Register", "Power.Active.Import"]
        assert {v["context"] for v in begin[0]["sampledValue"]} == {"Transaction.Begin"}
        told = [p["numberOfPhasesUsed"] for p in sent if "numberOfPhasesUsed" in p]
        assert told == [3]
        periodic = [p for p in sent if p["triggerReason"] == "MeterValuePeriodic"]
        assert periodic and "numberOfPhasesUsed" in periodic[0]
        ended_values = [v for mv in sent[-1]["meterValue"] for v in mv["sampledValue"]]
        assert {v["context"] for v in ended_values} >= {"Transaction.Begin", "Transaction.End"}
    assert csms.violations == []


async def test_tc_e_13_cs_authorized_start_by_request_start_transaction(
    nursery, start_csms201, autojump_clock
) -> None:
    """TC_E_13_CS (E01.FR.03, F01/F02): TxStartPoint Authorized and RequestStartTransaction
    for EVSE 1: the transaction starts at once (RemoteStart, the CSMS's token, its
    remoteStartId, Idle) and the cable follows as CablePluggedIn."""
    csms = await start_csms201()
    async with charger201(nursery, csms, keys=KEYS) as cp:
        station = await registered(cp)
        await points(station, start="Authorized")
        answer = await station.call_raw(
            "RequestStartTransaction",
            {
                "idToken": {"idToken": "APP-USER-9", "type": "Central"},
                "remoteStartId": 7,
                "evseId": 1,
            },
        )
        assert answer.status == "Accepted"
        started = (await station.wait_for("TransactionEvent")).payload
        assert started["eventType"] == "Started"
        assert started["triggerReason"] == "RemoteStart"
        assert started["transactionInfo"]["remoteStartId"] == 7
        assert started["transactionInfo"]["chargingState"] == "Idle"
        assert started["idToken"] == {"idToken": "APP-USER-9", "type": "Central"}
        await cp.sim("plug", 1)
        await cp.settle(5)
        assert [p["triggerReason"] for p in events(csms)][1:3] == [
            "CablePluggedIn",
            "ChargingStateChanged",
        ]
        assert cp.connector(1).outputs.contactor_closed
    assert csms.violations == []


async def test_f01_a_remote_start_authorises_the_transaction_begun_at_the_cable(
    nursery, start_csms201, autojump_clock
) -> None:
    """F01 (cable plugged in first) with TxStartPoint EVConnected: the transaction started
    at the cable; RequestStartTransaction for that EVSE is Accepted and names it
    (transactionId), and authorises it: an Updated RemoteStart with the CSMS's token and its
    remoteStartId; energy flows."""
    csms = await start_csms201()
    async with charger201(nursery, csms, keys=KEYS) as cp:
        station = await registered(cp)
        await points(station, start="EVConnected")
        await cp.sim("plug", 1)
        started = (await station.wait_for("TransactionEvent")).payload
        transaction_id = started["transactionInfo"]["transactionId"]
        answer = await station.call_raw(
            "RequestStartTransaction",
            {
                "idToken": {"idToken": "APP-USER-5", "type": "Central"},
                "remoteStartId": 11,
                "evseId": 1,
            },
        )
        assert answer.status == "Accepted"
        assert answer.transaction_id == transaction_id
        await cp.settle(5)
        update = [p for p in events(csms) if p["triggerReason"] == "RemoteStart"]
        assert len(update) == 1 and update[0]["eventType"] == "Updated"
        assert update[0]["transactionInfo"]["remoteStartId"] == 11
        assert update[0]["idToken"] == {"idToken": "APP-USER-5", "type": "Central"}
        assert cp.connector(1).outputs.contactor_closed
    assert csms.violations == []
