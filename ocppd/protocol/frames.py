"""OCPP-J frames: the JSON arrays that carry CALL, CALLRESULT and CALLERROR [J16 §4].

`parse_frame` turns text from the websocket into a typed frame or raises
`BadFrame`, which says whether the sender can be answered with a CALLERROR
(a CALL whose unique id we could read) or must be logged and ignored.
`encode_frame` is its inverse. Neither knows anything about actions or
payload schemas: that is the dialect's job (`protocol/dialect.py`); the frames
are the same in every OCPP-J version.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from ocppd.protocol.errors import Violation
from ocppd.protocol.jsondepth import deeper_than

MAX_UNIQUE_ID_LENGTH = 36
"""The longest unique id OCPP-J allows [J16 §4.1.4] (2.0.1 keeps it)."""

MAX_DEPTH = 16
"""How deeply a frame may nest arrays and objects. The deepest OCPP 1.6 frames
(MeterValues, StopTransaction, RemoteStartTransaction, SetChargingProfile) nest 6
levels, frame array included; anything past this limit cannot conform to a PDU and
is refused before the JSON decoder sees it, so no decoded frame is ever deep enough
to make a decoder, encoder or log line recurse out of its stack."""


class MessageTypeId(IntEnum):
    """The first element of every frame [J16 §4.1.3]."""

    CALL = 2
    CALLRESULT = 3
    CALLERROR = 4


@dataclass(frozen=True, slots=True)
class Call:
    """A request: ``[2, uniqueId, action, payload]``."""

    unique_id: str
    action: str
    payload: dict[str, Any]


@dataclass(frozen=True, slots=True)
class CallResult:
    """A response: ``[3, uniqueId, payload]``."""

    unique_id: str
    payload: dict[str, Any]


@dataclass(frozen=True, slots=True)
class CallError:
    """An error response: ``[4, uniqueId, errorCode, errorDescription, errorDetails]``.

    ``code`` is a plain string: a peer may send codes that its version does not define.
    """

    unique_id: str
    code: str
    description: str
    details: dict[str, Any]


Frame = Call | CallResult | CallError


class BadFrame(Exception):
    """Text from the peer that is not a well-formed OCPP-J frame.

    ``answerable`` is True when the text looked like a CALL whose unique id we
    could read: the caller then sends a CALLERROR with the code of
    ``violation`` for ``unique_id``. Otherwise (not JSON, not an array, an
    unknown MessageTypeId, an unreadable unique id, a malformed CALLRESULT or
    CALLERROR) there is nobody to answer and the caller logs ``reason``.
    """

    unique_id: str | None
    violation: Violation | None
    reason: str

    def __init__(
        self, reason: str, *, unique_id: str | None = None, violation: Violation | None = None
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.unique_id = unique_id
        self.violation = violation

    @property
    def answerable(self) -> bool:
        """True when a CALLERROR can and should be sent back."""
        return self.unique_id is not None and self.violation is not None

    def __repr__(self) -> str:
        return (
            f"BadFrame({self.reason!r}, unique_id={self.unique_id!r}, "
            f"violation={self.violation and self.violation.name})"
        )


def _reject_constant(name: str) -> Any:
    """Refuse NaN and Infinity, which Python's json accepts but JSON does not."""
    raise ValueError(f"{name} is not JSON")


_decode_json = json.JSONDecoder(parse_constant=_reject_constant).decode
_encode_json = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
_TYPE_IDS = {2: MessageTypeId.CALL, 3: MessageTypeId.CALLRESULT, 4: MessageTypeId.CALLERROR}


def parse_frame(text: str | bytes) -> Frame:
    """Parse one websocket message into a frame, or raise `BadFrame`.

    The checks run in this order, so the first problem found is the one
    reported: nesting depth (at most `MAX_DEPTH`, checked on the text before
    decoding), JSON, array, MessageTypeId, unique id (a string, then for a CALL
    at most 36 characters), element count, then the types of the remaining
    elements. Payloads are only checked to be objects; their content is
    validated per action later.
    """
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise BadFrame(f"not UTF-8: {exc}") from None
    if deeper_than(text, MAX_DEPTH):
        raise _too_deep(text)
    try:
        message = _decode_json(text)
    except ValueError as exc:
        raise BadFrame(f"not JSON: {exc}") from None
    except RecursionError:
        raise BadFrame("not JSON we accept: nested too deeply") from None
    if ("\\ud" in text or "\\uD" in text) and _has_lone_surrogate(message):
        # \ud800 alone is valid JSON but no Unicode: whatever echoes it (the unique
        # id in our answer, a log line) would fail to encode as UTF-8 later.
        raise BadFrame("not JSON we accept: escaped lone surrogate")
    if type(message) is not list:
        raise BadFrame(f"not a JSON array but {json_type(message)}")
    type_id = _TYPE_IDS.get(message[0]) if message and type(message[0]) is int else None
    if type_id is None:
        first = repr(message[0])[:40] if message else "nothing"  # a log line, not a dump
        raise BadFrame(f"unknown MessageTypeId {first}")
    if len(message) < 2 or type(message[1]) is not str:
        found = json_type(message[1]) if len(message) > 1 else "nothing"
        raise BadFrame(f"unique id must be a string, found {found}")
    unique_id: str = message[1]
    if type_id is MessageTypeId.CALL:
        return _parse_call(message, unique_id)
    if type_id is MessageTypeId.CALLRESULT:
        if len(message) != 3 or type(message[2]) is not dict:
            raise BadFrame(f"malformed CALLRESULT for {unique_id!r}: expected [3, id, {{...}}]")
        return CallResult(unique_id, message[2])
    if (
        len(message) != 5
        or type(message[2]) is not str
        or type(message[3]) is not str
        or type(message[4]) is not dict
    ):
        raise BadFrame(
            f"malformed CALLERROR for {unique_id!r}: expected [4, id, code, description, {{...}}]"
        )
    return CallError(unique_id, message[2], message[3], message[4])


