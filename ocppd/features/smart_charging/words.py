"""The 1.6 words of Smart Charging and the engine's own, mapped in one place.

The engine (``ocppd/model/charging_profile.py``, ``smart_charging.py``) speaks its own
words (Purpose, Kind, Recurrency, RateUnit); this module turns a 1.6 ``ChargingProfile``
into the engine's :class:`~ocppd.model.charging_profile.ChargingProfile` and a composite
schedule back into a 1.6 ``ChargingSchedule``. ``ocppctl status`` names a profile's
purpose with :data:`PURPOSE_WORD`.
"""

from __future__ import annotations

from ocppd.model.charging_profile import (
    ChargingProfile,
    ChargingSchedule,
    Kind,
    Purpose,
    RateUnit,
    Recurrency,
    SchedulePeriod,
)
from ocppd.model.smart_charging import CompositeSchedule
from ocppd.protocol.v16 import messages as m
from ocppd.protocol.v16.enums import (
    ChargingProfileKindType,
    ChargingProfilePurposeType,
    ChargingRateUnitType,
    RecurrencyKindType,
)

PURPOSE = {
    ChargingProfilePurposeType.CHARGE_POINT_MAX_PROFILE: Purpose.CHARGE_POINT_MAX,
    ChargingProfilePurposeType.TX_DEFAULT_PROFILE: Purpose.TX_DEFAULT,
    ChargingProfilePurposeType.TX_PROFILE: Purpose.TX,
}
PURPOSE_WORD = {model: wire for wire, model in PURPOSE.items()}

KIND = {
    ChargingProfileKindType.ABSOLUTE: Kind.ABSOLUTE,
    ChargingProfileKindType.RECURRING: Kind.RECURRING,
    ChargingProfileKindType.RELATIVE: Kind.RELATIVE,
}

RECURRENCY = {
    RecurrencyKindType.DAILY: Recurrency.DAILY,
    RecurrencyKindType.WEEKLY: Recurrency.WEEKLY,
}

UNIT = {ChargingRateUnitType.A: RateUnit.AMPERE, ChargingRateUnitType.W: RateUnit.WATT}
UNIT_WORD = {model: wire for wire, model in UNIT.items()}

# ChargingScheduleAllowedChargingRateUnit's items (1.6 §9.4.2, errata §3.88: "Current"
# means schedules in A, "Power" schedules in W)
ALLOWED_UNIT = {"Current": RateUnit.AMPERE, "Power": RateUnit.WATT}


def profile_from_wire(connector_id: int, wire: m.ChargingProfile) -> ChargingProfile:
    """The engine's profile for a 1.6 ``csChargingProfiles`` set on ``connector_id``."""
    schedule = wire.charging_schedule
    return ChargingProfile(
        id=wire.charging_profile_id,
        connector_id=connector_id,
        stack_level=wire.stack_level,
        purpose=PURPOSE[wire.charging_profile_purpose],
        kind=KIND[wire.charging_profile_kind],
        schedule=ChargingSchedule(
            unit=UNIT[schedule.charging_rate_unit],
            periods=tuple(
                SchedulePeriod(p.start_period, p.limit, p.number_phases)
                for p in schedule.charging_schedule_period
            ),
            duration_s=schedule.duration,
            start=schedule.start_schedule,
            min_rate=schedule.min_charging_rate,
        ),
        recurrency=None if wire.recurrency_kind is None else RECURRENCY[wire.recurrency_kind],
        valid_from=wire.valid_from,
        valid_to=wire.valid_to,
        transaction_id=wire.transaction_id,
    )


def schedule_to_wire(composite: CompositeSchedule) -> m.ChargingSchedule:
    """A composite schedule as GetCompositeSchedule.conf's ``chargingSchedule``; its
    ``startSchedule`` is omitted (errata §3.57: the answer's ``scheduleStart`` says it)."""
    return m.ChargingSchedule(
        charging_rate_unit=UNIT_WORD[composite.unit],
        charging_schedule_period=tuple(
            m.ChargingSchedulePeriod(p.start_s, p.limit, p.phases) for p in composite.periods
        ),
        duration=composite.duration_s,
        min_charging_rate=composite.min_rate,
    )
