"""The sans-IO RPC state: our one outstanding call, their calls, and what is ignored."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from ocpp.messages import Call as OcppCall
from ocpp.messages import CallResult as OcppCallResult
from ocpp.messages import _validate_payload

from ocppd.protocol.errors import OcppError, Violation
from ocppd.protocol.frames import CallError
from ocppd.protocol.ids import MessageIds
from ocppd.protocol.rpc import (
    Answered,
    Failed,
    Ignored,
    IncomingCall,
    PendingCall,
    Reply,
    Rpc,
    RpcBusy,
)
from ocppd.protocol.v16 import messages as m
from ocppd.protocol.v16.dialect import V16
from ocppd.protocol.v16.enums import (
    ConfigurationStatus,
    RegistrationStatus,
    ResetStatus,
    ResetType,
)

BOOT = m.BootNotificationRequest(charge_point_vendor="ocppd", charge_point_model="Pi Wallbox")
BOOT_ACCEPTED = '{"status":"Accepted","currentTime":"2026-11-21T10:00:00Z","interval":300}'


def new_rpc(*supported: str) -> Rpc:
    return Rpc(
        MessageIds("cp"), V16, supported or ("Reset", "GetConfiguration", "ChangeConfiguration")
    )


def assert_valid_for_ocpp_package(text: str, action: str) -> None:
    """What we send passes the ocpp package's own schema validation."""
    frame = json.loads(text)
    if frame[0] == 2:
        _validate_payload(OcppCall(frame[1], frame[2], frame[3]), ocpp_version="1.6")
    else:
        _validate_payload(OcppCallResult(frame[1], frame[2], action), ocpp_version="1.6")


def test_call_encodes_our_request_and_an_answer_clears_it():
    rpc = new_rpc()
    text, pending = rpc.call(BOOT)
    assert json.loads(text) == [
        2,
        "cp-1",
        "BootNotification",
        {"chargePointVendor": "ocppd", "chargePointModel": "Pi Wallbox"},
    ]
    assert_valid_for_ocpp_package(text, "BootNotification")
    assert (
        rpc.outstanding == pending == PendingCall("cp-1", "BootNotification", json.loads(text)[3])
    )
    event = rpc.receive(f'[3,"cp-1",{BOOT_ACCEPTED}]')
    assert event == Answered(
        pending,
        m.BootNotificationResponse(
            status=RegistrationStatus.ACCEPTED,
            current_time=datetime(2026, 11, 21, 10, 0, tzinfo=UTC),
            interval=300,
        ),
    )
    assert rpc.outstanding is None


def test_only_one_call_of_ours_at_a_time():
    rpc = new_rpc()
    rpc.call(BOOT)
    with pytest.raises(RpcBusy, match="cp-1"):
        rpc.call(m.HeartbeatRequest())
    with pytest.raises(RpcBusy):
        rpc.call_payload("Heartbeat", {})
    rpc.receive(f'[3,"cp-1",{BOOT_ACCEPTED}]')
    text, _ = rpc.call(m.HeartbeatRequest())
    assert text == '[2,"cp-2","Heartbeat",{}]'


def test_crossing_calls_are_answered_while_ours_is_outstanding():
    rpc = new_rpc()
    _, pending = rpc.call(BOOT)
    event = rpc.receive('[2,"cs-9","GetConfiguration",{"key":["HeartbeatInterval"]}]')
    assert event == IncomingCall(
        "cs-9", "GetConfiguration", m.GetConfigurationRequest(key=("HeartbeatInterval",))
    )
    assert rpc.outstanding == pending
    answer = m.GetConfigurationResponse(
        configuration_key=(m.KeyValue(key="HeartbeatInterval", readonly=False, value="300"),)
    )
    text = rpc.reply("cs-9", answer)
    assert json.loads(text) == [
        3,
        "cs-9",
        {"configurationKey": [{"key": "HeartbeatInterval", "readonly": False, "value": "300"}]},
    ]
    assert_valid_for_ocpp_package(text, "GetConfiguration")
    assert isinstance(rpc.receive(f'[3,"cp-1",{BOOT_ACCEPTED}]'), Answered)


def test_answers_to_calls_we_are_not_waiting_for_are_ignored():
    rpc = new_rpc()
    assert isinstance(rpc.receive('[3,"cp-1",{}]'), Ignored)
    _, pending = rpc.call(BOOT)
    event = rpc.receive(f'[3,"someone-else",{BOOT_ACCEPTED}]')
    assert isinstance(event, Ignored)
    assert "'someone-else'" in event.reason
    assert isinstance(rpc.receive('[4,"someone-else","GenericError","",{}]'), Ignored)
    assert rpc.outstanding == pending


def test_invalid_callresult_payload_fails_the_call_with_the_violation_code():
    rpc = new_rpc()
    _, pending = rpc.call(BOOT)
    event = rpc.receive(
        '[3,"cp-1",{"status":"Maybe","currentTime":"2026-11-21T10:00:00Z","interval":1}]'
    )
    assert isinstance(event, Failed)
    assert event.call == pending
    assert event.error.unique_id == "cp-1"
    assert event.error.code == "PropertyConstraintViolation"
    assert event.error.description.startswith("invalid response: status: 'Maybe' is not one of")
    assert event.error.details == {"path": "status"}
    assert rpc.outstanding is None


