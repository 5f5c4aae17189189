"""Drivers chosen by name: which drivers exist for which device kind, their options, how to build.

A driver is registered as a :class:`Driver` with its options and the dotted path of
its factory. The factory's module is imported only when a config names the driver,
so a charger on sim drivers never loads gpiozero, pymodbus or pyserial.

A factory is called as ``factory(options, context)`` and returns the device.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from hal.options import Option, boolean, choice, integer, number, path, pin, string


class DeviceKind(StrEnum):
    """Device tables in the config: ``[connector.<kind>]`` or, for rfid, ``[rfid]``."""

    CONTACTOR = "contactor"
    PLUG = "plug"
    METER = "meter"
    LOCK = "lock"
    OFFER = "pilot"
    INDICATOR = "indicator"
    TEMPERATURE = "temperature"
    RFID = "rfid"


REQUIRED_KINDS = (DeviceKind.CONTACTOR, DeviceKind.PLUG, DeviceKind.METER)
OPTIONAL_KINDS = (DeviceKind.LOCK, DeviceKind.OFFER, DeviceKind.INDICATOR, DeviceKind.TEMPERATURE)


@dataclass(frozen=True, slots=True)
class Driver:
    """One driver of one kind: name, options, and the factory as ``"module:attribute"``."""

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


_DRIVERS: dict[tuple[DeviceKind, str], Driver] = {}


def register(driver: Driver) -> Driver:
    _DRIVERS[(driver.kind, driver.name)] = driver
    return driver


def driver_for(kind: DeviceKind, name: str) -> Driver | None:
    return _DRIVERS.get((kind, name))


def drivers_of(kind: DeviceKind) -> list[str]:
    return sorted(name for (k, name) in _DRIVERS if k == kind)


# --- the sim drivers (hal.sim) -----------------------------------------------------------

register(Driver(DeviceKind.CONTACTOR, "sim", "hal.sim:SimContactor", doc="simulated relay"))
register(
    Driver(
        DeviceKind.PLUG,
        "sim",
        "hal.sim:SimPlug",
        options=(
            Option(
                "power_w",
                number(0, 1_000_000),
                7360.0,
                "power the simulated EV draws while the contactor is closed",
            ),
        ),
        doc="simulated EV and cable, driven by `ocppctl sim`",
    )
)
register(
    Driver(
        DeviceKind.METER,
        "sim",
        "hal.sim:SimMeter",
        options=(
            Option(
                "voltage_v", number(0, 1000, exclusive_min=True), 230.0, "nominal phase voltage"
            ),
            Option("initial_wh", number(0), 0.0, "register value on first start"),
        ),
        doc="integrates the simulated EV's power; the register survives restarts",
    )
)
register(Driver(DeviceKind.RFID, "sim", "hal.sim:SimReader", doc="no reader; use `ocppctl swipe`"))
register(
    Driver(
        DeviceKind.LOCK,
        "sim",
        "hal.sim:SimLock",
        options=(Option("fail", boolean(), False, "every unlock fails (for tests)"),),
    )
)
register(Driver(DeviceKind.OFFER, "sim", "hal.sim:SimOffer"))
register(Driver(DeviceKind.INDICATOR, "sim", "hal.sim:SimIndicator"))
register(
    Driver(
        DeviceKind.TEMPERATURE,
        "sim",
        "hal.sim:SimTemperature",
        options=(Option("celsius", number(-60, 200), 25.0),),
    )
)

# Real drivers register from hal.drivers (kept separate so this table stays readable).
importlib.import_module("hal.drivers")

__all__ = [
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
    "integer",
    "number",
    "path",
    "pin",
    "register",
    "string",
]
