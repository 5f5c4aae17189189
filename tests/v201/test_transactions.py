"""OCPP 2.0.1 transactions end to end (E01-E12, J02): the real daemon against the independent
2.0.1 CSMS (every frame validated against the official schemas; tests assert no
violation), on virtual time. The journal side is in test_tx_journal.py."""

from __future__ import annotations

import itertools
from typing import Any

import trio

from ocppd.testing.csms import ErrorAnswer, Station
from tests.harness import CP_ID
from tests.netutil import Proxy
from tests.v201.harness import charger201, registered

TAG = "04E1A2B3"
KEYS: dict[str, Any] = {
    "MeterValueSampleInterval": 60,
    "LocalAuthorizeOffline": True,
    "AllowOfflineTxForUnknownId": True,
}


def events(csms: Any) -> list[dict[str, Any]]:
    """The TransactionEvents the CSMS received, first copies only, in arrival order."""
    seen: set[str] = set()
    out = []
    for call in csms.all_calls(CP_ID):
        if call.action == "TransactionEvent" and call.unique_id not in seen:
            seen.add(call.unique_id)
            out.append(call.payload)
    return out


def one_transaction(payloads: list[dict[str, Any]]) -> str:
    """The one transactionId of ``payloads``, which must be numbered 0..n-1 in order,
    Started first and Ended last."""
    ids = {p["transactionInfo"]["transactionId"] for p in payloads}
    assert len(ids) == 1, ids
    assert [p["seqNo"] for p in payloads] == list(range(len(payloads)))
    kinds = [p["eventType"] for p in payloads]
    assert kinds[0] == "Started" and kinds[-1] == "Ended"
    assert set(kinds[1:-1]) <= {"Updated"}
    return ids.pop()


async def test_tc_e_01_cs_a_session_is_started_updated_and_ended(
    nursery, start_csms201, autojump_clock
) -> None:
    """TC_E_01_CS-like (PowerPathClosed: the cable, then the tag), E02 (Charging), J02
    (MeterValuePeriodic every TxUpdatedInterval), TC_E_07_CS-like (stopped by the same tag):
    one charger-made transactionId, seqNo 0..n-1, the meter at both ends."""
    csms = await start_csms201()
    async with charger201(nursery, csms, keys=KEYS) as cp:
        await registered(cp)
        await cp.sim("plug", 1)
        await cp.swipe(TAG)
        await trio.sleep(5 * 60 + 5)
        await cp.swipe(TAG)
        await cp.settle(5)
        sent = events(csms)
        transaction_id = one_transaction(sent)
        assert 16 <= len(transaction_id) <= 36
        started, ended = sent[0], sent[-1]
        assert started["triggerReason"] == "Authorized"
        assert started["evse"] == {"id": 1, "connectorId": 1}
        assert started["idToken"] == {"idToken": TAG, "type": "ISO14443"}
        assert "offline" not in started
        begin = started["meterValue"][0]["sampledValue"][0]
        assert begin["context"] == "Transaction.Begin"
        assert begin["measurand"] == "Energy.Active.Import.Register"
        states = [p for p in sent if p["triggerReason"] == "ChargingStateChanged"]
        assert states and states[0]["transactionInfo"]["chargingState"] == "Charging"
        periodic = [p for p in sent if p["triggerReason"] == "MeterValuePeriodic"]
        assert len(periodic) == 5
        assert ended["triggerReason"] == "StopAuthorized"
        assert ended["transactionInfo"]["stoppedReason"] == "Local"
        assert ended["idToken"]["idToken"] == TAG
        end = [
            v["value"]
            for mv in ended["meterValue"]
            for v in mv["sampledValue"]
            if v["context"] == "Transaction.End"
            and v["measurand"] == "Energy.Active.Import.Register"
        ]
        assert len(end) == 1 and end[0] > begin["value"]
        record = (await cp.journal.transactions())[-1]
        assert record.transaction_id == transaction_id and record.protocol == "ocpp2.0.1"
        assert record.state == "done" and record.numbered == len(sent)
        assert (await cp.status())["queue"]["pending"] == 0
    assert csms.violations == []


