"""Meter values in OCPP 2.0.1's shape (MeterValueType), from the model's samples.

The model's samples carry 1.6's words for measurands, phases, locations and contexts,
which 2.0.1 spells alike; 2.0.1 differs in the value (a number, not a text) and the unit
(``unitOfMeasure``). Used by the triggered MeterValues (F06) and by the transactions'
meter values (J02).
"""

from __future__ import annotations

from typing import Any

from ocppd.model.metering import Sample


def meter_value(sample: Sample, timestamp: str | None = None) -> dict[str, Any]:
    """A MeterValueType payload of ``sample`` (stamped ``timestamp`` when given: the
    sample's own may be a clock placeholder the caller resolved)."""
    values = []
    for v in sample.values:
        item: dict[str, Any] = {
            "value": _number(v.value),
            "context": v.context.value,
            "measurand": v.measurand,
        }
        if v.phase:
            item["phase"] = v.phase
        if v.location:
            item["location"] = v.location
        if v.unit:
            item["unitOfMeasure"] = {"unit": v.unit}
        values.append(item)
    return {"timestamp": timestamp or sample.timestamp, "sampledValue": values}


def _number(text: str) -> int | float:
    number = float(text)
    return int(number) if number.is_integer() else number
