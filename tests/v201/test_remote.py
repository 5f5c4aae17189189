"""UnlockConnector (F05), TriggerMessage (F06) and DataTransfer (P02) in OCPP 2.0.1 against
the independent 2.0.1 CSMS."""

from __future__ import annotations

import pytest
import trio
from ocpp.v201 import call

from ocppd.testing.csms import CallFailed
from tests.v201.harness import charger201, registered
from tests.v201.test_reset import OFFLINE_START, charging

LOCK = '[connector.lock]\ndriver = "sim"\n'


async def test_tc_f_06_cs_unlock_a_connector_without_a_transaction(
    nursery, start_csms201, autojump_clock
) -> None:
    """TC_F_06_CS, F05.FR.04: Unlocked; a connector this station lacks: UnknownConnector
    (F05.FR.03)."""
    csms = await start_csms201()
    async with charger201(nursery, csms, connectors=2, connector_extra=LOCK) as cp:
        station = await registered(cp)
        answer = await station.call(call.UnlockConnector(evse_id=1, connector_id=1))
        assert answer.status == "Unlocked"
        for evse_id, connector_id in ((3, 1), (1, 2)):
            answer = await station.call(
                call.UnlockConnector(evse_id=evse_id, connector_id=connector_id)
            )
            assert answer.status == "UnknownConnector"
    assert csms.violations == []


async def test_unlock_during_a_transaction_leaves_it_running(
    nursery, start_csms201, autojump_clock
) -> None:
    """F05.FR.02: OngoingAuthorizedTransaction, and the cable stays locked, the transaction
    goes on (unlike 1.6, where the unlock ends it)."""
    csms = await start_csms201()
    async with charger201(nursery, csms, keys=OFFLINE_START, connector_extra=LOCK) as cp:
        station = await registered(cp)
        tx = await charging(cp)
        answer = await station.call(call.UnlockConnector(evse_id=1, connector_id=1))
        assert answer.status == "OngoingAuthorizedTransaction"
        await trio.sleep(10)
        assert cp.connector(1).tx is tx
    assert csms.violations == []


async def test_tc_f_24_cs_heartbeat_and_status_triggered(
    nursery, start_csms201, autojump_clock
) -> None:
    """F06 (TC_F_24_CS's StatusNotification of one EVSE's connector): a triggered Heartbeat
    and StatusNotification come after the answer (F06.FR.04); a StatusNotification needs
    an EVSE and a connector (F06.FR.12), one this station has."""
    csms = await start_csms201(heartbeat_interval=3600)
    async with charger201(nursery, csms, connectors=2) as cp:
        station = await registered(cp)
        answer = await station.call(call.TriggerMessage(requested_message="Heartbeat"))
        assert answer.status == "Accepted"
        await station.wait_for("Heartbeat")
        answer = await station.call(
            call.TriggerMessage(
                requested_message="StatusNotification", evse={"id": 2, "connector_id": 1}
            )
        )
        assert answer.status == "Accepted"
        again = await station.wait_for("StatusNotification", lambda p: p["evseId"] == 2, count=2)
        assert again.payload["connectorStatus"] == "Available"
        for evse in (None, {"id": 2}, {"id": 3, "connector_id": 1}, {"id": 1, "connector_id": 2}):
            answer = await station.call(
                call.TriggerMessage(requested_message="StatusNotification", evse=evse)
            )
            assert answer.status == "Rejected", evse
        await trio.sleep(5)
        assert len(station.calls("StatusNotification")) == 3
    assert csms.violations == []


async def test_tc_f_12_cs_meter_values_triggered(nursery, start_csms201, autojump_clock) -> None:
    """F06.FR.06: MeterValues of the EVSE asked for, or of every EVSE (TC_F_12_CS), context
    Trigger."""
    csms = await start_csms201()
    async with charger201(nursery, csms, connectors=2) as cp:
        station = await registered(cp)
        answer = await station.call(
            call.TriggerMessage(requested_message="MeterValues", evse={"id": 2})
        )
        assert answer.status == "Accepted"
        sent = await station.wait_for("MeterValues")
        assert sent.payload["evseId"] == 2
        values = sent.payload["meterValue"][0]["sampledValue"]
        assert {v["context"] for v in values} == {"Trigger"}
        energy = [v for v in values if v["measurand"] == "Energy.Active.Import.Register"]
        assert energy and energy[0]["unitOfMeasure"]["unit"] == "Wh"
        assert isinstance(energy[0]["value"], int | float)
        answer = await station.call(call.TriggerMessage(requested_message="MeterValues"))
        assert answer.status == "Accepted"
        await station.wait_for("MeterValues", count=3)
        assert sorted(r.payload["evseId"] for r in station.calls("MeterValues")[1:]) == [1, 2]
        answer = await station.call(
            call.TriggerMessage(requested_message="MeterValues", evse={"id": 7})
        )
        assert answer.status == "Rejected"
    assert csms.violations == []


async def test_f06_boot_notification_triggered_once_accepted_is_rejected(
    nursery, start_csms201, autojump_clock
) -> None:
    """F06.FR.17: once Accepted, a triggered BootNotification is Rejected; a message nobody
    offers is NotImplemented (F06.FR.08, TC_F_27's answer)."""
    csms = await start_csms201()
    async with charger201(nursery, csms) as cp:
        station = await registered(cp)
        answer = await station.call(call.TriggerMessage(requested_message="BootNotification"))
        assert answer.status == "Rejected"
        answer = await station.call(
            call.TriggerMessage(requested_message="PublishFirmwareStatusNotification")
        )
        assert answer.status == "NotImplemented"
        await trio.sleep(5)
        assert len(station.calls("BootNotification")) == 1
    assert csms.violations == []


async def test_tc_p_data_transfer_of_an_unknown_vendor(
    nursery, start_csms201, autojump_clock
) -> None:
    """P02 (TC_P_01_CS's situation): no vendor extension is built: UnknownVendorId."""
    csms = await start_csms201()
    async with charger201(nursery, csms) as cp:
        station = await registered(cp)
        answer = await station.call(
            call.DataTransfer(vendor_id="com.example", message_id="x", data={"a": 1})
        )
        assert answer.status == "UnknownVendorId"
    assert csms.violations == []


async def test_a_201_action_is_not_answered_in_16_and_a_16_action_not_in_201(
    nursery, start_csms201, autojump_clock
) -> None:
    """The handlers are chosen per version: over 2.0.1 a 1.6-only action is unknown (the
    2.0.1 dialect has no such action: NotImplemented)."""
    csms = await start_csms201()
    async with charger201(nursery, csms) as cp:
        station = await registered(cp)
        with pytest.raises(CallFailed) as refused:
            await station.call_raw("RemoteStopTransaction", {"transactionId": 1}, validate=False)
        assert refused.value.code == "NotImplemented"
        assert set(cp.parts.dialect_handlers["ocpp2.0.1"]) >= {
            "ChangeAvailability",
            "DataTransfer",
            "Reset",
            "TriggerMessage",
            "UnlockConnector",
        }
