"""Every row of the 1.6 VIOLATION_CODES, exercised by real frame text through Rpc.receive."""

from __future__ import annotations

import json

import pytest

from ocppd.protocol.errors import OcppError, Violation
from ocppd.protocol.frames import CallError, parse_frame
from ocppd.protocol.ids import MessageIds
from ocppd.protocol.rpc import IncomingCall, Reply, Rpc
from ocppd.protocol.v16.dialect import V16
from ocppd.protocol.v16.errors import VIOLATION_CODES

SUPPORTED = {
    "ChangeAvailability",
    "ChangeConfiguration",
    "GetConfiguration",
    "MeterValues",  # not something a CSMS sends; the only CALL with minItems
    "Reset",
    "ReserveNow",
    "SetChargingProfile",
    "UpdateFirmware",
}
LONG_ID = "0123456789abcdef0123456789abcdef-long"  # 37 characters


def profile(limit: float) -> dict:
    return {
        "connectorId": 1,
        "csChargingProfiles": {
            "chargingProfileId": 1,
            "stackLevel": 0,
            "chargingProfilePurpose": "TxDefaultProfile",
            "chargingProfileKind": "Absolute",
            "chargingSchedule": {
                "chargingRateUnit": "A",
                "chargingSchedulePeriod": [{"startPeriod": 0, "limit": limit}],
            },
        },
    }


def call(action: str, payload: object, unique_id: str = "c1") -> str:
    return json.dumps([2, unique_id, action, payload])


# violation -> (frames received in order, the last one is answered with a CALLERROR)
FRAMES: dict[Violation, list[str]] = {
    Violation.NESTED_TOO_DEEPLY: ['[2,"c1","Reset",{"type":' + "[" * 20 + "]" * 20 + "}]"],
    Violation.CALL_INCOMPLETE: ['[2,"c1","Reset"]'],
    Violation.CALL_TOO_MANY_ELEMENTS: ['[2,"c1","Reset",{"type":"Soft"},{}]'],
    Violation.UNIQUE_ID_TOO_LONG: [call("Reset", {"type": "Soft"}, LONG_ID)],
    Violation.DUPLICATE_UNIQUE_ID: [
        call("Reset", {"type": "Soft"}),
        call("Reset", {"type": "Hard"}),
    ],
    Violation.ACTION_NOT_STRING: ['[2,"c1",7,{}]'],
    Violation.PAYLOAD_NOT_OBJECT: ['[2,"c1","Reset","Soft"]'],
    Violation.UNKNOWN_ACTION: [call("FlyToTheMoon", {})],
    Violation.UNSUPPORTED_ACTION: [call("SendLocalList", {"not": "validated"})],
    Violation.ADDITIONAL_PROPERTY: [call("Reset", {"type": "Soft", "when": "now"})],
    Violation.MISSING_PROPERTY: [call("ChangeAvailability", {"connectorId": 1})],
    Violation.TOO_FEW_ITEMS: [call("MeterValues", {"connectorId": 1, "meterValue": []})],
    Violation.WRONG_TYPE: [call("ChangeAvailability", {"connectorId": "1", "type": "Operative"})],
    Violation.STRING_TOO_LONG: [call("ChangeConfiguration", {"key": "K" * 51, "value": "1"})],
    Violation.NUMBER_OUT_OF_RANGE: [call("SetChargingProfile", profile(10**400))],
    Violation.NOT_IN_ENUM: [call("Reset", {"type": "Medium"})],
    Violation.BAD_DATE_TIME: [
        call(
            "ReserveNow",
            {"connectorId": 1, "expiryDate": "tomorrow", "idTag": "A", "reservationId": 1},
        )
    ],
    Violation.BAD_URI: [
        call("UpdateFirmware", {"location": "fw.bin", "retrieveDate": "2026-11-21T10:00:00Z"})
    ],
    Violation.NOT_MULTIPLE_OF: [call("SetChargingProfile", profile(16.05))],
}


# what a handler or the session decides, not the frame: the code each is answered with
HANDLERS_OWN = {
    Violation.TOO_MANY_ITEMS: "OccurenceConstraintViolation",
    Violation.NOT_PERMITTED: "SecurityError",
    Violation.UNKNOWN_TARGET: "PropertyConstraintViolation",
    Violation.BUSY: "GenericError",
    Violation.HANDLER_FAILED: "InternalError",
}


# no 1.6 schema has a minimum or a maximum: tests/protocol/test_v201.py has its frame
NOT_IN_16 = {Violation.OUT_OF_BOUNDS}


def test_every_violation_but_the_handlers_own_has_a_frame():
    assert set(FRAMES) | set(HANDLERS_OWN) | NOT_IN_16 == set(Violation)
    assert not set(FRAMES) & set(HANDLERS_OWN)


@pytest.mark.parametrize("violation", list(FRAMES), ids=lambda v: v.name)
def test_violation_is_answered_with_its_code_from_the_table(violation):
    rpc = Rpc(MessageIds("t"), V16, SUPPORTED)
    *before, last = FRAMES[violation]
    for text in before:
        assert isinstance(rpc.receive(text), IncomingCall)
    event = rpc.receive(last)
    assert isinstance(event, Reply), event
    error = parse_frame(event.text)
    assert isinstance(error, CallError)
    assert error.code == VIOLATION_CODES[violation].value
    assert error.unique_id == (LONG_ID if violation is Violation.UNIQUE_ID_TOO_LONG else "c1")
    assert error.description
    assert error.description in event.reason


def test_a_handler_failure_is_answered_internal_error():
    rpc = Rpc(MessageIds("t"), V16, SUPPORTED)
    event = rpc.receive(call("Reset", {"type": "Soft"}))
    assert isinstance(event, IncomingCall)
    failure = OcppError(Violation.HANDLER_FAILED, "ZeroDivisionError in reset")
    text = rpc.reply_error(event.unique_id, failure)
    assert json.loads(text) == [4, "c1", "InternalError", "ZeroDivisionError in reset", {}]


@pytest.mark.parametrize("violation", list(HANDLERS_OWN), ids=lambda v: v.name)
def test_a_handlers_own_violation_is_answered_with_its_code(violation):
    rpc = Rpc(MessageIds("t"), V16, SUPPORTED)
    event = rpc.receive(call("Reset", {"type": "Soft"}))
    assert isinstance(event, IncomingCall)
    text = rpc.reply_error(event.unique_id, OcppError(violation, "why", {"n": 1}))
    assert json.loads(text) == [4, "c1", HANDLERS_OWN[violation], "why", {"n": 1}]


def test_payload_violations_carry_the_path_in_details():
    rpc = Rpc(MessageIds("t"), V16, SUPPORTED)
    event = rpc.receive(FRAMES[Violation.NOT_MULTIPLE_OF][0])
    assert isinstance(event, Reply)
    path = "csChargingProfiles.chargingSchedule.chargingSchedulePeriod[0].limit"
    assert json.loads(event.text)[4] == {"path": path}
    assert path in event.reason
