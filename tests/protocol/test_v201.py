"""OCPP 2.0.1 as a dialect: the generated messages match their generator, payloads are
validated like 1.6's, and refusals are spelled in 2.0.1's CALLERROR codes."""

from __future__ import annotations

import importlib.util
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType

import ocpp.v201
import pytest
from ocpp.messages import Call, _validate_payload

from ocppd.protocol.errors import OcppError, Violation
from ocppd.protocol.frames import CallError, parse_frame
from ocppd.protocol.ids import MessageIds
from ocppd.protocol.rpc import IncomingCall, Reply, Rpc
from ocppd.protocol.v201 import enums as e
from ocppd.protocol.v201 import messages as m
from ocppd.protocol.v201.dialect import V201
from ocppd.protocol.v201.errors import VIOLATION_CODES

REPO = Path(__file__).resolve().parents[2]
GENERATED = REPO / "ocppd" / "protocol" / "v201"


def load_generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen_v201", REPO / "tools" / "gen_v201.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["gen_v201"] = module
    spec.loader.exec_module(module)
    return module


def test_committed_files_are_exactly_what_the_generator_writes(tmp_path):
    gen = load_generator()
    written = {path.name: path for path in gen.write(tmp_path, gen.generate(gen.schema_dir()))}
    assert set(written) == {"enums.py", "messages.py", "schemas.py"}
    for name, path in written.items():
        committed = (GENERATED / name).read_text(encoding="utf-8")
        assert path.read_text(encoding="utf-8") == committed, f"{name}: run tools/gen_v201.py"


def test_the_dialect_has_every_2_0_1_action_with_both_directions():
    assert V201.subprotocol == "ocpp2.0.1"
    assert len(V201.actions) == 64
    assert {"BootNotification", "TransactionEvent", "GetVariables"} <= V201.actions
    assert V201.requests["StatusNotification"] is m.StatusNotificationRequest
    assert V201.responses["Reset"] is m.ResetResponse


# The decisions, written out independently of the table [OCPP-J 2.0.1 §4.3].
DECIDED = {
    Violation.NESTED_TOO_DEEPLY: "FormatViolation",
    Violation.CALL_INCOMPLETE: "RpcFrameworkError",
    Violation.CALL_TOO_MANY_ELEMENTS: "RpcFrameworkError",
    Violation.UNIQUE_ID_TOO_LONG: "RpcFrameworkError",
    Violation.DUPLICATE_UNIQUE_ID: "RpcFrameworkError",
    Violation.ACTION_NOT_STRING: "RpcFrameworkError",
    Violation.PAYLOAD_NOT_OBJECT: "FormatViolation",
    Violation.UNKNOWN_ACTION: "NotImplemented",
    Violation.UNSUPPORTED_ACTION: "NotSupported",
    Violation.ADDITIONAL_PROPERTY: "FormatViolation",
    Violation.MISSING_PROPERTY: "OccurrenceConstraintViolation",
    Violation.TOO_FEW_ITEMS: "OccurrenceConstraintViolation",
    Violation.WRONG_TYPE: "TypeConstraintViolation",
    Violation.STRING_TOO_LONG: "TypeConstraintViolation",
    Violation.NUMBER_OUT_OF_RANGE: "TypeConstraintViolation",
    Violation.NOT_IN_ENUM: "PropertyConstraintViolation",
    Violation.BAD_DATE_TIME: "PropertyConstraintViolation",
    Violation.BAD_URI: "PropertyConstraintViolation",
    Violation.NOT_MULTIPLE_OF: "PropertyConstraintViolation",
    Violation.OUT_OF_BOUNDS: "PropertyConstraintViolation",
    Violation.TOO_MANY_ITEMS: "OccurrenceConstraintViolation",
    Violation.NOT_PERMITTED: "SecurityError",
    Violation.UNKNOWN_TARGET: "PropertyConstraintViolation",
    Violation.BUSY: "GenericError",
    Violation.HANDLER_FAILED: "InternalError",
}


@pytest.mark.parametrize("violation", list(Violation), ids=lambda v: v.name)
def test_each_violation_is_spelled_as_decided(violation):
    assert VIOLATION_CODES[violation].value == DECIDED[violation]


def call(action: str, payload: object, unique_id: str = "c1") -> str:
    return json.dumps([2, unique_id, action, payload])


