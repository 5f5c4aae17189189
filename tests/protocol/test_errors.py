"""Why a CALL is refused (neutral), and the 1.6 table from those reasons to wire codes."""

from __future__ import annotations

from ocppd.protocol.errors import OcppError, Violation
from ocppd.protocol.v16.dialect import V16
from ocppd.protocol.v16.errors import VIOLATION_CODES, ErrorCode

# The decisions, written out independently of the table: changing a row is a
# decision to take on purpose, in both places.
DECIDED = {
    Violation.NESTED_TOO_DEEPLY: "FormationViolation",
    Violation.CALL_INCOMPLETE: "ProtocolError",
    Violation.CALL_TOO_MANY_ELEMENTS: "FormationViolation",
    Violation.UNIQUE_ID_TOO_LONG: "ProtocolError",
    Violation.DUPLICATE_UNIQUE_ID: "ProtocolError",
    Violation.ACTION_NOT_STRING: "FormationViolation",
    Violation.PAYLOAD_NOT_OBJECT: "FormationViolation",
    Violation.UNKNOWN_ACTION: "NotImplemented",
    Violation.UNSUPPORTED_ACTION: "NotSupported",
    Violation.ADDITIONAL_PROPERTY: "FormationViolation",
    Violation.MISSING_PROPERTY: "OccurenceConstraintViolation",
    Violation.TOO_FEW_ITEMS: "OccurenceConstraintViolation",
    Violation.WRONG_TYPE: "TypeConstraintViolation",
    Violation.STRING_TOO_LONG: "TypeConstraintViolation",
    Violation.NUMBER_OUT_OF_RANGE: "TypeConstraintViolation",
    Violation.NOT_IN_ENUM: "PropertyConstraintViolation",
    Violation.BAD_DATE_TIME: "PropertyConstraintViolation",
    Violation.BAD_URI: "PropertyConstraintViolation",
    Violation.NOT_MULTIPLE_OF: "PropertyConstraintViolation",
    Violation.OUT_OF_BOUNDS: "PropertyConstraintViolation",
    Violation.TOO_MANY_ITEMS: "OccurenceConstraintViolation",
    Violation.NOT_PERMITTED: "SecurityError",
    Violation.UNKNOWN_TARGET: "PropertyConstraintViolation",
    Violation.BUSY: "GenericError",
    Violation.HANDLER_FAILED: "InternalError",
}


def test_every_violation_has_a_row():
    assert set(VIOLATION_CODES) == set(Violation)


def test_table_holds_the_decided_codes():
    assert {v: code.value for v, code in VIOLATION_CODES.items()} == DECIDED


def test_the_16_dialect_answers_with_this_table():
    assert V16.error_codes is VIOLATION_CODES


def test_error_codes_are_spelled_as_in_ocpp_j_1_6():
    assert [code.value for code in ErrorCode] == [
        "NotImplemented",
        "NotSupported",
        "InternalError",
        "ProtocolError",
        "SecurityError",
        "FormationViolation",
        "PropertyConstraintViolation",
        "OccurenceConstraintViolation",
        "TypeConstraintViolation",
        "GenericError",
    ]
    assert ErrorCode.OCCURENCE_CONSTRAINT_VIOLATION == "OccurenceConstraintViolation"


def test_ocpp_error_from_violation_takes_the_code_from_the_table():
    error = OcppError(Violation.NOT_IN_ENUM, "type: 'Medium' is not ...", {"a": 1})
    assert V16.code_of(error) is ErrorCode.PROPERTY_CONSTRAINT_VIOLATION
    assert error.description == "type: 'Medium' is not ..."
    assert error.details == {"a": 1}


def test_ocpp_error_details_default_to_a_fresh_empty_dict():
    first, second = OcppError(Violation.BUSY), OcppError(Violation.BUSY)
    first.details["x"] = 1
    assert second.details == {}
    assert second.description == ""


def test_ocpp_error_reads_well_in_logs():
    # no OCPP version's spelling: the session logs the code its dialect answers with
    error = OcppError(Violation.NOT_PERMITTED, "not accepted yet")
    assert str(error) == "NOT_PERMITTED: not accepted yet"
    assert repr(error) == "OcppError(Violation.NOT_PERMITTED, 'not accepted yet', {})"
    assert str(OcppError(Violation.BUSY)) == "BUSY"
