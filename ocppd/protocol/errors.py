"""Why a CALL is refused, in words of no OCPP version.

Everything that can be wrong with an incoming frame or payload, and every reason
a handler has to refuse a CALL, is a `Violation`. `OcppError` carries one; the
RPC state renders it with the table of the dialect it speaks
(:attr:`ocppd.protocol.dialect.Dialect.error_codes`), because the versions spell
the codes differently and even draw some lines elsewhere: 1.6 answers a
property the schema does not list with FormationViolation, 2.0.1 with
FormatViolation, and 2.0.1 adds RpcFrameworkError and MessageTypeNotSupported.
The 1.6 table, with the reasoning behind each row, is
:data:`ocppd.protocol.v16.errors.VIOLATION_CODES`.
"""

from __future__ import annotations

from enum import Enum
from typing import Any


class Violation(Enum):
    """Every reason a CALL from the central system is answered with a CALLERROR.

    Problems that cannot be answered (text that is not JSON, an unknown
    MessageTypeId, a malformed CALLRESULT) are not violations: there is nobody
    to send a CALLERROR to, so the caller logs and ignores them.
    """

    # the frame (the JSON array around the payload)
    NESTED_TOO_DEEPLY = "frame nests arrays and objects deeper than any OCPP PDU"
    CALL_INCOMPLETE = "CALL frame has fewer than 4 elements"
    CALL_TOO_MANY_ELEMENTS = "CALL frame has more than 4 elements"
    UNIQUE_ID_TOO_LONG = "unique id longer than 36 characters"
    DUPLICATE_UNIQUE_ID = "unique id of a CALL that is still being handled"
    ACTION_NOT_STRING = "action is not a string"
    PAYLOAD_NOT_OBJECT = "payload is not a JSON object"
    # the action
    UNKNOWN_ACTION = "action is not an action of the protocol spoken"
    UNSUPPORTED_ACTION = "action of the protocol spoken that this charge point does not handle"
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
    OUT_OF_BOUNDS = "number below the schema's minimum or above its maximum"
    # the payload, against what this charge point accepts (handlers raise these)
    TOO_MANY_ITEMS = "array has more items than maxItems or than the charge point accepts"
    NOT_PERMITTED = "a security rule forbids handling the call now"
    UNKNOWN_TARGET = "the call names something the charge point does not have (a connector)"
    # our side
    BUSY = "more calls from the central system at once than the charge point queues"
    HANDLER_FAILED = "unexpected exception in a handler"


class OcppError(Exception):
    """A CALL cannot be answered with a CALLRESULT; the RPC layer sends a CALLERROR.

    Raised by payload validation and by feature handlers. ``violation`` says what
    is wrong; the conversation's dialect turns it into the wire code.
    ``details`` is the errorDetails object of the CALLERROR and must be
    JSON-serialisable.
    """

    violation: Violation
    description: str
    details: dict[str, Any]

    def __init__(
        self, violation: Violation, description: str = "", details: dict[str, Any] | None = None
    ) -> None:
        super().__init__(violation, description)
        self.violation = violation
        self.description = description
        self.details = {} if details is None else details

    def __str__(self) -> str:
        name = self.violation.name
        return f"{name}: {self.description}" if self.description else name

    def __repr__(self) -> str:
        return f"OcppError({self.violation}, {self.description!r}, {self.details!r})"


__all__ = ["OcppError", "Violation"]
