"""OCPP-J 1.6 error codes, the problems we detect, and the one table between them.

Everything that can be wrong with an incoming frame or payload is a `Violation`.
`VIOLATION_CODES` decides, in one place, which CALLERROR code each one is
answered with; frames, validation and the RPC state all read it, and the tests
walk it row by row. Feature handlers raise `OcppError` with a code of their own
choosing (for example `SecurityError` before the charge point is accepted).
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum, StrEnum
from types import MappingProxyType
from typing import Any


class ErrorCode(StrEnum):
    """The ten CALLERROR codes of OCPP-J 1.6 [J16 §4.2.3 Table 7].

    The values are the wire strings. ``OccurenceConstraintViolation`` keeps the
    1.6 misspelling on purpose: peers compare the string [ERRJ §5.1].
    """

    NOT_IMPLEMENTED = "NotImplemented"
    NOT_SUPPORTED = "NotSupported"
    INTERNAL_ERROR = "InternalError"
    PROTOCOL_ERROR = "ProtocolError"
    SECURITY_ERROR = "SecurityError"
    FORMATION_VIOLATION = "FormationViolation"
    PROPERTY_CONSTRAINT_VIOLATION = "PropertyConstraintViolation"
    OCCURENCE_CONSTRAINT_VIOLATION = "OccurenceConstraintViolation"
    TYPE_CONSTRAINT_VIOLATION = "TypeConstraintViolation"
    GENERIC_ERROR = "GenericError"


class Violation(Enum):
    """Every kind of problem we detect in an incoming CALL, its frame or its payload.

    Problems that cannot be answered (text that is not JSON, an unknown
    MessageTypeId, a malformed CALLRESULT) are not violations: there is nobody
    to send a CALLERROR to, so the caller logs and ignores them.
    """

    # the frame (the JSON array around the payload)
    NESTED_TOO_DEEPLY = "frame nests arrays and objects deeper than any OCPP 1.6 PDU"
    CALL_INCOMPLETE = "CALL frame has fewer than 4 elements"
    CALL_TOO_MANY_ELEMENTS = "CALL frame has more than 4 elements"
    UNIQUE_ID_TOO_LONG = "unique id longer than 36 characters"
    DUPLICATE_UNIQUE_ID = "unique id of a CALL that is still being handled"
    ACTION_NOT_STRING = "action is not a string"
    PAYLOAD_NOT_OBJECT = "payload is not a JSON object"
    # the action
    UNKNOWN_ACTION = "action is not an OCPP 1.6 action"
    UNSUPPORTED_ACTION = "OCPP 1.6 action this charge point does not handle"
    # the payload, against the action's schema
    ADDITIONAL_PROPERTY = "property not in the schema"
    MISSING_PROPERTY = "required property missing"
    TOO_FEW_ITEMS = "array has fewer items than minItems"
    WRONG_TYPE = "value has the wrong JSON type"
    STRING_TOO_LONG = "string longer than its maxLength"
    NUMBER_OUT_OF_RANGE = "number too large for a decimal (a double)"
    NOT_IN_ENUM = "value is not one of the enumerated values"
    BAD_DATE_TIME = "string is not an RFC 3339 date-time"
    BAD_URI = "string is not a URI"
    NOT_MULTIPLE_OF = "number is not a multiple of multipleOf"
    # our side
    HANDLER_FAILED = "unexpected exception in a handler"


VIOLATION_CODES: Mapping[Violation, ErrorCode] = MappingProxyType(
    {
        Violation.NESTED_TOO_DEEPLY: ErrorCode.FORMATION_VIOLATION,
        Violation.CALL_INCOMPLETE: ErrorCode.PROTOCOL_ERROR,
        Violation.CALL_TOO_MANY_ELEMENTS: ErrorCode.FORMATION_VIOLATION,
        Violation.UNIQUE_ID_TOO_LONG: ErrorCode.PROTOCOL_ERROR,
        Violation.DUPLICATE_UNIQUE_ID: ErrorCode.PROTOCOL_ERROR,
        Violation.ACTION_NOT_STRING: ErrorCode.FORMATION_VIOLATION,
        Violation.PAYLOAD_NOT_OBJECT: ErrorCode.FORMATION_VIOLATION,
        Violation.UNKNOWN_ACTION: ErrorCode.NOT_IMPLEMENTED,
        Violation.UNSUPPORTED_ACTION: ErrorCode.NOT_SUPPORTED,
        Violation.ADDITIONAL_PROPERTY: ErrorCode.FORMATION_VIOLATION,
        Violation.MISSING_PROPERTY: ErrorCode.OCCURENCE_CONSTRAINT_VIOLATION,
        Violation.TOO_FEW_ITEMS: ErrorCode.OCCURENCE_CONSTRAINT_VIOLATION,
        Violation.WRONG_TYPE: ErrorCode.TYPE_CONSTRAINT_VIOLATION,
        Violation.STRING_TOO_LONG: ErrorCode.TYPE_CONSTRAINT_VIOLATION,
        Violation.NUMBER_OUT_OF_RANGE: ErrorCode.TYPE_CONSTRAINT_VIOLATION,
        Violation.NOT_IN_ENUM: ErrorCode.PROPERTY_CONSTRAINT_VIOLATION,
        Violation.BAD_DATE_TIME: ErrorCode.PROPERTY_CONSTRAINT_VIOLATION,
        Violation.BAD_URI: ErrorCode.PROPERTY_CONSTRAINT_VIOLATION,
        Violation.NOT_MULTIPLE_OF: ErrorCode.PROPERTY_CONSTRAINT_VIOLATION,
        Violation.HANDLER_FAILED: ErrorCode.INTERNAL_ERROR,
    }
)
"""Which CALLERROR code answers each `Violation`: the one table.

