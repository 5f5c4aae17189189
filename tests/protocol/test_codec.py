"""Typed messages to and from payloads, checked against the ocpp package's own schemas."""

from __future__ import annotations

import copy
import dataclasses
import inspect
import json
import pickle
from collections.abc import Iterator
from dataclasses import FrozenInstanceError
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft4Validator
from ocpp.messages import Call as OcppCall
from ocpp.messages import CallResult as OcppCallResult
from ocpp.messages import _validate_payload

from ocppd.protocol.errors import OcppError
from ocppd.protocol.v16 import messages as m
from ocppd.protocol.v16.codec import (
    ACTIONS,
    REQUESTS,
    RESPONSES,
    action_of,
    decode_request,
    decode_response,
    to_payload,
    validate_request,
    validate_response,
)
from ocppd.protocol.v16.dialect import V16
from ocppd.protocol.v16.enums import (
    Action,
    AuthorizationStatus,
    ChargingRateUnitType,
    GetCompositeScheduleStatus,
    Measurand,
    Phase,
    ReadingContext,
    UnitOfMeasure,
)
from ocppd.protocol.v16.errors import ErrorCode

from . import examples

SCHEMAS = Path(str(resources.files("ocpp") / "v16" / "schemas"))
ALL = sorted(ACTIONS)


def official_schema(action: str, request: bool) -> dict[str, Any]:
    name = action if request else f"{action}Response"
    return json.loads((SCHEMAS / f"{name}.json").read_text(encoding="utf-8"))


def check_with_ocpp_package(action: str, payload: dict[str, Any], request: bool) -> None:
    """The ocpp package's validation (jsonschema draft 4 on its schema files); raises if bad."""
    message = OcppCall("1", action, payload) if request else OcppCallResult("1", payload, action)
    _validate_payload(message, ocpp_version="1.6")


def test_there_are_39_actions_and_a_class_per_direction():
    assert len(ACTIONS) == 39
    assert set(REQUESTS) == set(RESPONSES) == ACTIONS == {a.value for a in Action}
    assert REQUESTS["BootNotification"] is m.BootNotificationRequest
    assert RESPONSES["BootNotification"] is m.BootNotificationResponse


def test_examples_cover_every_action():
    assert set(examples.REQUESTS) == set(examples.RESPONSES) == ACTIONS


@pytest.mark.parametrize("action", ALL)
def test_request_example_round_trips_and_passes_the_ocpp_package_validation(action):
    payload = examples.REQUESTS[action]
    message = decode_request(action, copy.deepcopy(payload))
    assert type(message) is REQUESTS[action]
    assert action_of(message) == action
    sent = to_payload(message)
    assert json.dumps(sent) == json.dumps(payload)
    check_with_ocpp_package(action, sent, request=True)


@pytest.mark.parametrize("action", ALL)
def test_response_example_round_trips_and_passes_the_ocpp_package_validation(action):
    payload = examples.RESPONSES[action]
    message = decode_response(action, copy.deepcopy(payload))
    assert type(message) is RESPONSES[action]
    assert action_of(message) == action
    sent = to_payload(message)
    assert json.dumps(sent) == json.dumps(payload)
    check_with_ocpp_package(action, sent, request=False)


def test_decoded_messages_are_typed():
    message = decode_request("MeterValues", examples.REQUESTS["MeterValues"])
    assert message.connector_id == 1
    (meter_value,) = message.meter_value
    assert meter_value.timestamp == datetime(2026, 11, 21, 10, 15, 0, 250000, tzinfo=UTC)
    energy, current, voltage, _ = meter_value.sampled_value
    assert energy.measurand is Measurand.ENERGY_ACTIVE_IMPORT_REGISTER
    assert energy.context is ReadingContext.SAMPLE_PERIODIC
    assert current.phase is Phase.L1
    assert voltage.phase is Phase.L1_N
    assert voltage.unit is UnitOfMeasure.V
    assert voltage.location is None


def test_numbers_decode_as_float_and_integers_stay_int():
    schedule = decode_response(
        "GetCompositeSchedule", examples.RESPONSES["GetCompositeSchedule"]
    ).charging_schedule
    period = schedule.charging_schedule_period[0]
    assert type(period.limit) is float
    assert type(period.start_period) is int
    whole = decode_request(
        "RemoteStartTransaction",
        {
            "idTag": "A",
            "chargingProfile": {
                "chargingProfileId": 1,
                "stackLevel": 0,
                "chargingProfilePurpose": "TxProfile",
                "chargingProfileKind": "Absolute",
                "chargingSchedule": {
                    "chargingRateUnit": "A",
                    "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 16}],
                },
            },
        },
    )
    assert whole.charging_profile.charging_schedule.charging_schedule_period[0].limit == 16.0


