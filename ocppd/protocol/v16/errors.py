"""The CALLERROR codes of OCPP-J 1.6 and the one table from a `Violation` to them.

`VIOLATION_CODES` decides, in one place, which 1.6 code answers each reason a CALL
is refused; the RPC state reads it through the 1.6 dialect (``V16.error_codes``),
and the tests walk it row by row.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType

from ocppd.protocol.errors import Violation


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
        Violation.OUT_OF_BOUNDS: ErrorCode.PROPERTY_CONSTRAINT_VIOLATION,  # no 1.6 schema has it
        Violation.TOO_MANY_ITEMS: ErrorCode.OCCURENCE_CONSTRAINT_VIOLATION,
        Violation.NOT_PERMITTED: ErrorCode.SECURITY_ERROR,
        Violation.UNKNOWN_TARGET: ErrorCode.PROPERTY_CONSTRAINT_VIOLATION,
        Violation.BUSY: ErrorCode.GENERIC_ERROR,
        Violation.HANDLER_FAILED: ErrorCode.INTERNAL_ERROR,
    }
)
"""Which 1.6 CALLERROR code answers each `Violation`: the one table.

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
- What this charge point accepts. More items than it handles at once (more keys
  than GetConfigurationMaxKeys) breaks an occurrence constraint the schema
  cannot state: OccurenceConstraintViolation. A call a security rule forbids is
  SecurityError ("a security issue occurred preventing receiver from completing
  the Action successfully"). A connector the charge point does not have, named
  in SetChargingProfile, is "an invalid value for connectorId":
  PropertyConstraintViolation [ERR16 §3.39].
- Our side. An exception escaping a handler is InternalError ("the receiver
  was not able to process the requested Action successfully"); more calls at
  once than we queue is GenericError ("any other error not covered by the
  previous ones").
"""


__all__ = ["VIOLATION_CODES", "ErrorCode"]
