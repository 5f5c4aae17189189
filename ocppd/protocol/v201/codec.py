"""Typed OCPP 2.0.1 messages to and from JSON payloads (as ``v16.codec`` does for 1.6).

`decode_request`/`decode_response` validate a payload against the action's
schema and build its dataclass in the same pass (see `v16.validation` for the
order of checks); a violation becomes an `OcppError` that carries it (the 2.0.1
dialect spells it with `v201.errors.VIOLATION_CODES`) and whose description names
the property path.
`to_payload` goes the other way. Decoders are compiled per action on first
use; the encoders (one small closure per type) when this module is imported.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

from ocppd.protocol.errors import OcppError, Violation
from ocppd.protocol.v16.base import Message
from ocppd.protocol.v16.datetimes import format_datetime, parse_datetime
from ocppd.protocol.v16.validation import Decoder, Invalid, Node, compile_node
from ocppd.protocol.v201 import messages, schemas
from ocppd.protocol.v201.enums import Action

__all__ = [
    "ACTIONS",
    "REQUESTS",
    "RESPONSES",
    "Decoded",
    "Message",
    "action_of",
    "decode_request",
    "decode_response",
    "format_datetime",
    "parse_datetime",
    "to_payload",
    "validate_request",
    "validate_response",
]

Decoded = Any
"""What `decode_request`/`decode_response` return: an instance of ``REQUESTS[action]`` or
``RESPONSES[action]``. Typed Any so that callers can use the concrete type without a cast."""

ACTIONS: frozenset[str] = frozenset(action.value for action in Action)
"""Every OCPP 2.0.1 action name."""

REQUESTS: Mapping[str, type[Message]] = MappingProxyType(messages.REQUESTS)
"""Action name -> dataclass of its request (the .req)."""

RESPONSES: Mapping[str, type[Message]] = MappingProxyType(messages.RESPONSES)
"""Action name -> dataclass of its response (the .conf)."""

_ACTION_OF: dict[type[Message], str] = {cls: action for action, cls in REQUESTS.items()} | {
    cls: action for action, cls in RESPONSES.items()
}


def action_of(message: Message) -> str:
    """The action a request or response dataclass belongs to; TypeError for anything else."""
    try:
        return _ACTION_OF[type(message)]
    except KeyError:
        raise TypeError(f"not an OCPP 2.0.1 request or response: {message!r}") from None


def decode_request(action: str, payload: dict[str, Any]) -> Decoded:
    """Validate a CALL payload and build its request dataclass, or raise `OcppError`."""
    return _decode(action, payload, schemas.REQUESTS, _request_decoders, "request")


def decode_response(action: str, payload: dict[str, Any]) -> Decoded:
    """Validate a CALLRESULT payload and build its response dataclass, or raise `OcppError`."""
    return _decode(action, payload, schemas.RESPONSES, _response_decoders, "response")


def validate_request(action: str, payload: dict[str, Any]) -> None:
    """Raise `OcppError` unless `payload` is a valid request of `action`."""
    decode_request(action, payload)


def validate_response(action: str, payload: dict[str, Any]) -> None:
    """Raise `OcppError` unless `payload` is a valid response of `action`."""
    decode_response(action, payload)


_request_decoders: dict[str, Decoder] = {}
_response_decoders: dict[str, Decoder] = {}


def _decode(
    action: str,
    payload: dict[str, Any],
    nodes: Mapping[str, Node],
    decoders: dict[str, Decoder],
    kind: str,
) -> Decoded:
    decoder = decoders.get(action)
    if decoder is None:
        node = nodes.get(action)
        if node is None:
            raise OcppError(Violation.UNKNOWN_ACTION, f"{action!r} is not an OCPP 2.0.1 action")
        decoder = decoders[action] = compile_node(node)
    try:
        return decoder(payload)
    except Invalid as exc:
        path = exc.path
        problem = str(exc) if path else f"{action} {kind}: {exc.problem}"
        raise OcppError(exc.violation, problem, {"path": path}) from None


def to_payload(message: Message) -> dict[str, Any]:
    """The JSON payload of a message: camelCase keys, no None values, wire strings.

    Enums become their values, datetimes ISO 8601 UTC with ``Z`` (see
    `format_datetime`), tuples lists, nested dataclasses objects.
    """
    try:
        encode = _ENCODERS[type(message)]
    except KeyError:
        raise TypeError(f"not an OCPP 2.0.1 message type: {message!r}") from None
    payload: dict[str, Any] = encode(message)
    return payload


Encoder = Callable[[Any], Any]


def _compile_encoder(node: Node, encoders: dict[type, Encoder]) -> Encoder | None:
    """How to turn a field's value into JSON; None when it already is JSON."""
    kind = node[0]
    if kind == "enum":
        return str  # a StrEnum member's str() is its value, as a plain str
    if kind == "date-time":
        return format_datetime
    if kind == "array":
        encode_item = _compile_encoder(node[2], encoders)
        if encode_item is None:
            return list
        return lambda items: [encode_item(item) for item in items]
    if kind == "object":
        return _compile_object_encoder(node, encoders)
    if kind == "number" and node[1] is not None:
        return _compile_rounding(node[1])
    return None  # string, uri, integer, number without multipleOf, boolean


def _compile_rounding(multiple_of: float) -> Encoder:
    """Round to the decimals of `multiple_of` (0.1 in every 1.6 schema) before sending.

    A computed limit such as 0.1 + 0.2 is 0.30000000000000004 as a float; peers
    that check multipleOf exactly (with decimals, as the ocpp package does)
    reject it. Rounding to the schema's resolution sends 0.3.
    """
    digits = 0
    while round(multiple_of * 10**digits) != multiple_of * 10**digits:
        digits += 1
        if digits > 6:
            raise ValueError(f"multipleOf {multiple_of!r} is not a power of ten")
    if round(multiple_of * 10**digits) != 1:
        raise ValueError(f"multipleOf {multiple_of!r} is not a power of ten")
    return lambda value: round(value, digits)


def _compile_object_encoder(node: Node, encoders: dict[type, Encoder]) -> Encoder:
    cls: type = node[1]
    known = encoders.get(cls)
    if known is not None:
        return known  # variants of one type (MeterValue in two messages) encode alike
    fields = tuple((attr, wire, _compile_encoder(sub, encoders)) for wire, attr, _, sub in node[2])

    def encode_object(message: Any) -> dict[str, Any]:
        payload = {}
        for attr, wire, encode in fields:
            value = getattr(message, attr)
            if value is not None:
                payload[wire] = value if encode is None else encode(value)
        return payload

    encoders[cls] = encode_object
    return encode_object


def _compile_encoders() -> dict[type, Encoder]:
    """Dataclass -> encoder, for every message and nested type (a few hundred closures)."""
    encoders: dict[type, Encoder] = {}
    for node in (*schemas.REQUESTS.values(), *schemas.RESPONSES.values()):
        _compile_object_encoder(node, encoders)
    return encoders


_ENCODERS = _compile_encoders()
