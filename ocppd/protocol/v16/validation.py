"""Compile the generated schema nodes into decoders that validate and build in one pass.

A decoder takes a decoded-JSON value and returns its typed form (a dataclass,
an enum member, an aware datetime, a tuple ...) or raises `Invalid`. Each
schema node becomes one small closure, compiled once on first use, so that
checking a payload costs a few dict lookups and type comparisons per property
and no reflection at all.

Order of checks, and so which violation is reported when there are several:
in every object, first a property the schema does not list (the first one in
payload order), then a missing required property (the first in schema
order), then each property in payload order, depth first; for a single value
its JSON type first, then its constraint (maxLength, enum, date-time, URI,
multipleOf); for an array its type, then minItems, then each item in order.

JSON types follow JSON Schema draft 4, as the 1.6 schemas declare: an
"integer" is a JSON number without a fraction or exponent (``1.0`` is not an
integer), and a boolean is neither an integer nor a number.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from enum import StrEnum
from typing import Any

from ocppd.protocol.errors import Violation
from ocppd.protocol.frames import json_type
from ocppd.protocol.v16.datetimes import parse_datetime

Decoder = Callable[[Any], Any]
Node = tuple[Any, ...]

# RFC 3986 absolute URI: a scheme, a colon, and no whitespace or control characters.
_URI = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:[^\s\x00-\x1f\x7f]*", re.ASCII)
_RELATIVE_TOLERANCE = 1e-9
_WHOLE = float(2**52)  # from here on, floats have no fractional digits


class Invalid(Exception):
    """One schema violation; ``trail`` collects the path on the way out, innermost first."""

    def __init__(self, violation: Violation, problem: str) -> None:
        super().__init__(violation, problem)
        self.violation = violation
        self.problem = problem
        self.trail: list[str | int] = []

    @property
    def path(self) -> str:
        """Where in the payload: ``meterValue[0].sampledValue[2].unit``; empty for the root."""
        parts: list[str] = []
        for step in reversed(self.trail):
            if isinstance(step, int):
                parts.append(f"[{step}]")
            else:
                parts.append(f".{step}" if parts else step)
        return "".join(parts)

    def __str__(self) -> str:
        path = self.path
        return f"{path}: {self.problem}" if path else self.problem


# Keyed by identity, so an object type shared by several messages compiles once
# (tuples are hashable, but hashing a whole schema tree on every lookup is not
# cheap). The node is kept alongside, so its id cannot be reused while cached.
_compiled: dict[int, tuple[Node, Decoder]] = {}


def compile_node(node: Node) -> Decoder:
    """The decoder for `node`, compiled on first use."""
    entry = _compiled.get(id(node))
    if entry is None:
        entry = (node, _COMPILERS[node[0]](node))
        _compiled[id(node)] = entry
    return entry[1]


def _wrong_type(expected: str, value: object) -> Invalid:
    shown = f" {_show(value)}" if isinstance(value, str | int | float) else ""
    return Invalid(Violation.WRONG_TYPE, f"expected {expected}, got {json_type(value)}{shown}")


def _show(value: object) -> str:
    """A short repr for messages: long strings are cut, so a 10 kB blob stays out of logs."""
    text = repr(value)
    return text if len(text) <= 42 else text[:39] + "..."


def _compile_string(node: Node) -> Decoder:
    max_length: int | None = node[1]
    if max_length is None:

        def decode_string(value: Any) -> Any:
            if isinstance(value, str):
                return value
            raise _wrong_type("string", value)

        return decode_string

    def decode_bounded_string(value: Any) -> Any:
        if not isinstance(value, str):
            raise _wrong_type("string", value)
        if len(value) > max_length:
            raise Invalid(
                Violation.STRING_TOO_LONG,
                f"string of {len(value)} characters exceeds maxLength {max_length}",
            )
        return value

    return decode_bounded_string


def _compile_uri(node: Node) -> Decoder:
    check_length = _compile_string(("string", node[1]))

    def decode_uri(value: Any) -> Any:
        value = check_length(value)
        if _URI.fullmatch(value) is None:
            # the value is not echoed: URIs of firmware and log servers carry credentials
            raise Invalid(Violation.BAD_URI, "not an absolute URI (scheme:..., no spaces)")
        return value

    return decode_uri


def _compile_date_time(node: Node) -> Decoder:
    del node

    def decode_date_time(value: Any) -> Any:
        if not isinstance(value, str):
            raise _wrong_type("date-time string", value)
        try:
            return parse_datetime(value)
        except ValueError:
            raise Invalid(
                Violation.BAD_DATE_TIME, f"{_show(value)} is not an RFC 3339 date-time"
            ) from None

    return decode_date_time


def _compile_enum(node: Node) -> Decoder:
    enum: type[StrEnum] = node[1]
    allowed: tuple[str, ...] = node[2] or tuple(member.value for member in enum)
    members = {value: enum(value) for value in allowed}
    listed = ", ".join(allowed)

    def decode_enum(value: Any) -> Any:
        try:
            return members[value]
        except (KeyError, TypeError):
            pass
        if not isinstance(value, str):
            raise _wrong_type("string", value)
        raise Invalid(Violation.NOT_IN_ENUM, f"{_show(value)} is not one of {listed}")

    return decode_enum


def _compile_integer(node: Node) -> Decoder:
    def decode_integer(value: Any) -> Any:
        if type(value) is int:
            return value
        raise _wrong_type("integer", value)

    if len(node) == 1:
        return decode_integer
    return _bounded(decode_integer, node[1], node[2])


def _bounded(decode: Decoder, low: float | None, high: float | None) -> Decoder:
    """`decode`, then the schema's minimum and maximum (2.0.1 has them; 1.6 has none)."""

    def decode_bounded(value: Any) -> Any:
        value = decode(value)
        if (low is not None and value < low) or (high is not None and value > high):
            raise Invalid(Violation.OUT_OF_BOUNDS, f"{value!r} is not within [{low}, {high}]")
        return value

    return decode_bounded


