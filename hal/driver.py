"""What a driver is: the device kinds, a driver of one kind, and a device as configured.

Types only; the tables of drivers are :mod:`hal.drivers`, the index over them
:mod:`hal.registry`.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from hal.options import Option


class DeviceKind(StrEnum):
    """Device tables in the config: ``[connector.<kind>]``, or for the charger-wide devices
    ``[rfid]``, ``[display]`` and ``[buttons]``."""

    CONTACTOR = "contactor"
    PLUG = "plug"
    METER = "meter"
    LOCK = "lock"
    OFFER = "pilot"
    INDICATOR = "indicator"
    TEMPERATURE = "temperature"
    RFID = "rfid"
    DISPLAY = "display"
    BUTTONS = "buttons"


REQUIRED_KINDS = (DeviceKind.CONTACTOR, DeviceKind.PLUG, DeviceKind.METER)
OPTIONAL_KINDS = (DeviceKind.LOCK, DeviceKind.OFFER, DeviceKind.INDICATOR, DeviceKind.TEMPERATURE)


@dataclass(frozen=True, slots=True)
class Driver:
    """One driver of one kind: name, options, and the factory as ``"module:attribute"``.

    The factory's module is imported only when a config names the driver (:meth:`load`),
    so a charger on sim drivers never loads gpiozero, pymodbus or pyserial. It is called
    as ``factory(options, context)`` and returns the device.
    """

    kind: DeviceKind
    name: str
    factory: str
    options: tuple[Option, ...] = ()
    doc: str = ""

    def load(self) -> Callable[..., Any]:
        module, _, attr = self.factory.partition(":")
        return getattr(importlib.import_module(module), attr)  # type: ignore[no-any-return]


@dataclass(frozen=True, slots=True)
class DeviceSpec:
    """A device as configured: kind, driver and checked option values."""

    kind: DeviceKind
    driver: str
    options: Mapping[str, Any] = field(default_factory=dict)


__all__ = ["OPTIONAL_KINDS", "REQUIRED_KINDS", "DeviceKind", "DeviceSpec", "Driver"]
