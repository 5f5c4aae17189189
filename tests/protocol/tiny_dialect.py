"""A second OCPP-J dialect, tiny and made up, to prove that the version is only a parameter.

"OCPP Tiny 0.1" (subprotocol ``tiny0.1``) has two actions, ``Echo`` ({"text": str} both
ways) and ``Ping`` ({} -> {"at": str}), and spells its CALLERROR codes the way OCPP
2.0.1 does (FormatViolation, OccurrenceConstraintViolation, RpcFrameworkError ...), so
a test can tell its answers from 1.6's. Nothing in ocppd imports it.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from ocppd.protocol.dialect import Dialect
from ocppd.protocol.errors import OcppError, Violation
from ocppd.protocol.frames import json_type


@dataclass(frozen=True, slots=True)
class EchoRequest:
    text: str


@dataclass(frozen=True, slots=True)
class EchoResponse:
    text: str


@dataclass(frozen=True, slots=True)
class PingRequest:
    pass


@dataclass(frozen=True, slots=True)
class PingResponse:
    at: str


REQUESTS: dict[str, type] = {"Echo": EchoRequest, "Ping": PingRequest}
RESPONSES: dict[str, type] = {"Echo": EchoResponse, "Ping": PingResponse}
FIELDS: dict[type, tuple[str, ...]] = {
    EchoRequest: ("text",),
    EchoResponse: ("text",),
    PingRequest: (),
    PingResponse: ("at",),
}
ACTION_OF = {cls: action for action, cls in (*REQUESTS.items(), *RESPONSES.items())}


def _decode(table: dict[str, type], action: str, payload: dict[str, Any]) -> Any:
    cls = table.get(action)
    if cls is None:
        raise OcppError(Violation.UNKNOWN_ACTION, f"{action!r} is not an OCPP Tiny 0.1 action")
    fields = FIELDS[cls]
    for name in payload:
        if name not in fields:
            raise OcppError(Violation.ADDITIONAL_PROPERTY, f"{name}: not allowed", {"path": name})
    for name in fields:
        if name not in payload:
            raise OcppError(Violation.MISSING_PROPERTY, f"{name}: required", {"path": name})
        if type(payload[name]) is not str:
            found = json_type(payload[name])
            raise OcppError(Violation.WRONG_TYPE, f"{name}: {found}", {"path": name})
    return cls(**payload)


def decode_request(action: str, payload: dict[str, Any]) -> Any:
    return _decode(REQUESTS, action, payload)


def decode_response(action: str, payload: dict[str, Any]) -> Any:
    return _decode(RESPONSES, action, payload)


def to_payload(message: Any) -> dict[str, Any]:
    return {name: getattr(message, name) for name in FIELDS[type(message)]}


def action_of(message: Any) -> str:
    try:
        return ACTION_OF[type(message)]
    except KeyError:
        raise TypeError(f"not an OCPP Tiny 0.1 message: {message!r}") from None


# OCPP 2.0.1's spelling and lines (OCPP-J 2.0.1 §4.3), where 1.6 differs
CODES = {
    Violation.NESTED_TOO_DEEPLY: "FormatViolation",
    Violation.CALL_INCOMPLETE: "RpcFrameworkError",
    Violation.CALL_TOO_MANY_ELEMENTS: "RpcFrameworkError",
    Violation.UNIQUE_ID_TOO_LONG: "RpcFrameworkError",
    Violation.DUPLICATE_UNIQUE_ID: "RpcFrameworkError",
    Violation.ACTION_NOT_STRING: "RpcFrameworkError",
    Violation.PAYLOAD_NOT_OBJECT: "FormatViolation",
    Violation.UNKNOWN_ACTION: "NotImplemented",
    Violation.UNSUPPORTED_ACTION: "NotSupported",
    Violation.ADDITIONAL_PROPERTY: "ProtocolError",
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

TINY = Dialect(
    name="OCPP Tiny 0.1",
    subprotocol="tiny0.1",
    actions=frozenset(REQUESTS),
    requests=MappingProxyType(REQUESTS),
    responses=MappingProxyType(RESPONSES),
    decode_request=decode_request,
    decode_response=decode_response,
    to_payload=to_payload,
    action_of=action_of,
    error_codes=MappingProxyType(CODES),
)