async def test_tc_e_37_cs_an_ev_side_disconnect_ends_it_idle(
    nursery, start_csms201, autojump_clock
) -> None:
    """TC_E_37_CS-like: unplugging ends the transaction (StopTxOnEVSideDisconnect):
    triggerReason EVCommunicationLost, chargingState Idle, stoppedReason EVDisconnected.
    The tag came first here, so the cable started it (CablePluggedIn)."""
    csms = await start_csms201()
    async with charger201(nursery, csms, keys=KEYS) as cp:
        await registered(cp)
        await cp.swipe(TAG)
        await cp.sim("plug", 1)
        await trio.sleep(90)
        await cp.sim("unplug", 1)
        await cp.settle(5)
        sent = events(csms)
        one_transaction(sent)
        assert sent[0]["triggerReason"] == "CablePluggedIn"
        ended = sent[-1]
        assert ended["triggerReason"] == "EVCommunicationLost"
        assert ended["transactionInfo"]["chargingState"] == "Idle"
        assert ended["transactionInfo"]["stoppedReason"] == "EVDisconnected"
    assert csms.violations == []


async def test_e12_events_while_offline_are_queued_and_delivered_in_order_marked_offline(
    nursery, start_csms201, autojump_clock
) -> None:
    """E12: a whole session while the central system cannot be reached, then the link comes
    back: every event arrives, in order, once, offline true, with the times they happened."""
    csms = await start_csms201()
    proxy = await nursery.start(Proxy(csms.port).serve)
    async with charger201(nursery, csms, url=proxy.url, keys=KEYS) as cp:
        await registered(cp)
        proxy.refuse = True
        proxy.cut()
        await trio.sleep(5)
        await cp.sim("plug", 1)
        await cp.swipe(TAG)
        await trio.sleep(3 * 60 + 5)
        await cp.swipe(TAG)
        await cp.sim("unplug", 1)
        await trio.sleep(5)
        assert events(csms) == []
        proxy.refuse = False
        station = await cp.station(connection=2)
        await station.wait_for("TransactionEvent", lambda p: p["eventType"] == "Ended")
        sent = events(csms)
        one_transaction(sent)
        assert all(p.get("offline") is True for p in sent)
        stamps = [p["timestamp"] for p in sent]
        assert stamps == sorted(stamps)
        assert len([p for p in sent if p["triggerReason"] == "MeterValuePeriodic"]) == 3
    assert csms.violations == []


async def test_e05_a_token_the_central_system_calls_invalid_ends_the_transaction(
    nursery, start_csms201, autojump_clock
) -> None:
    """E05-like: the tag was authorised (Authorize Accepted) but the answer to Started says
    the token is Invalid; with StopTxOnInvalidId the transaction ends DeAuthorized."""
    csms = await start_csms201()

    def answer(station: Station, payload: dict[str, Any]) -> Any:
        return {"idTokenInfo": {"status": "Invalid"}} if "idToken" in payload else {}

    csms.overrides["TransactionEvent"] = answer
    keys = {**KEYS, "StopTransactionOnInvalidId": True}
    async with charger201(nursery, csms, keys=keys) as cp:
        await registered(cp)
        await cp.sim("plug", 1)
        await cp.swipe("BAD00001")
        await cp.settle(10)
        sent = events(csms)
        one_transaction(sent)
        ended = sent[-1]
        assert ended["triggerReason"] == "Deauthorized"
        assert ended["transactionInfo"]["stoppedReason"] == "DeAuthorized"
        assert cp.connector(1).tx is None
    assert csms.violations == []


