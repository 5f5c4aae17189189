"""Charging profiles: which ones the charger takes, and how the installed set behaves
(OCPP 1.6 §3.13, §5.5, §5.16, §7.8-7.14 and the 2025-04 errata)."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime, timedelta

import pytest

from ocppd.model.charging_profile import (
    ChargingProfile,
    ChargingSchedule,
    Kind,
    ProfileFormatError,
    ProfileLimits,
    ProfileStore,
    Purpose,
    RateUnit,
    Recurrency,
    Refusal,
    RunningTransaction,
    SchedulePeriod,
    check_profile,
    check_remote_start_profile,
    profile_from_dict,
    profile_to_dict,
)

T0 = datetime(2026, 12, 2, 8, 0, tzinfo=UTC)
LIMITS = ProfileLimits(connectors=2, max_stack_level=3, max_periods=4, units=frozenset(RateUnit))
RUNNING = {1: RunningTransaction(started=T0, transaction_id=41)}


def profile(
    id: int = 1,
    *,
    connector: int = 1,
    stack: int = 0,
    purpose: Purpose = Purpose.TX_DEFAULT,
    kind: Kind = Kind.ABSOLUTE,
    periods: tuple[tuple[int, float], ...] = ((0, 16.0),),
    unit: RateUnit = RateUnit.AMPERE,
    start: datetime | None = T0,
    **more: object,
) -> ChargingProfile:
    schedule = ChargingSchedule(
        unit, tuple(SchedulePeriod(s, lim) for s, lim in periods), None, start
    )
    return ChargingProfile(id, connector, stack, purpose, kind, schedule, **more)  # type: ignore[arg-type]


# --- checking an incoming profile ---------------------------------------------------------------


def test_a_plain_tx_default_profile_is_accepted() -> None:
    verdict = check_profile(profile(), LIMITS, {})
    assert verdict.accepted and verdict.refusal is None


@pytest.mark.parametrize("connector", [-1, 3])
def test_a_connector_the_charger_does_not_have_is_a_malformed_request(connector: int) -> None:
    # errata 2025-04 §3.39: CALLERROR PropertyConstraintViolation, not Rejected
    assert (
        check_profile(profile(connector=connector), LIMITS, {}).refusal is Refusal.UNKNOWN_CONNECTOR
    )


def test_a_charger_maximum_is_taken_only_on_connector_0() -> None:
    assert check_profile(
        profile(purpose=Purpose.CHARGE_POINT_MAX, connector=0), LIMITS, {}
    ).accepted
    verdict = check_profile(profile(purpose=Purpose.CHARGE_POINT_MAX, connector=1), LIMITS, {})
    assert verdict.refusal is Refusal.WRONG_CONNECTOR


def test_a_charger_maximum_cannot_count_from_a_transaction() -> None:
    """Unless it is one limit for ever, which means the same from any start (Home
    Assistant's slider sends that, issue 20)."""
    for periods in (((0, 16.0), (600, 8.0)), ((0, 16.0), (60, 10.0), (120, 6.0))):
        relative = profile(
            purpose=Purpose.CHARGE_POINT_MAX, connector=0, kind=Kind.RELATIVE, periods=periods
        )
        assert check_profile(relative, LIMITS, {}).refusal is Refusal.SCHEDULE, periods
    constant = profile(
        purpose=Purpose.CHARGE_POINT_MAX, connector=0, kind=Kind.RELATIVE, start=None
    )
    assert check_profile(constant, LIMITS, {}).accepted
    timed = dataclasses.replace(
        constant, schedule=dataclasses.replace(constant.schedule, duration_s=3600)
    )
    assert check_profile(timed, LIMITS, {}).refusal is Refusal.SCHEDULE


def test_a_transaction_profile_naming_a_transaction_not_yet_numbered_is_rejected() -> None:
    unnumbered = {1: RunningTransaction(started=T0)}
    verdict = check_profile(profile(purpose=Purpose.TX, transaction_id=41), LIMITS, unnumbered)
    assert verdict.refusal is Refusal.OTHER_TRANSACTION and "not numbered yet" in verdict.reason


def test_a_tx_default_profile_may_cover_every_connector_or_one() -> None:
    assert check_profile(profile(connector=0), LIMITS, {}).accepted
    assert check_profile(profile(connector=2), LIMITS, {}).accepted


def test_a_transaction_profile_without_a_running_transaction_is_rejected() -> None:
    # OCTT TC_058_1: TxProfile while no transaction runs
    verdict = check_profile(profile(purpose=Purpose.TX, connector=2), LIMITS, RUNNING)
    assert verdict.refusal is Refusal.NO_TRANSACTION
    assert "connector 2" in verdict.reason


def test_a_transaction_profile_for_another_transaction_is_rejected() -> None:
    verdict = check_profile(profile(purpose=Purpose.TX, transaction_id=40), LIMITS, RUNNING)
    assert verdict.refusal is Refusal.OTHER_TRANSACTION


def test_a_transaction_profile_for_the_running_transaction_is_accepted() -> None:
    assert check_profile(profile(purpose=Purpose.TX, transaction_id=41), LIMITS, RUNNING).accepted
    assert check_profile(profile(purpose=Purpose.TX), LIMITS, RUNNING).accepted


def test_a_transaction_id_on_a_profile_of_another_purpose_is_rejected() -> None:
    verdict = check_profile(profile(transaction_id=41), LIMITS, RUNNING)
    assert verdict.refusal is Refusal.WRONG_PURPOSE


def test_a_transaction_profile_on_connector_0_is_rejected() -> None:
    verdict = check_profile(profile(purpose=Purpose.TX, connector=0), LIMITS, RUNNING)
    assert verdict.refusal is Refusal.WRONG_CONNECTOR


def test_a_stack_level_above_the_maximum_is_rejected() -> None:
    assert check_profile(profile(stack=3), LIMITS, {}).accepted
    verdict = check_profile(profile(stack=4), LIMITS, {})
    assert verdict.refusal is Refusal.STACK_LEVEL and "0..3" in verdict.reason


def test_more_periods_than_the_maximum_are_rejected() -> None:
    four = tuple((i * 60, 16.0) for i in range(4))
    assert check_profile(profile(periods=four), LIMITS, {}).accepted
    five = tuple((i * 60, 16.0) for i in range(5))
    assert check_profile(profile(periods=five), LIMITS, {}).refusal is Refusal.TOO_MANY_PERIODS


def test_a_unit_the_charger_does_not_take_is_rejected() -> None:
    amps_only = dataclasses.replace(LIMITS, units=frozenset({RateUnit.AMPERE}))
    assert check_profile(profile(unit=RateUnit.WATT), amps_only, {}).refusal is Refusal.UNIT


@pytest.mark.parametrize(
    "periods",
    [
        (),
        ((10, 16.0),),  # errata §3.45: the first period starts at 0
        ((0, 16.0), (60, 8.0), (60, 10.0)),
        ((0, 16.0), (120, 8.0), (60, 10.0)),
        ((0, -1.0),),
        ((0, float("nan")),),
    ],
)
def test_periods_must_start_at_0_ascend_and_limit_at_0_or_more(
    periods: tuple[tuple[int, float], ...],
) -> None:
    assert check_profile(profile(periods=periods), LIMITS, {}).refusal is Refusal.PERIODS


def test_phases_are_1_2_or_3() -> None:
    bad = profile()
    schedule = dataclasses.replace(bad.schedule, periods=(SchedulePeriod(0, 16.0, 4),))
    verdict = check_profile(dataclasses.replace(bad, schedule=schedule), LIMITS, {})
    assert verdict.refusal is Refusal.PERIODS


@pytest.mark.parametrize(
    ("kind", "start", "recurrency", "accepted"),
    [
        (Kind.ABSOLUTE, None, None, False),  # §7.9: a fixed point in time
        (Kind.RECURRING, T0, None, False),
        (Kind.RECURRING, None, Recurrency.DAILY, False),
        (Kind.RECURRING, T0, Recurrency.WEEKLY, True),
        (Kind.RELATIVE, None, None, True),
    ],
)
def test_a_schedule_has_what_its_kind_needs(
    kind: Kind, start: datetime | None, recurrency: Recurrency | None, accepted: bool
) -> None:
    verdict = check_profile(profile(kind=kind, start=start, recurrency=recurrency), LIMITS, {})
    assert verdict.accepted is accepted
    assert accepted or verdict.refusal is Refusal.SCHEDULE


def test_valid_to_must_follow_valid_from_and_instants_carry_a_zone() -> None:
    backwards = profile(valid_from=T0, valid_to=T0 - timedelta(seconds=1))
    assert check_profile(backwards, LIMITS, {}).refusal is Refusal.SCHEDULE
    naive = profile(valid_from=T0.replace(tzinfo=None))
    assert check_profile(naive, LIMITS, {}).refusal is Refusal.SCHEDULE


def test_a_duration_must_be_positive() -> None:
    p = profile()
    zero = dataclasses.replace(p, schedule=dataclasses.replace(p.schedule, duration_s=0))
    assert check_profile(zero, LIMITS, {}).refusal is Refusal.SCHEDULE


def test_a_remote_start_carries_a_transaction_profile_without_a_transaction_id() -> None:
    # §5.16.2 with errata §3.41; OCTT TC_059 (no transaction runs yet)
    assert check_remote_start_profile(
        profile(purpose=Purpose.TX, kind=Kind.RELATIVE), LIMITS
    ).accepted
    with_id = profile(purpose=Purpose.TX, transaction_id=41)
    assert check_remote_start_profile(with_id, LIMITS).refusal is Refusal.WRONG_PURPOSE
    assert check_remote_start_profile(profile(), LIMITS).refusal is Refusal.WRONG_PURPOSE
    too_high = profile(purpose=Purpose.TX, stack=9)
    assert check_remote_start_profile(too_high, LIMITS).refusal is Refusal.STACK_LEVEL


# --- the store ----------------------------------------------------------------------------------


def test_a_profile_with_the_same_id_replaces_the_old_one() -> None:
    store = ProfileStore()
    store.install(profile(1, stack=0))
    assert store.install(profile(1, stack=2)).accepted
    assert len(store) == 1 and store.get(1) == profile(1, stack=2)


def test_a_profile_in_the_same_slot_replaces_the_old_one() -> None:
    # §3.13.2: same stackLevel and purpose; per connector (§3.13.1 for TxDefaultProfile)
    store = ProfileStore()
    store.install(profile(1, stack=1))
    store.install(profile(2, stack=1, connector=0))  # another connector: stays beside it
    store.install(profile(3, stack=1, purpose=Purpose.TX))  # another purpose: too
    assert store.replaced_by(profile(4, stack=1)) == (profile(1, stack=1),)
    store.install(profile(4, stack=1))
    assert [p.id for p in store] == [2, 3, 4]


def test_without_slot_replacement_only_the_same_id_is_replaced() -> None:
    # OCPP 2.0.1 K01.FR.06: a second profile in a slot is refused by the caller when valid
    # at the same time, else kept beside the first; the same id still replaces (K01.FR.05)
    store = ProfileStore(max_installed=2)
    store.install(profile(1, stack=1))
    assert store.replaced_by(profile(2, stack=1), replace_slot=False) == ()
    assert store.install(profile(2, stack=1), replace_slot=False).accepted
    assert [p.id for p in store] == [1, 2]
    assert store.admits(profile(3, stack=1), replace_slot=False).refusal is Refusal.FULL
    assert store.admits(profile(3, stack=1)).accepted  # 1.6: it would replace both
    assert store.install(profile(2, stack=3), replace_slot=False).accepted
    assert [(p.id, p.stack_level) for p in store] == [(1, 1), (2, 3)]


def test_the_installed_count_is_limited_but_a_replacement_needs_no_room() -> None:
    store = ProfileStore(max_installed=2)
    assert store.install(profile(1, stack=0)).accepted
    assert store.install(profile(2, stack=1)).accepted
    verdict = store.install(profile(3, stack=2))
    assert verdict.refusal is Refusal.FULL and 3 not in store
    assert store.install(profile(3, stack=1)).accepted  # replaces 2
    assert [p.id for p in store] == [1, 3]


def test_clearing_by_id_ignores_the_other_criteria() -> None:
    # errata 2025-04 §3.26: "If id is specified, then all other fields are ignored."
    store = ProfileStore(profiles=[profile(1), profile(2, stack=1)])
    assert [p.id for p in store.clear(profile_id=1, connector_id=2, stack_level=5)] == [1]
    assert store.clear(profile_id=1) == ()  # nothing matched: Unknown in 1.6


def test_clearing_by_criteria_needs_all_of_them_to_match() -> None:
    # errata 2025-04 §3.25: logical AND; OCTT TC_067 clears by id, then by criteria
    store = ProfileStore(
        profiles=[
            profile(1, connector=1, stack=0),
            profile(2, connector=1, stack=1),
            profile(3, connector=2, stack=1),
            profile(4, connector=0, stack=1, purpose=Purpose.CHARGE_POINT_MAX),
        ]
    )
    removed = store.clear(connector_id=1, stack_level=1, purpose=Purpose.TX_DEFAULT)
    assert [p.id for p in removed] == [2]
    assert [p.id for p in store.clear(purpose=Purpose.CHARGE_POINT_MAX)] == [4]
    assert store.clear(connector_id=2, stack_level=0) == ()
    assert [p.id for p in store.clear()] == [1, 3]  # no criterion: all
    assert len(store) == 0


def test_transaction_profiles_end_with_their_transaction() -> None:
    store = ProfileStore(
        profiles=[
            profile(1, purpose=Purpose.TX),
            profile(2),
            profile(3, purpose=Purpose.TX, connector=2),
        ]
    )
    assert [p.id for p in store.end_transaction(1)] == [1]
    assert [p.id for p in store] == [2, 3]


def test_a_remote_start_profile_takes_the_transaction_id_once_it_is_known() -> None:
    store = ProfileStore(profiles=[profile(1, purpose=Purpose.TX), profile(2)])
    store.bind_transaction(1, 77)
    assert store.get(1) == profile(1, purpose=Purpose.TX, transaction_id=77)
    assert store.get(2) == profile(2)


def test_a_2_0_1_transaction_is_named_by_its_string_id() -> None:
    store = ProfileStore(profiles=[profile(1, purpose=Purpose.TX)])
    store.bind_transaction(1, "c0ffee-1")
    assert store.get(1) == profile(1, purpose=Purpose.TX, transaction_id="c0ffee-1")
    running = {1: RunningTransaction(started=T0, transaction_id="c0ffee-1")}
    mine = profile(2, purpose=Purpose.TX, transaction_id="c0ffee-1")
    assert check_profile(mine, LIMITS, running).accepted
    # a 1.6 integer never names a 2.0.1 transaction (transactions stay in their version)
    other = profile(3, purpose=Purpose.TX, transaction_id=41)
    assert check_profile(other, LIMITS, running).refusal is Refusal.OTHER_TRANSACTION


def test_the_profiles_of_a_connector_include_connector_0s() -> None:
    store = ProfileStore(
        profiles=[profile(1, connector=0), profile(2, connector=1), profile(3, connector=2)]
    )
    assert [p.id for p in store.for_connector(2)] == [1, 3]


def test_the_store_survives_a_round_trip_through_json() -> None:
    rich = ChargingProfile(
        id=9,
        connector_id=0,
        stack_level=2,
        purpose=Purpose.TX_DEFAULT,
        kind=Kind.RECURRING,
        schedule=ChargingSchedule(
            RateUnit.WATT,
            (SchedulePeriod(0, 11000.0, 3), SchedulePeriod(28800, 6000.5, 1)),
            86400,
            T0,
            1380.0,
            4,  # the central system's schedule id (2.0.1)
        ),
        recurrency=Recurrency.DAILY,
        valid_from=T0 - timedelta(days=1),
        valid_to=T0 + timedelta(days=30),
    )
    store = ProfileStore(
        5,
        [
            rich,
            profile(1, purpose=Purpose.TX, transaction_id=41),
            profile(2, purpose=Purpose.TX, connector=2, transaction_id="9f2c-4e"),
        ],
    )
    text = json.dumps(store.to_records())
    again = ProfileStore.from_records(json.loads(text), max_installed=5)
    assert list(again) == list(store)
    assert "TxDefaultProfile" not in text and "tx_default" in text  # the model's own words


@pytest.mark.parametrize(
    "damage",
    [
        lambda r: r.pop("purpose"),
        lambda r: r.update(purpose="TxDefaultProfile"),
        lambda r: r.update(stack_level="1"),
        lambda r: r["schedule"].update(start="2026-12-02T08:00:00"),  # no time zone
        lambda r: r["schedule"]["periods"][0].pop("limit"),
        lambda r: r.update(schedule=None),
    ],
)
def test_a_damaged_record_is_refused_with_a_reason(damage) -> None:  # type: ignore[no-untyped-def]
    record = profile_to_dict(profile())
    damage(record)
    with pytest.raises(ProfileFormatError, match="charging profile"):
        profile_from_dict(record)


def test_the_store_shows_its_state() -> None:
    store = ProfileStore(3, [profile(1, connector=0, stack=2)])
    assert repr(store) == "<ProfileStore 1/3 [1:tx_default@0/2]>"
