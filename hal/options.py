"""Declarative options: how a device table (and every other config table) is checked.

An :class:`Option` names a key, converts a raw TOML value into the typed value the
code uses, and knows how to say what it expected. The config loader in
``ocppd.config`` reads every table through these, so a driver declares its keys in
one place (beside the driver) and gets the same error lines as the rest of the file:
``PATH: connector[0].meter.baudrate: got 'fast' (expected an integer from 300 to 921600)``.

Nothing here knows OCPP or any device library.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final


class OptionError(ValueError):
    """A raw value does not fit an option: ``problem`` and what was ``expected``."""

    def __init__(self, problem: str, expected: str) -> None:
        super().__init__(f"{problem} (expected {expected})")
        self.problem = problem
        self.expected = expected


class _Required:
    def __repr__(self) -> str:
        return "REQUIRED"


REQUIRED: Final[Any] = _Required()


def _show(value: object) -> str:
    """A raw value as the user wrote it, short enough for one line."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


@dataclass(frozen=True, slots=True)
class Kind:
    """A converter: ``convert(raw) -> value``, raising :class:`OptionError`."""

    expected: str
    convert: Callable[[Any], Any]

    def __call__(self, raw: Any) -> Any:
        return self.convert(raw)


def _fail(raw: object, expected: str) -> OptionError:
    return OptionError(f"got {_show(raw)}", expected)


def integer(minimum: int | None = None, maximum: int | None = None) -> Kind:
    if minimum is not None and maximum is not None:
        expected = f"an integer from {minimum} to {maximum}"
    elif minimum is not None:
        expected = f"an integer >= {minimum}"
    elif maximum is not None:
        expected = f"an integer <= {maximum}"
    else:
        expected = "an integer"

    def convert(raw: Any) -> int:
        if isinstance(raw, bool) or not isinstance(raw, int):
            raise _fail(raw, expected)
        if (minimum is not None and raw < minimum) or (maximum is not None and raw > maximum):
            raise _fail(raw, expected)
        return raw

    return Kind(expected, convert)


def number(
    minimum: float | None = None, maximum: float | None = None, *, exclusive_min: bool = False
) -> Kind:
    low = ">" if exclusive_min else ">="
    if minimum is not None and maximum is not None:
        expected = f"a number {low} {minimum:g} and <= {maximum:g}"
    elif minimum is not None:
        expected = f"a number {low} {minimum:g}"
    else:
        expected = "a number"

    def convert(raw: Any) -> float:
        if isinstance(raw, bool) or not isinstance(raw, int | float) or not math.isfinite(raw):
            raise _fail(raw, expected)
        value = float(raw)
        if minimum is not None and (value <= minimum if exclusive_min else value < minimum):
            raise _fail(raw, expected)
        if maximum is not None and value > maximum:
            raise _fail(raw, expected)
        return value

    return Kind(expected, convert)


def boolean() -> Kind:
    def convert(raw: Any) -> bool:
        if not isinstance(raw, bool):
            raise _fail(raw, "true or false")
        return raw

    return Kind("true or false", convert)


def string(
    *,
    nonempty: bool = True,
    max_length: int | None = None,
    pattern: str | None = None,
    expected: str | None = None,
) -> Kind:
    regex = re.compile(pattern) if pattern else None
    what = expected or (
        f"a text of at most {max_length} characters"
        if max_length
        else "a non-empty text"
        if nonempty
        else "a text"
    )

    def convert(raw: Any) -> str:
        if not isinstance(raw, str):
            raise _fail(raw, what)
        if nonempty and not raw:
            raise OptionError("empty", what)
        if max_length is not None and len(raw) > max_length:
            raise OptionError(f"{len(raw)} characters long", what)
        if regex is not None and not regex.fullmatch(raw):
            raise _fail(raw, what)
        return raw

    return Kind(what, convert)


def choice(*values: str | int) -> Kind:
    shown = " | ".join(str(v) for v in values)
    expected = f"one of {shown}"

    def convert(raw: Any) -> str | int:
        for value in values:
            if raw == value and type(raw) is type(value):
                return value
        raise _fail(raw, expected)

    return Kind(expected, convert)


def path() -> Kind:
    """An absolute file system path (existence is checked when the device opens)."""
    expected = "an absolute path"

    def convert(raw: Any) -> str:
        if not isinstance(raw, str) or not raw.startswith("/"):
            raise _fail(raw, expected)
        return raw

    return Kind(expected, convert)


def pin() -> Kind:
    """A GPIO pin as gpiozero names it: a BCM number (17) or a name ("GPIO17", "BOARD11")."""
    expected = 'a BCM pin number 0-53 or a pin name such as "GPIO17" or "BOARD11"'
    name = re.compile(r"(GPIO|BCM|BOARD|WPI|J8:|P1:)\d+|[A-Z][A-Z0-9_]*:\d+")

    def convert(raw: Any) -> int | str:
        if isinstance(raw, int) and not isinstance(raw, bool) and 0 <= raw <= 53:
            return raw
        if isinstance(raw, str) and name.fullmatch(raw):
            return raw
        raise _fail(raw, expected)

    return Kind(expected, convert)


def string_list(item: Kind | None = None) -> Kind:
    inner = item or string()
    expected = f"a list of {inner.expected}"

    def convert(raw: Any) -> tuple[Any, ...]:
        if not isinstance(raw, list):
            raise _fail(raw, expected)
        return tuple(inner(v) for v in raw)

    return Kind(expected, convert)


def any_scalar() -> Kind:
    expected = "a boolean, an integer, a number or a text"

    def convert(raw: Any) -> bool | int | float | str:
        if isinstance(raw, bool | int | float | str):
            return raw
        raise _fail(raw, expected)

    return Kind(expected, convert)


@dataclass(frozen=True, slots=True)
class Option:
    """One key of a table: its converter, its default (or REQUIRED) and a line of help."""

    name: str
    kind: Kind
    default: Any = REQUIRED
    doc: str = ""

    @property
    def required(self) -> bool:
        return self.default is REQUIRED


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong in a table: ``key`` relative to the table, what, what was expected."""

    key: str
    problem: str
    expected: str


def read_options(
    options: Iterable[Option], raw: Mapping[str, Any], *, ignore: Iterable[str] = ()
) -> tuple[dict[str, Any], list[Problem]]:
    """Convert ``raw`` through ``options``: typed values, defaults filled in, every problem listed.

    Keys not declared (and not in ``ignore``) are problems too: a typo must not pass.
    """
    declared = {opt.name: opt for opt in options}
    skipped = set(ignore)
    values: dict[str, Any] = {}
    problems: list[Problem] = []
    for key, value in raw.items():
        opt = declared.get(key)
        if opt is None:
            if key not in skipped:
                known = ", ".join(sorted(declared)) or "no keys"
                problems.append(Problem(key, "unknown key", f"one of {known}"))
            continue
        try:
            values[key] = opt.kind(value)
        except OptionError as exc:
            problems.append(Problem(key, exc.problem, exc.expected))
    for opt in declared.values():
        if opt.name in values or opt.name in raw:
            continue
        if opt.required:
            problems.append(Problem(opt.name, "missing", opt.kind.expected))
        else:
            values[opt.name] = opt.default
    return values, problems
