"""The CALLERROR codes of OCPP-J 2.0.1 and the one table from a `Violation` to them.

2.0.1 corrects 1.6's spelling (FormatViolation, OccurrenceConstraintViolation) and adds
MessageTypeNotSupported and RpcFrameworkError [OCPP-J 2.0.1 §4.3 Table 6].
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType

from ocppd.protocol.errors import Violation


class ErrorCode(StrEnum):
    """The twelve CALLERROR codes of OCPP-J 2.0.1; the values are the wire strings."""

    FORMAT_VIOLATION = "FormatViolation"
    GENERIC_ERROR = "GenericError"
    INTERNAL_ERROR = "InternalError"
    MESSAGE_TYPE_NOT_SUPPORTED = "MessageTypeNotSupported"
    NOT_IMPLEMENTED = "NotImplemented"
    NOT_SUPPORTED = "NotSupported"
    OCCURRENCE_CONSTRAINT_VIOLATION = "OccurrenceConstraintViolation"
    PROPERTY_CONSTRAINT_VIOLATION = "PropertyConstraintViolation"
    PROTOCOL_ERROR = "ProtocolError"
    RPC_FRAMEWORK_ERROR = "RpcFrameworkError"
    SECURITY_ERROR = "SecurityError"
    TYPE_CONSTRAINT_VIOLATION = "TypeConstraintViolation"


VIOLATION_CODES: Mapping[Violation, ErrorCode] = MappingProxyType(
    {
        Violation.NESTED_TOO_DEEPLY: ErrorCode.FORMAT_VIOLATION,
        Violation.CALL_INCOMPLETE: ErrorCode.RPC_FRAMEWORK_ERROR,
        Violation.CALL_TOO_MANY_ELEMENTS: ErrorCode.RPC_FRAMEWORK_ERROR,
        Violation.UNIQUE_ID_TOO_LONG: ErrorCode.RPC_FRAMEWORK_ERROR,
        Violation.DUPLICATE_UNIQUE_ID: ErrorCode.RPC_FRAMEWORK_ERROR,
        Violation.ACTION_NOT_STRING: ErrorCode.RPC_FRAMEWORK_ERROR,
        Violation.PAYLOAD_NOT_OBJECT: ErrorCode.FORMAT_VIOLATION,
        Violation.UNKNOWN_ACTION: ErrorCode.NOT_IMPLEMENTED,
        Violation.UNSUPPORTED_ACTION: ErrorCode.NOT_SUPPORTED,
        Violation.ADDITIONAL_PROPERTY: ErrorCode.FORMAT_VIOLATION,
        Violation.MISSING_PROPERTY: ErrorCode.OCCURRENCE_CONSTRAINT_VIOLATION,
        Violation.TOO_FEW_ITEMS: ErrorCode.OCCURRENCE_CONSTRAINT_VIOLATION,
        Violation.WRONG_TYPE: ErrorCode.TYPE_CONSTRAINT_VIOLATION,
        Violation.STRING_TOO_LONG: ErrorCode.TYPE_CONSTRAINT_VIOLATION,
        Violation.NUMBER_OUT_OF_RANGE: ErrorCode.TYPE_CONSTRAINT_VIOLATION,
        Violation.NOT_IN_ENUM: ErrorCode.PROPERTY_CONSTRAINT_VIOLATION,
        Violation.BAD_DATE_TIME: ErrorCode.PROPERTY_CONSTRAINT_VIOLATION,
        Violation.BAD_URI: ErrorCode.PROPERTY_CONSTRAINT_VIOLATION,
        Violation.NOT_MULTIPLE_OF: ErrorCode.PROPERTY_CONSTRAINT_VIOLATION,
        Violation.OUT_OF_BOUNDS: ErrorCode.PROPERTY_CONSTRAINT_VIOLATION,
        Violation.TOO_MANY_ITEMS: ErrorCode.OCCURRENCE_CONSTRAINT_VIOLATION,
        Violation.NOT_PERMITTED: ErrorCode.SECURITY_ERROR,
        Violation.UNKNOWN_TARGET: ErrorCode.PROPERTY_CONSTRAINT_VIOLATION,
        Violation.BUSY: ErrorCode.GENERIC_ERROR,
        Violation.HANDLER_FAILED: ErrorCode.INTERNAL_ERROR,
    }
)
"""Which 2.0.1 CALLERROR code answers each `Violation`.

The payload rows are 1.6's (see ``v16.errors``) with 2.0.1's spelling: a property the
schema does not list, or a payload that is no object, is FormatViolation ("payload
for action is syntactically incorrect"). What 2.0.1 moves: a frame whose envelope is
wrong (too few or too many elements, an action that is no string, a unique id too
long or still in use) is a fault of the RPC framework, not of the payload:
RpcFrameworkError ("content of the call is not a valid RPC request, for example:
MessageId could not be read"). A number outside the schema's minimum or maximum is an
invalid value: PropertyConstraintViolation; more items than maxItems breaks an
occurrence constraint.
"""

__all__ = ["VIOLATION_CODES", "ErrorCode"]
