"""From meter readings to sampled values: measurand, phase, unit, context and location right.

Which measurands a connector can give follows from what its meter (and optional
temperature sensor) measures; a configuration listing anything else is refused
(1.6 §3.16.4: Rejected, nothing changed).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from hal.base import MeterReading, Quantity


class Context(StrEnum):
    PERIODIC = "Sample.Periodic"
    CLOCK = "Sample.Clock"
    BEGIN = "Transaction.Begin"
    END = "Transaction.End"
    TRIGGER = "Trigger"
    INTERRUPTION_BEGIN = "Interruption.Begin"
    INTERRUPTION_END = "Interruption.End"


ENERGY_REGISTER = "Energy.Active.Import.Register"

# measurand -> the quantity it needs (None: the charger always knows it)
MEASURANDS: dict[str, Quantity | None] = {
    ENERGY_REGISTER: Quantity.ENERGY_IMPORT,
    "Energy.Active.Export.Register": Quantity.ENERGY_EXPORT,
    "Power.Active.Import": Quantity.POWER,
    "Current.Import": Quantity.CURRENT,
    "Voltage": Quantity.VOLTAGE,
    "Frequency": Quantity.FREQUENCY,
    "Temperature": Quantity.TEMPERATURE,
    "Current.Offered": None,
    "Power.Offered": Quantity.VOLTAGE,
}


@dataclass(frozen=True, slots=True)
class SampledValue:
    value: str
    measurand: str
    unit: str | None
    context: Context
    phase: str | None = None
    location: str | None = "Outlet"


@dataclass(frozen=True, slots=True)
class Sample:
    """One MeterValue: a timestamp (wire text, possibly a clock placeholder) and its values."""

    timestamp: str
    values: tuple[SampledValue, ...]


# What a home dashboard wants from a charger, in the order sent: the register, power, current
# and voltage (every phase the meter has: one key item gives all its phases) and the offer.
USEFUL_MEASURANDS = (
    ENERGY_REGISTER,
    "Power.Active.Import",
    "Current.Import",
    "Voltage",
    "Current.Offered",
)


def supported_measurands(quantities: Iterable[Quantity]) -> frozenset[str]:
    have = set(quantities)
    return frozenset(m for m, q in MEASURANDS.items() if q is None or q in have)


def default_measurands(supported: frozenset[str]) -> tuple[str, ...]:
    """The default measurand list for meters that can give ``supported``: the useful ones
    they really measure. A central system that asks for more than the meter has is refused
    as a whole (1.6 §3.16.4) and keeps this default, so it must be worth keeping."""
    return tuple(m for m in USEFUL_MEASURANDS if m in supported)


def _number(value: float, digits: int = 1) -> str:
    text = f"{value:.{digits}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def sampled_values(
    reading: MeterReading,
    measurands: Iterable[str],
    context: Context,
    *,
    offered_a: float | None,
    temperature_c: float | None = None,
) -> tuple[SampledValue, ...]:
    """The values of ``measurands`` this reading provides (others are skipped silently:
    the configuration was checked against the meter's abilities when it was set)."""
    out: list[SampledValue] = []
    phases = len(reading.voltage_v) or len(reading.current_a) or 1
    for measurand in measurands:
        if measurand == ENERGY_REGISTER:
            out.append(SampledValue(str(round(reading.energy_wh)), measurand, "Wh", context))
        elif measurand == "Energy.Active.Export.Register" and reading.energy_export_wh is not None:
            out.append(SampledValue(str(round(reading.energy_export_wh)), measurand, "Wh", context))
        elif measurand == "Power.Active.Import" and reading.power_w is not None:
            out.append(SampledValue(_number(reading.power_w), measurand, "W", context))
        elif measurand == "Current.Import":
            for i, amps in enumerate(reading.current_a):
                out.append(
                    SampledValue(_number(amps, 2), measurand, "A", context, phase=f"L{i + 1}")
                )
        elif measurand == "Voltage":
            for i, volts in enumerate(reading.voltage_v):
                out.append(
                    SampledValue(_number(volts), measurand, "V", context, phase=f"L{i + 1}-N")
                )
        elif measurand == "Frequency" and reading.frequency_hz is not None:
            out.append(SampledValue(_number(reading.frequency_hz, 2), measurand, None, context))
        elif measurand == "Temperature":
            celsius = temperature_c if temperature_c is not None else reading.temperature_c
            if celsius is not None:
                out.append(
                    SampledValue(_number(celsius), measurand, "Celsius", context, location="Body")
                )
        elif measurand == "Current.Offered":
            out.append(SampledValue(_number(offered_a or 0.0), measurand, "A", context))
        elif measurand == "Power.Offered" and reading.voltage_v:
            volts = sum(reading.voltage_v) / len(reading.voltage_v)
            out.append(
                SampledValue(_number((offered_a or 0.0) * volts * phases), measurand, "W", context)
            )
    return tuple(out)