def test_callerror_fails_the_call():
    rpc = new_rpc()
    _, pending = rpc.call(m.HeartbeatRequest())
    event = rpc.receive('[4,"cp-1","SecurityError","not accepted yet",{}]')
    assert event == Failed(pending, CallError("cp-1", "SecurityError", "not accepted yet", {}))
    assert rpc.outstanding is None


def test_abandoned_call_ignores_a_late_answer_and_can_be_resent_identically():
    rpc = new_rpc()
    text, pending = rpc.call(m.HeartbeatRequest())
    assert rpc.abandon() == pending
    assert rpc.abandon() is None
    assert isinstance(rpc.receive('[3,"cp-1",{"currentTime":"2026-11-21T10:00:00Z"}]'), Ignored)
    again, resent = rpc.call_payload(pending.action, pending.payload, unique_id=pending.unique_id)
    assert (again, resent) == (text, pending)


def test_call_payload_sends_a_stored_payload_as_is():
    rpc = new_rpc()
    payload = {"connectorId": 1, "idTag": "A", "meterStart": 0, "timestamp": "2026-11-21T10:00:00Z"}
    text, pending = rpc.call_payload("StartTransaction", payload, unique_id="outbox-17")
    assert (
        text
        == '[2,"outbox-17","StartTransaction",' + json.dumps(payload, separators=(",", ":")) + "]"
    )
    assert pending == PendingCall("outbox-17", "StartTransaction", payload)


def test_call_refuses_what_cannot_be_a_call():
    rpc = new_rpc()
    with pytest.raises(TypeError):
        rpc.call(m.HeartbeatResponse(current_time=datetime(2026, 1, 1, tzinfo=UTC)))
    with pytest.raises(TypeError):
        rpc.call({"action": "Heartbeat"})  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"not an OCPP 1\.6 action"):
        rpc.call_payload("Teleport", {})
    with pytest.raises(ValueError, match="unique id"):
        rpc.call_payload("Heartbeat", {}, unique_id="x" * 37)
    with pytest.raises(ValueError, match="unique id"):
        rpc.call_payload("Heartbeat", {}, unique_id="")
    assert rpc.outstanding is None


def test_unsupported_actions_at_construction_are_refused():
    with pytest.raises(ValueError, match="Rest"):
        Rpc(MessageIds(), V16, {"Reset", "Rest"})


def test_reply_checks_the_response_type_and_ends_the_handling():
    rpc = new_rpc()
    event = rpc.receive('[2,"cs-1","Reset",{"type":"Hard"}]')
    assert event == IncomingCall("cs-1", "Reset", m.ResetRequest(type=ResetType.HARD))
    assert rpc.handling == {"cs-1"}
    with pytest.raises(TypeError, match="ResetResponse"):
        rpc.reply("cs-1", m.ChangeConfigurationResponse(status=ConfigurationStatus.ACCEPTED))
    assert rpc.reply("cs-1", m.ResetResponse(status=ResetStatus.ACCEPTED)) == (
        '[3,"cs-1",{"status":"Accepted"}]'
    )
    assert rpc.handling == frozenset()
    with pytest.raises(KeyError, match="cs-1"):
        rpc.reply("cs-1", m.ResetResponse(status=ResetStatus.ACCEPTED))
    with pytest.raises(KeyError):
        rpc.reply_error("cs-1", OcppError(Violation.HANDLER_FAILED))


def test_a_unique_id_can_be_reused_once_its_call_was_answered():
    rpc = new_rpc()
    rpc.receive('[2,"cs-1","Reset",{"type":"Hard"}]')
    assert isinstance(rpc.receive('[2,"cs-1","Reset",{"type":"Soft"}]'), Reply)
    rpc.reply_error("cs-1", OcppError(Violation.NOT_PERMITTED, "not accepted yet"))
    assert isinstance(rpc.receive('[2,"cs-1","Reset",{"type":"Soft"}]'), IncomingCall)


def test_a_refused_call_is_not_awaiting_a_reply():
    rpc = new_rpc()
    event = rpc.receive('[2,"cs-1","Reset",{"type":"Medium"}]')
    assert isinstance(event, Reply)
    assert rpc.handling == frozenset()


@pytest.mark.parametrize(
    "text",
    [
        "not json",
        '{"a":1}',
        '[9,"x",{}]',
        '[2,17,"Reset",{}]',
        '[3,"cp-1"]',
        '[4,"cp-1","GenericError"]',
    ],
)
def test_frames_that_ask_nothing_are_ignored_and_change_nothing(text):
    rpc = new_rpc()
    _, pending = rpc.call(m.HeartbeatRequest())
    event = rpc.receive(text)
    assert isinstance(event, Ignored)
    assert event.reason
    assert rpc.outstanding == pending


def test_unsupported_action_is_not_supported_even_with_a_broken_payload():
    rpc = new_rpc("Reset")
    event = rpc.receive('[2,"cs-1","SetChargingProfile",{"garbage":true}]')
    assert isinstance(event, Reply)
    assert json.loads(event.text) == [
        4,
        "cs-1",
        "NotSupported",
        "SetChargingProfile is not supported",
        {},
    ]


def test_repr_shows_both_directions():
    rpc = new_rpc()
    rpc.call(BOOT)
    rpc.receive('[2,"cs-1","Reset",{"type":"Hard"}]')
    text = repr(rpc)
    assert "outstanding=BootNotification cp-1" in text
    assert "handling=[Reset cs-1]" in text
    assert "outstanding=none" in repr(new_rpc())
