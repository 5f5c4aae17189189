"""Drivers chosen by name: the index over the driver tables, and options with their defaults.

The tables themselves are plain data in :mod:`hal.drivers` (``SIM_DRIVERS``,
``REAL_DRIVERS``); this module indexes them once, when it is imported, into a
read-only mapping. Nothing registers itself at import time and nothing changes the
index afterwards.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import Any

from hal.driver import OPTIONAL_KINDS, REQUIRED_KINDS, DeviceKind, DeviceSpec, Driver
from hal.drivers import REAL_DRIVERS, SIM_DRIVERS
from hal.options import Option, boolean, choice, integer, number, path, pin, string


def index(drivers: Iterable[Driver]) -> Mapping[tuple[DeviceKind, str], Driver]:
    """The drivers by (kind, name); a name used twice for one kind is a mistake in the tables."""
    found: dict[tuple[DeviceKind, str], Driver] = {}
    for driver in drivers:
        key = (driver.kind, driver.name)
        if key in found:
            raise ValueError(f"two {driver.kind} drivers named {driver.name!r}")
        found[key] = driver
    return MappingProxyType(found)


DRIVERS = index((*SIM_DRIVERS, *REAL_DRIVERS))
"""Every driver this ocppd knows, by (kind, name)."""


def driver_for(kind: DeviceKind, name: str) -> Driver | None:
    return DRIVERS.get((kind, name))


def drivers_of(kind: DeviceKind) -> list[str]:
    return sorted(name for (k, name) in DRIVERS if k == kind)


def with_defaults(kind: DeviceKind, name: str, options: Mapping[str, Any]) -> dict[str, Any]:
    """``options`` plus the default of every optional key not given. The config loader
    fills defaults itself; this lets tests and tools build devices from partial tables."""
    driver = driver_for(kind, name)
    assert driver is not None, (kind, name)
    out = {o.name: o.default for o in driver.options if not o.required}
    out.update(options)
    return out


__all__ = [
    "DRIVERS",
    "OPTIONAL_KINDS",
    "REQUIRED_KINDS",
    "DeviceKind",
    "DeviceSpec",
    "Driver",
    "Option",
    "boolean",
    "choice",
    "driver_for",
    "drivers_of",
    "index",
    "integer",
    "number",
    "path",
    "pin",
    "string",
    "with_defaults",
]