def _compile_number(node: Node) -> Decoder:
    multiple_of: float | None = node[1]

    def decode_number(value: Any) -> Any:
        kind = type(value)
        if kind is int:
            try:
                value = float(value)
            except OverflowError:
                raise Invalid(
                    Violation.NUMBER_OUT_OF_RANGE,
                    f"integer of {len(str(abs(value)))} digits does not fit a decimal",
                ) from None
        elif kind is not float:
            raise _wrong_type("number", value)
        if multiple_of is not None and not _is_multiple(value, multiple_of):
            raise Invalid(
                Violation.NOT_MULTIPLE_OF, f"{value!r} is not a multiple of {multiple_of!r}"
            )
        return value

    if len(node) == 2:
        return decode_number
    return _bounded(decode_number, node[2], node[3])


def _is_multiple(value: float, multiple_of: float) -> bool:
    """Whether `value` is a whole multiple of `multiple_of`, as far as floats can tell.

    Floats cannot hold 0.1 exactly (21.4 / 0.1 == 213.99999999999997), so the
    quotient is compared with a relative tolerance instead of testing a
    remainder. From 2**52 on every float is whole, and the quotient may be inf.
    """
    quotient = abs(value / multiple_of)
    if quotient >= _WHOLE:
        return True
    return abs(quotient - round(quotient)) <= _RELATIVE_TOLERANCE * max(1.0, quotient)


def _compile_boolean(node: Node) -> Decoder:
    del node

    def decode_boolean(value: Any) -> Any:
        if type(value) is bool:
            return value
        raise _wrong_type("boolean", value)

    return decode_boolean


def _compile_array(node: Node) -> Decoder:
    min_items: int = node[1]
    decode_item = compile_node(node[2])
    max_items: int | None = node[3] if len(node) > 3 else None

    def decode_array(value: Any) -> Any:
        if type(value) is not list:
            raise _wrong_type("array", value)
        if len(value) < min_items:
            raise Invalid(
                Violation.TOO_FEW_ITEMS, f"{len(value)} items, at least {min_items} required"
            )
        if max_items is not None and len(value) > max_items:
            raise Invalid(Violation.TOO_MANY_ITEMS, f"{len(value)} items, at most {max_items}")
        items = []
        for index, item in enumerate(value):
            try:
                items.append(decode_item(item))
            except Invalid as exc:
                exc.trail.append(index)
                raise
        return tuple(items)

    return decode_array


def _compile_object(node: Node) -> Decoder:
    cls: type = node[1]
    fields: dict[str, tuple[str, Decoder]] = {
        wire: (attr, compile_node(sub)) for wire, attr, _, sub in node[2]
    }
    allowed = frozenset(fields)
    required = tuple(wire for wire, _, is_required, _ in node[2] if is_required)
    required_set = frozenset(required)
    listed = ", ".join(fields) or "no properties"
    open_object = len(node) > 3 and node[3] == "open"

    def decode_object(value: Any) -> Any:
        if type(value) is not dict:
            raise _wrong_type("object", value)
        if not allowed.issuperset(value):
            if open_object:  # 2.0.1's CustomDataType: vendors add to it; theirs is not kept
                value = {key: item for key, item in value.items() if key in allowed}
                return decode_object(value)
            extra = next(key for key in value if key not in allowed)
            exc = Invalid(
                Violation.ADDITIONAL_PROPERTY,
                f"unexpected property; {cls.__name__} has {listed}",
            )
            exc.trail.append(extra)
            raise exc
        if not value.keys() >= required_set:
            missing = next(key for key in required if key not in value)
            exc = Invalid(Violation.MISSING_PROPERTY, "required property missing")
            exc.trail.append(missing)
            raise exc
        kwargs = {}
        for key, item in value.items():
            attr, decode_field = fields[key]
            try:
                kwargs[attr] = decode_field(item)
            except Invalid as exc:
                exc.trail.append(key)
                raise
        return cls(**kwargs)

    return decode_object


def _compile_any(node: Node) -> Decoder:
    del node
    return lambda value: value  # any JSON value (2.0.1 DataTransfer's data), as it came


_COMPILERS: dict[str, Callable[[Node], Decoder]] = {
    "any": _compile_any,
    "string": _compile_string,
    "uri": _compile_uri,
    "date-time": _compile_date_time,
    "enum": _compile_enum,
    "integer": _compile_integer,
    "number": _compile_number,
    "boolean": _compile_boolean,
    "array": _compile_array,
    "object": _compile_object,
}