def test_to_payload_from_constructed_messages():
    message = m.StartTransactionResponse(
        id_tag_info=m.IdTagInfo(
            status=AuthorizationStatus.ACCEPTED,
            expiry_date=datetime(2026, 12, 31, 23, 59, 59, tzinfo=UTC),
        ),
        transaction_id=7,
    )
    payload = to_payload(message)
    assert payload == {
        "idTagInfo": {"expiryDate": "2026-12-31T23:59:59Z", "status": "Accepted"},
        "transactionId": 7,
    }
    assert type(payload["idTagInfo"]["status"]) is str
    check_with_ocpp_package("StartTransaction", payload, request=False)
    assert to_payload(m.HeartbeatRequest()) == {}


def test_to_payload_writes_arrays_as_lists():
    message = m.GetConfigurationRequest(key=("A", "B"))
    assert to_payload(message) == {"key": ["A", "B"]}
    assert type(to_payload(message)["key"]) is list


def test_to_payload_rounds_numbers_to_the_schemas_multiple_of():
    limit = 0.1 + 0.2  # 0.30000000000000004: the ocpp package refuses it as not a multiple of 0.1
    schedule = m.ChargingSchedule(
        charging_rate_unit=ChargingRateUnitType.A,
        charging_schedule_period=(m.ChargingSchedulePeriod(start_period=0, limit=limit),),
        min_charging_rate=6,
    )
    message = m.GetCompositeScheduleResponse(
        status=GetCompositeScheduleStatus.ACCEPTED, charging_schedule=schedule
    )
    payload = to_payload(message)
    assert payload["chargingSchedule"]["chargingSchedulePeriod"][0]["limit"] == 0.3
    assert json.dumps(payload["chargingSchedule"]["minChargingRate"]) == "6"
    check_with_ocpp_package("GetCompositeSchedule", payload, request=False)


def test_to_payload_and_action_of_refuse_other_objects():
    with pytest.raises(TypeError):
        to_payload({"idTag": "A"})  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        action_of(m.IdTagInfo(status=AuthorizationStatus.ACCEPTED))


def test_messages_are_frozen_and_slotted():
    for cls in [*REQUESTS.values(), *RESPONSES.values(), m.IdTagInfo, m.SampledValue]:
        assert "__slots__" in vars(cls), cls
        assert dataclasses.is_dataclass(cls), cls
    message = m.AuthorizeRequest(id_tag="A")
    assert not hasattr(message, "__dict__")
    with pytest.raises(FrozenInstanceError):
        message.id_tag = "B"  # type: ignore[misc]
    with pytest.raises(FrozenInstanceError):
        del message.id_tag  # type: ignore[misc]


def test_messages_behave_as_dataclasses():
    info = m.IdTagInfo(AuthorizationStatus.BLOCKED, parent_id_tag="P")
    assert [f.name for f in dataclasses.fields(info)] == ["status", "expiry_date", "parent_id_tag"]
    assert dataclasses.replace(info, status=AuthorizationStatus.ACCEPTED) == m.IdTagInfo(
        AuthorizationStatus.ACCEPTED, None, "P"
    )
    assert dataclasses.asdict(m.AuthorizeResponse(info)) == {
        "id_tag_info": {"status": "Blocked", "expiry_date": None, "parent_id_tag": "P"}
    }
    assert repr(info) == (
        "IdTagInfo(status=<AuthorizationStatus.BLOCKED: 'Blocked'>, expiry_date=None, "
        "parent_id_tag='P')"
    )
    assert repr(m.HeartbeatRequest()) == "HeartbeatRequest()"


def test_messages_compare_hash_copy_and_pickle_by_value():
    message = decode_request("MeterValues", examples.REQUESTS["MeterValues"])
    same = decode_request("MeterValues", examples.REQUESTS["MeterValues"])
    assert message == same and message is not same
    assert hash(message) == hash(same)
    assert message != m.MeterValuesRequest(2, message.meter_value)
    assert m.HeartbeatRequest() == m.HeartbeatRequest() != m.HeartbeatResponse(datetime.now(UTC))
    assert copy.copy(message) == copy.deepcopy(message) == pickle.loads(pickle.dumps(message))


def test_messages_match_by_position_in_field_order():
    match m.StartTransactionResponse(m.IdTagInfo(AuthorizationStatus.ACCEPTED), 42):
        case m.StartTransactionResponse(m.IdTagInfo(status), transaction_id):
            assert (status, transaction_id) == (AuthorizationStatus.ACCEPTED, 42)
        case _:
            pytest.fail("no match")