J16 §4.2.3 Table 7 defines the codes by what is wrong, not by which rule
was broken, and leaves the edges to us [ERRJ]. The reasoning per row:

- The envelope. ProtocolError means "payload for Action is incomplete": a CALL
  with fewer than 4 elements is exactly that. An envelope that is present but
  not shaped like the PDU (extra elements, an action that is not a string, a
  payload that is not an object) is FormationViolation ("syntactically
  incorrect or not conform the PDU structure"); so is a frame nested deeper
  than any 1.6 PDU, refused before it is decoded (its unique id is read from
  the start of the text). §4.2.3 names "unique identifier too long" and "a
  call with the same unique identifier is being handled already" as CALLERROR
  cases without a code; both are faults of the
  RPC protocol itself rather than of the payload, so ProtocolError. The too-long
  id is answered with the id as received, so the peer can match the error.
- The action. NotImplemented is "Action is not known by receiver": a name that
  is no OCPP 1.6 action. NotSupported is "recognized but not supported": a 1.6
  action (security white paper included) this charge point has no handler for;
  its payload is not validated first [ERRJ §3.9 example].
- The payload. A property the schema does not list (all 1.6 schemas say
  additionalProperties false [ERRJ §3.2]) makes the payload "not conform the
  PDU structure": FormationViolation. A missing required property or an array
  below minItems breaks an occurrence constraint: OccurenceConstraintViolation.
  A value of the wrong JSON type is TypeConstraintViolation (Table 7's own
  example); so is a string over its maxLength, because CiString20Type and its
  siblings are data types whose definition includes the length, and for the
  same reason a number too large for the decimal type (beyond a double). A
  value of the right type that the field does not allow (not in the enum, not
  a date-time, not a URI, not a multiple of multipleOf) is "a field contains
  an invalid value": PropertyConstraintViolation [ERR16 §3.24, §3.38].
- Our side. An exception escaping a handler is InternalError ("the receiver
  was not able to process the requested Action successfully").
"""


class OcppError(Exception):
    """A CALL cannot be answered with a CALLRESULT; the RPC layer sends a CALLERROR.

    Raised by payload validation and by feature handlers. ``details`` is the
    errorDetails object of the CALLERROR and must be JSON-serialisable.
    """

    code: ErrorCode
    description: str
    details: dict[str, Any]

    def __init__(
        self, code: ErrorCode, description: str = "", details: dict[str, Any] | None = None
    ) -> None:
        super().__init__(code, description)
        self.code = code
        self.description = description
        self.details = {} if details is None else details

    @classmethod
    def from_violation(
        cls, violation: Violation, description: str, details: dict[str, Any] | None = None
    ) -> OcppError:
        """Build the error for `violation`, with its code from `VIOLATION_CODES`."""
        return cls(VIOLATION_CODES[violation], description, details)

    def __str__(self) -> str:
        return f"{self.code}: {self.description}" if self.description else str(self.code)

    def __repr__(self) -> str:
        return f"OcppError({self.code.value!r}, {self.description!r}, {self.details!r})"