def _parse_call(message: list[Any], unique_id: str) -> Call:
    """The CALL-specific checks; every failure here can be answered."""
    if len(unique_id) > MAX_UNIQUE_ID_LENGTH:
        raise BadFrame(
            f"unique id is {len(unique_id)} characters, at most {MAX_UNIQUE_ID_LENGTH} allowed",
            unique_id=unique_id,
            violation=Violation.UNIQUE_ID_TOO_LONG,
        )
    if len(message) < 4:
        raise BadFrame(
            f"CALL has {len(message)} elements, expected [2, id, action, {{payload}}]",
            unique_id=unique_id,
            violation=Violation.CALL_INCOMPLETE,
        )
    if len(message) > 4:
        raise BadFrame(
            f"CALL has {len(message)} elements, expected [2, id, action, {{payload}}]",
            unique_id=unique_id,
            violation=Violation.CALL_TOO_MANY_ELEMENTS,
        )
    action, payload = message[2], message[3]
    if type(action) is not str:
        raise BadFrame(
            f"action must be a string, found {json_type(action)}",
            unique_id=unique_id,
            violation=Violation.ACTION_NOT_STRING,
        )
    if type(payload) is not dict:
        raise BadFrame(
            f"payload of {action} must be a JSON object, found {json_type(payload)}",
            unique_id=unique_id,
            violation=Violation.PAYLOAD_NOT_OBJECT,
        )
    return Call(unique_id, action, payload)


# The start of a CALL, up to its unique id: what can be read of a frame we will not decode.
_WS = r"[ \t\n\r]*"  # JSON's whitespace, no more
_CALL_PREFIX = re.compile(rf'{_WS}\[{_WS}2{_WS},{_WS}("[^"\\]*(?:\\.[^"\\]*)*")')


def _too_deep(text: str) -> BadFrame:
    """The refusal of a frame nested deeper than `MAX_DEPTH`.

    When the text starts like a CALL with a readable unique id, the sender gets a
    FormationViolation ("syntactically incorrect or not conform the PDU structure",
    J16 §4.2.3); otherwise nobody can be answered.
    """
    reason = f"not JSON we accept: nested deeper than {MAX_DEPTH} levels"
    prefix = _CALL_PREFIX.match(text)
    if prefix is None:
        return BadFrame(reason)
    try:
        unique_id = _decode_json(prefix.group(1))  # one flat string literal
        unique_id.encode("utf-8")
    except (ValueError, UnicodeEncodeError):  # a broken escape or a lone surrogate
        return BadFrame(reason)
    return BadFrame(reason, unique_id=unique_id, violation=Violation.NESTED_TOO_DEEPLY)


def _has_lone_surrogate(message: object) -> bool:
    try:
        _encode_json(message).encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def encode_frame(frame: Frame) -> str:
    """Compact JSON text for `frame`; non-ASCII characters are sent as UTF-8, not escaped.

    A CALLERROR always has all 5 elements, with ``{}`` for empty details
    [J16 §4.2.3].
    """
    if type(frame) is Call:
        return _encode_json([2, frame.unique_id, frame.action, frame.payload])
    if type(frame) is CallResult:
        return _encode_json([3, frame.unique_id, frame.payload])
    if type(frame) is CallError:
        return _encode_json(
            [4, frame.unique_id, frame.code, frame.description, frame.details or {}]
        )
    raise TypeError(f"not a frame: {frame!r}")


def json_type(value: object) -> str:
    """The JSON name of a decoded value's type, for messages people read."""
    if value is None:
        return "null"
    kind = type(value)
    if kind is bool:
        return "boolean"
    if kind is int:
        return "integer"
    if kind is float:
        return "number"
    if kind is str:
        return "string"
    if kind is list:
        return "array"
    if kind is dict:
        return "object"
    return kind.__name__