def test_required_fields_come_first_and_optional_ones_default_to_none():
    parameters = list(inspect.signature(m.StopTransactionRequest).parameters.values())
    names = [p.name for p in parameters]
    assert names[:3] == ["meter_stop", "timestamp", "transaction_id"]
    assert all(p.default is inspect.Parameter.empty for p in parameters[:3])
    assert all(p.default is None for p in parameters[3:])
    assert tuple(names) == m.StopTransactionRequest.__match_args__


# -- violations -------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Rejected:
    """The codec's `OcppError` as the 1.6 dialect answers it: ``code`` is the wire code."""

    code: ErrorCode
    description: str
    details: dict[str, Any]


def rejects(action: str, payload: Any, request: bool = True) -> Rejected:
    with pytest.raises(OcppError) as caught:
        (validate_request if request else validate_response)(action, payload)
    error = caught.value
    return Rejected(ErrorCode(V16.code_of(error)), error.description, error.details)


def test_description_names_the_property_path():
    error = rejects("Authorize", {"idTagInfo": {"status": "Maybe"}}, request=False)
    assert error.code is ErrorCode.PROPERTY_CONSTRAINT_VIOLATION
    assert error.description == (
        "idTagInfo.status: 'Maybe' is not one of Accepted, Blocked, Expired, Invalid, ConcurrentTx"
    )
    assert error.details == {"path": "idTagInfo.status"}


def test_path_includes_array_indices():
    payload = copy.deepcopy(examples.REQUESTS["MeterValues"])
    payload["meterValue"][0]["sampledValue"][2]["unit"] = "Volts"
    error = rejects("MeterValues", payload)
    assert error.details == {"path": "meterValue[0].sampledValue[2].unit"}
    assert error.description.startswith("meterValue[0].sampledValue[2].unit: 'Volts' is not")


def test_an_enum_narrower_in_one_message_is_checked_per_message():
    # StopTransaction's copy of the unit enum lacks "Hertz", MeterValues' has it
    sample = {
        "timestamp": "2026-11-21T10:00:00Z",
        "sampledValue": [{"value": "50", "unit": "Hertz"}],
    }
    validate_request("MeterValues", {"connectorId": 1, "meterValue": [sample]})
    stop = {"meterStop": 1, "timestamp": "2026-11-21T10:00:00Z", "transactionId": 1}
    error = rejects("StopTransaction", {**stop, "transactionData": [sample]})
    assert error.details == {"path": "transactionData[0].sampledValue[0].unit"}


def test_first_violation_wins_additional_then_required_then_properties_in_order():
    error = rejects("ReserveNow", {"connectorId": "1", "colour": "red"})
    assert (error.code, error.details["path"]) == (ErrorCode.FORMATION_VIOLATION, "colour")
    error = rejects("ReserveNow", {"connectorId": "1"})
    assert (error.code, error.details["path"]) == (
        ErrorCode.OCCURENCE_CONSTRAINT_VIOLATION,
        "expiryDate",
    )
    valid = examples.REQUESTS["ReserveNow"]
    error = rejects("ReserveNow", {**valid, "reservationId": "x", "connectorId": "y"})
    assert error.details["path"] == "connectorId"  # payload order: connectorId comes first


def test_draft_4_types_integer_excludes_floats_and_booleans():
    assert (
        rejects("UnlockConnector", {"connectorId": 1.0}).code is ErrorCode.TYPE_CONSTRAINT_VIOLATION
    )
    assert (
        rejects("UnlockConnector", {"connectorId": True}).code
        is ErrorCode.TYPE_CONSTRAINT_VIOLATION
    )
    error = rejects("GetConfiguration", {"configurationKey": [{"key": "A", "readonly": 0}]}, False)
    assert error.details == {"path": "configurationKey[0].readonly"}


def test_multiple_of_tolerates_float_representation():
    def period(limit: float) -> dict[str, Any]:
        return {
            "status": "Accepted",
            "chargingSchedule": {
                "chargingRateUnit": "A",
                "chargingSchedulePeriod": [{"startPeriod": 0, "limit": limit}],
            },
        }

    for limit in (21.4, 0.1 + 0.2, 7400, 1e6 + 0.1):
        validate_response("GetCompositeSchedule", period(limit))
    validate_response("GetCompositeSchedule", period(1e308))  # whole, and /0.1 is inf
    error = rejects("GetCompositeSchedule", period(10**400), request=False)
    assert error.code is ErrorCode.TYPE_CONSTRAINT_VIOLATION
    assert "401 digits" in error.description
    error = rejects("GetCompositeSchedule", period(16.05), request=False)
    assert error.code is ErrorCode.PROPERTY_CONSTRAINT_VIOLATION
    assert error.details == {"path": "chargingSchedule.chargingSchedulePeriod[0].limit"}