FRAMES = {
    Violation.ADDITIONAL_PROPERTY: call("Reset", {"type": "OnIdle", "when": "now"}),
    Violation.MISSING_PROPERTY: call("Reset", {}),
    Violation.WRONG_TYPE: call("Reset", {"type": "OnIdle", "evseId": "1"}),
    Violation.NOT_IN_ENUM: call("Reset", {"type": "Soft"}),  # 1.6's word, not 2.0.1's
    Violation.STRING_TOO_LONG: call(
        "GetVariables",
        {"getVariableData": [{"component": {"name": "C" * 51}, "variable": {"name": "V"}}]},
    ),
    Violation.TOO_FEW_ITEMS: call("GetVariables", {"getVariableData": []}),
    Violation.TOO_MANY_ITEMS: call(
        "GetReport", {"requestId": 1, "componentCriteria": ["Active"] * 5}
    ),
    Violation.BAD_DATE_TIME: call(
        "ReserveNow",
        {"id": 1, "expiryDateTime": "tomorrow", "idToken": {"idToken": "A", "type": "Central"}},
    ),
    Violation.CALL_INCOMPLETE: json.dumps([2, "c1", "Reset"]),
    Violation.UNKNOWN_ACTION: call("RemoteStartTransaction", {"idTag": "A"}),
    Violation.UNSUPPORTED_ACTION: call("UnlockConnector", {"evseId": 1, "connectorId": 1}),
}


@pytest.mark.parametrize("violation", list(FRAMES), ids=lambda v: v.name)
def test_a_bad_call_is_answered_with_the_2_0_1_code(violation):
    rpc = Rpc(MessageIds("t"), V201, {"Reset", "GetVariables", "GetReport", "ReserveNow"})
    event = rpc.receive(FRAMES[violation])
    assert isinstance(event, Reply), event
    error = parse_frame(event.text)
    assert isinstance(error, CallError)
    assert error.code == DECIDED[violation]


def test_a_good_call_is_typed():
    rpc = Rpc(MessageIds("t"), V201, {"Reset"})
    event = rpc.receive(call("Reset", {"type": "OnIdle", "evseId": 1}))
    assert isinstance(event, IncomingCall)
    assert event.request == m.ResetRequest(type=e.ResetEnumType.ON_IDLE, evse_id=1)


def test_a_number_outside_minimum_and_maximum_is_out_of_bounds():
    needs = {
        "evseId": 1,
        "chargingNeeds": {
            "requestedEnergyTransfer": "DC",
            "dcChargingParameters": {
                "evMaxCurrent": 100,
                "evMaxVoltage": 400,
                "stateOfCharge": 101,
            },
        },
    }
    with pytest.raises(OcppError) as caught:
        V201.decode_request("NotifyEVChargingNeeds", needs)
    assert caught.value.violation is Violation.OUT_OF_BOUNDS
    assert caught.value.details == {"path": "chargingNeeds.dcChargingParameters.stateOfCharge"}
    assert V201.code_of(caught.value) == "PropertyConstraintViolation"
    needs["chargingNeeds"]["dcChargingParameters"]["stateOfCharge"] = 100  # type: ignore[index]
    V201.decode_request("NotifyEVChargingNeeds", needs)


def test_custom_data_may_carry_a_vendors_own_properties():
    payload = {"customData": {"vendorId": "acme", "colour": "green"}, "type": "Immediate"}
    request = V201.decode_request("Reset", payload)
    assert request.custom_data == m.CustomDataType(vendor_id="acme")
    with pytest.raises(OcppError) as caught:  # but vendorId stays required
        V201.decode_request("Reset", {"customData": {"colour": "green"}, "type": "Immediate"})
    assert caught.value.violation is Violation.MISSING_PROPERTY


def test_data_transfer_data_is_any_json_passed_on_as_it_came():
    payload = {"vendorId": "acme", "data": [1, {"a": None}]}
    assert V201.to_payload(V201.decode_request("DataTransfer", payload)) == payload


def test_what_the_charging_station_sends_passes_the_ocpp_package_schemas():
    """The payloads we build are valid for the independent 2.0.1 implementation."""
    when = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)
    sent = [
        m.BootNotificationRequest(
            charging_station=m.ChargingStationType(model="sim", vendor_name="ocppd"),
            reason=e.BootReasonEnumType.POWER_UP,
        ),
        m.HeartbeatRequest(),
        m.StatusNotificationRequest(
            timestamp=when,
            connector_status=e.ConnectorStatusEnumType.AVAILABLE,
            evse_id=1,
            connector_id=1,
        ),
    ]
    for message in sent:
        action = V201.action_of(message)
        payload = V201.to_payload(message)
        _validate_payload(Call("x", action, payload), ocpp_version="2.0.1")
        assert V201.decode_request(action, payload) == message
    assert ocpp.v201  # the package the schemas came from
