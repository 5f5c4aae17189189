"""The 1.6 words of Smart Charging and the engine's: every enum value maps, both ways
where both exist, and a profile read off the wire keeps every field (plain tests)."""

from __future__ import annotations

from datetime import UTC, datetime

from ocppd.features.smart_charging.words import (
    KIND,
    PURPOSE,
    PURPOSE_WORD,
    RECURRENCY,
    UNIT,
    UNIT_WORD,
    profile_from_wire,
    schedule_to_wire,
)
from ocppd.model.charging_profile import Kind, Purpose, RateUnit, Recurrency
from ocppd.model.smart_charging import LOCAL_MAX, CompositePeriod, CompositeSchedule
from ocppd.protocol.v16 import messages as m
from ocppd.protocol.v16.enums import (
    ChargingProfileKindType,
    ChargingProfilePurposeType,
    ChargingRateUnitType,
    RecurrencyKindType,
)


def test_every_wire_word_has_a_model_word_and_back() -> None:
    assert set(PURPOSE) == set(ChargingProfilePurposeType)
    assert set(PURPOSE.values()) == set(Purpose)
    assert all(PURPOSE[PURPOSE_WORD[p]] is p for p in Purpose)
    assert set(KIND) == set(ChargingProfileKindType) and set(KIND.values()) == set(Kind)
    assert set(RECURRENCY) == set(RecurrencyKindType)
    assert set(RECURRENCY.values()) == set(Recurrency)
    assert set(UNIT) == set(ChargingRateUnitType) and set(UNIT.values()) == set(RateUnit)
    assert all(UNIT[UNIT_WORD[u]] is u for u in RateUnit)


def test_a_wire_profile_keeps_every_field() -> None:
    start = datetime(2026, 11, 21, 18, 0, tzinfo=UTC)
    wire = m.ChargingProfile(
        charging_profile_id=7,
        stack_level=2,
        charging_profile_purpose=ChargingProfilePurposeType.TX_DEFAULT_PROFILE,
        charging_profile_kind=ChargingProfileKindType.RECURRING,
        charging_schedule=m.ChargingSchedule(
            charging_rate_unit=ChargingRateUnitType.W,
            charging_schedule_period=(
                m.ChargingSchedulePeriod(0, 11000.0, 3),
                m.ChargingSchedulePeriod(3600, 4000.0, 1),
            ),
            duration=7200,
            start_schedule=start,
            min_charging_rate=1400.0,
        ),
        recurrency_kind=RecurrencyKindType.DAILY,
        valid_from=start,
        valid_to=datetime(2027, 1, 1, tzinfo=UTC),
    )
    profile = profile_from_wire(2, wire)
    assert (profile.id, profile.connector_id, profile.stack_level) == (7, 2, 2)
    assert profile.purpose is Purpose.TX_DEFAULT and profile.kind is Kind.RECURRING
    assert profile.recurrency is Recurrency.DAILY
    assert profile.valid_from == start and profile.valid_to == datetime(2027, 1, 1, tzinfo=UTC)
    schedule = profile.schedule
    assert schedule.unit is RateUnit.WATT and schedule.duration_s == 7200
    assert schedule.start == start and schedule.min_rate == 1400.0
    assert [(p.start_s, p.limit, p.phases) for p in schedule.periods] == [
        (0, 11000.0, 3),
        (3600, 4000.0, 1),
    ]
    assert profile.transaction_id is None


def test_a_composite_schedule_on_the_wire_omits_its_start() -> None:
    composite = CompositeSchedule(
        connector_id=1,
        start=datetime(2026, 11, 21, tzinfo=UTC),
        duration_s=600,
        unit=RateUnit.WATT,
        periods=(
            CompositePeriod(0, 7360.0, 3, LOCAL_MAX),
            CompositePeriod(300, 4140.0, 3, LOCAL_MAX),
        ),
        min_rate=1380.0,
    )
    wire = schedule_to_wire(composite)
    assert wire.charging_rate_unit is ChargingRateUnitType.W
    assert wire.start_schedule is None  # errata §3.57: scheduleStart says it
    assert wire.duration == 600 and wire.min_charging_rate == 1380.0
    assert [(p.start_period, p.limit, p.number_phases) for p in wire.charging_schedule_period] == [
        (0, 7360.0, 3),
        (300, 4140.0, 3),
    ]