async def test_a_refused_event_is_sent_again_byte_for_byte_with_its_number(
    nursery, start_csms201, autojump_clock
) -> None:
    """MessageAttempts / MessageAttemptInterval (the 1.6 keys they are): a CALLERROR counts an
    attempt; the retry is the same message id, payload and seqNo."""
    csms = await start_csms201()
    failures = [ErrorAnswer("InternalError", "busy"), ErrorAnswer("InternalError", "busy")]

    def answer(station: Station, payload: dict[str, Any]) -> Any:
        if payload["eventType"] == "Started" and failures:
            return failures.pop(0)
        return {"idTokenInfo": {"status": "Accepted"}} if "idToken" in payload else {}

    csms.overrides["TransactionEvent"] = answer
    keys = {**KEYS, "TransactionMessageAttempts": 3, "TransactionMessageRetryInterval": 30}
    async with charger201(nursery, csms, keys=keys) as cp:
        station = await registered(cp)
        await cp.sim("plug", 1)
        await cp.swipe(TAG)
        await station.wait_for("TransactionEvent", count=3)
        tries = [c for c in station.calls("TransactionEvent") if c.payload["seqNo"] == 0]
        assert len(tries) == 3
        assert [round(b.t - a.t) for a, b in itertools.pairwise(tries)] == [30, 60]
        assert len({t.unique_id for t in tries}) == 1
        assert all(t.payload == tries[0].payload for t in tries)
        await cp.swipe(TAG)
        await cp.settle(5)
        one_transaction(events(csms))
    assert csms.violations == []


async def test_f06_trigger_message_transaction_event(
    nursery, start_csms201, autojump_clock
) -> None:
    """F06: TriggerMessage TransactionEvent for the EVSE with a transaction is Accepted and
    sends an Updated with triggerReason Trigger, fresh values (context Trigger), numbered in
    the transaction's order; for an EVSE without one it is Rejected."""
    csms = await start_csms201()
    async with charger201(nursery, csms, keys=KEYS, connectors=2) as cp:
        station = await registered(cp)
        await cp.sim("plug", 1)
        await cp.swipe(TAG)
        await cp.settle(5)
        answer = await station.call_raw(
            "TriggerMessage", {"requestedMessage": "TransactionEvent", "evse": {"id": 1}}
        )
        assert answer.status == "Accepted"
        triggered = await station.wait_for(
            "TransactionEvent", lambda p: p["triggerReason"] == "Trigger"
        )
        values = triggered.payload["meterValue"][0]["sampledValue"]
        assert {v["context"] for v in values} == {"Trigger"}
        refused = await station.call_raw(
            "TriggerMessage", {"requestedMessage": "TransactionEvent", "evse": {"id": 2}}
        )
        assert refused.status == "Rejected"
        await cp.swipe(TAG)
        await cp.settle(5)
        one_transaction(events(csms))
    assert csms.violations == []


async def test_f01_a_remote_start_is_named_in_its_transaction(
    nursery, start_csms201, autojump_clock
) -> None:
    """F01 / E03-like: RequestStartTransaction with remoteStartId 42, then the cable: Started
    says CablePluggedIn (what came last) and remoteStartId 42, with the CSMS's token and
    its type."""
    csms = await start_csms201()
    async with charger201(nursery, csms, keys=KEYS) as cp:
        station = await registered(cp)
        answer = await station.call_raw(
            "RequestStartTransaction",
            {"idToken": {"idToken": "APP-USER-7", "type": "Central"}, "remoteStartId": 42},
        )
        assert answer.status == "Accepted"
        await cp.sim("plug", 1)
        started = await station.wait_for("TransactionEvent")
        assert started.payload["eventType"] == "Started"
        assert started.payload["transactionInfo"]["remoteStartId"] == 42
        assert started.payload["triggerReason"] == "CablePluggedIn"
        assert started.payload["idToken"] == {"idToken": "APP-USER-7", "type": "Central"}
    assert csms.violations == []