def test_uri_needs_a_scheme():
    base = {"retrieveDate": "2026-11-21T10:00:00Z"}
    validate_request("UpdateFirmware", {**base, "location": "ftp://user:pw@host/fw.bin"})
    for bad in ("fw.example.com/fw.bin", "/fw.bin", "https://host/a b", ""):
        error = rejects("UpdateFirmware", {**base, "location": bad})
        assert error.code is ErrorCode.PROPERTY_CONSTRAINT_VIOLATION, bad
    secret = rejects("UpdateFirmware", {**base, "location": "ftp://fw:s3cret@host/a b"})
    assert "s3cret" not in secret.description


def test_unknown_action_is_not_implemented():
    assert rejects("FlyToTheMoon", {}).code is ErrorCode.NOT_IMPLEMENTED


def test_a_payload_that_is_not_an_object_is_a_type_violation_at_the_root():
    error = rejects("Heartbeat", [])
    assert error.code is ErrorCode.TYPE_CONSTRAINT_VIOLATION
    assert error.description == "Heartbeat request: expected object, got array"
    assert error.details == {"path": ""}


def test_long_values_are_cut_in_descriptions():
    error = rejects("Authorize", {"idTag": 10**60})
    assert len(error.description) < 80


# -- differential check against the official schemas --------------------------

MUTANT = "\u0000not-a-valid-value"


def resolve(schema: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    return root["definitions"][ref.rsplit("/", 1)[1]] if ref else schema


def mutations(
    value: Any, schema: dict[str, Any], root: dict[str, Any], path: str
) -> Iterator[tuple[str, Any, str, bool]]:
    """(path, replacement or DELETE, expected code, jsonschema can see it) for one value."""
    schema = resolve(schema, root)
    kind = schema.get("type")
    wrong = {"integer": "1", "number": "1.5", "boolean": "true", "string": 7}
    if "enum" in schema:
        yield path, "NotAValue", "PropertyConstraintViolation", True
    if kind in wrong:
        yield path, wrong[kind], "TypeConstraintViolation", True
    if kind == "integer":
        yield path, 1.5, "TypeConstraintViolation", True
    if kind == "string" and "maxLength" in schema:
        yield path, "x" * (schema["maxLength"] + 1), "TypeConstraintViolation", True
    if schema.get("format") == "date-time":
        yield path, "21.11.2026 10:00", "PropertyConstraintViolation", False
    if "multipleOf" in schema:
        yield path, 0.05, "PropertyConstraintViolation", True
    if kind == "array":
        yield path, {}, "TypeConstraintViolation", True
        if schema.get("minItems"):
            yield path, [], "OccurenceConstraintViolation", True
        for index, item in enumerate(value):
            yield from mutations(item, schema["items"], root, f"{path}[{index}]")
    if kind == "object":
        yield path, "x", "TypeConstraintViolation", True
        prefix = f"{path}." if path else ""
        yield f"{prefix}unexpectedProperty", 1, "FormationViolation", True
        for name in schema.get("required", []):
            yield f"{prefix}{name}", DELETE, "OccurenceConstraintViolation", True
        for name, item in value.items():
            yield from mutations(item, schema["properties"][name], root, f"{prefix}{name}")


DELETE = object()


def apply(payload: dict[str, Any], path: str, replacement: Any) -> Any:
    """A deep copy of `payload` with the value at `path` replaced (or deleted)."""
    mutated = copy.deepcopy(payload)
    if not path:
        return replacement
    steps = path.replace("[", ".[").split(".")
    target: Any = mutated
    for step in steps[:-1]:
        target = target[int(step[1:-1])] if step.startswith("[") else target[step]
    last = steps[-1]
    key: Any = int(last[1:-1]) if last.startswith("[") else last
    if replacement is DELETE:
        del target[key]
    else:
        target[key] = replacement
    return mutated


def cases() -> list[Any]:
    return list(_cases())


def _cases() -> Iterator[Any]:
    for request, table in ((True, examples.REQUESTS), (False, examples.RESPONSES)):
        for action in ALL:
            root = official_schema(action, request)
            for path, replacement, code, visible in mutations(table[action], root, root, ""):
                if path:  # the payload itself not being an object is the frame's business
                    name = f"{action}{'' if request else 'Response'}:{path}:{code}"
                    yield pytest.param(action, request, path, replacement, code, visible, id=name)


@pytest.mark.parametrize(("action", "request_", "path", "replacement", "code", "visible"), cases())
def test_each_mutation_of_each_example_is_rejected_like_the_official_schema_does(
    action, request_, path, replacement, code, visible
):
    payload = apply(
        (examples.REQUESTS if request_ else examples.RESPONSES)[action], path, replacement
    )
    if visible:
        assert not Draft4Validator(official_schema(action, request_)).is_valid(payload)
    error = rejects(action, payload, request=request_)
    assert error.code.value == code
    assert error.details == {"path": path}
