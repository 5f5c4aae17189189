"""The composite schedule: the spec's worked examples, OCTT-style cases, and properties
checked against a naive second-by-second reading of the rules (OCPP 1.6 §3.13, §5.7,
§5.16, §7.12-7.14, errata 2025-04)."""

from __future__ import annotations

import itertools
import math
import os
import random
from datetime import UTC, datetime, timedelta

import pytest

from ocppd.model.charging_profile import (
    ChargingProfile,
    ChargingSchedule,
    Kind,
    Purpose,
    RateUnit,
    Recurrency,
    RunningTransaction,
    SchedulePeriod,
)
from ocppd.model.smart_charging import (
    CONNECTORS,
    LOCAL_MAX,
    CompositeSchedule,
    ConnectorFacts,
    LimitSource,
    Site,
    SourceKind,
    composite_schedule,
    limit_at,
    next_change,
)

A, W = RateUnit.AMPERE, RateUnit.WATT
MAX, DEFAULT, TX = Purpose.CHARGE_POINT_MAX, Purpose.TX_DEFAULT, Purpose.TX
NOW = datetime(2026, 12, 2, 6, 0, tzinfo=UTC)  # a Wednesday
MIDNIGHT = datetime(2026, 12, 2, tzinfo=UTC)


def profile(
    id: int,
    periods: list[tuple[int, float]] | list[tuple[int, float, int]],
    *,
    purpose: Purpose = DEFAULT,
    connector: int = 1,
    stack: int = 0,
    kind: Kind = Kind.ABSOLUTE,
    start: datetime | None = NOW,
    duration: int | None = None,
    unit: RateUnit = A,
    recurrency: Recurrency | None = None,
    valid_from: datetime | None = None,
    valid_to: datetime | None = None,
    transaction_id: int | None = None,
    min_rate: float | None = None,
) -> ChargingProfile:
    return ChargingProfile(
        id,
        connector,
        stack,
        purpose,
        kind,
        ChargingSchedule(
            unit, tuple(SchedulePeriod(*p) for p in periods), duration, start, min_rate
        ),
        recurrency,
        valid_from,
        valid_to,
        transaction_id,
    )


def site(
    max_a: float = 32.0, phases: int = 3, tx: RunningTransaction | None = None, connectors: int = 1
) -> Site:
    return Site(
        {n: ConnectorFacts(max_a, phases, tx if n == 1 else None) for n in range(1, connectors + 1)}
    )


def steps(schedule: CompositeSchedule) -> list[tuple[int, float]]:
    return [(p.start_s, p.limit) for p in schedule.periods]


def source(p: ChargingProfile) -> LimitSource:
    return LimitSource(SourceKind.PROFILE, p.id, p.purpose, p.stack_level)


# --- worked examples ----------------------------------------------------------------------------


def test_the_spec_example_daily_profile_limits_to_6_kw_from_8_to_20() -> None:
    # §3.13.7: TxDefaultProfile, Recurring Daily from 2013-01-01T00:00Z, W, 3 phases
    example = profile(
        100,
        [(0, 11000, 3), (28800, 6000, 3), (72000, 11000, 3)],
        kind=Kind.RECURRING,
        recurrency=Recurrency.DAILY,
        start=datetime(2013, 1, 1, tzinfo=UTC),
        duration=86400,
        unit=W,
    )
    day = composite_schedule([example], site(), 1, NOW, 86400, W)
    assert steps(day) == [(0, 11000), (2 * 3600, 6000), (14 * 3600, 11000)]
    assert day.start == NOW and day.duration_s == 86400 and day.unit is W
    assert all(p.phases == 3 and p.source == source(example) for p in day.periods)
    # in amperes per phase: W / (230 V x 3), rounded down
    amps = composite_schedule([example], site(), 1, NOW, 86400, A)
    assert steps(amps) == [(0, 15.9), (7200, 8.6), (50400, 15.9)]


def test_a_higher_stack_level_prevails_while_it_is_valid() -> None:
    # §3.13.2, first figure: an exception on top of a standing profile
    base = profile(1, [(0, 32)], start=MIDNIGHT)
    exception = profile(
        2,
        [(0, 10)],
        stack=1,
        start=MIDNIGHT,
        valid_from=NOW + timedelta(hours=2),
        valid_to=NOW + timedelta(hours=4),
    )
    schedule = composite_schedule([base, exception], site(max_a=40), 1, NOW, 6 * 3600, A)
    assert steps(schedule) == [(0, 32), (7200, 10), (14400, 32)]
    assert [p.source for p in schedule.periods] == [source(base), source(exception), source(base)]


def test_a_replacement_valid_from_later_leaves_default_behaviour_until_then() -> None:
    # §3.13.2, second figure: the installed profile was replaced (same slot) by one valid
    # from the future: until then the charger behaves as if it had no profile
    later = profile(2, [(0, 10)], start=MIDNIGHT, valid_from=NOW + timedelta(hours=1))
    schedule = composite_schedule([later], site(max_a=16), 1, NOW, 3 * 3600, A)
    assert steps(schedule) == [(0, 16), (3600, 10)]
    assert schedule.periods[0].source == LOCAL_MAX


def test_a_top_stack_level_without_duration_never_falls_back() -> None:
    # errata 2025-04 §3.7
    low = profile(1, [(0, 8)], start=MIDNIGHT)
    top = profile(2, [(0, 20)], stack=3, start=MIDNIGHT)
    assert steps(composite_schedule([low, top], site(), 1, NOW, 7 * 86400, A)) == [(0, 20)]


def test_purposes_combine_by_the_minimum_over_intervals_of_any_length() -> None:
    # §3.13.3: ChargePointMaxProfile and TxDefaultProfile merged by the minimum
    cap = profile(1, [(0, 20), (3600, 10), (9000, 25)], purpose=MAX, connector=0)
    default = profile(2, [(0, 16), (1800, 24), (5400, 6)])
    schedule = composite_schedule([cap, default], site(), 1, NOW, 4 * 3600, A)
    assert steps(schedule) == [(0, 16), (1800, 20), (3600, 10), (5400, 6)]
    assert [p.source.profile_id for p in schedule.periods] == [2, 1, 1, 2]


def test_periods_beyond_the_duration_are_not_executed_and_the_last_one_lasts() -> None:
    # §5.16.4 notes
    cut = profile(1, [(0, 10), (600, 12), (1200, 14)], duration=900)
    assert steps(composite_schedule([cut], site(max_a=20), 1, NOW, 1800, A)) == [
        (0, 10),
        (600, 12),
        (900, 20),
    ]
    long = profile(1, [(0, 10), (600, 12)], duration=3600)
    assert steps(composite_schedule([long], site(max_a=20), 1, NOW, 7200, A)) == [
        (0, 10),
        (600, 12),
        (3600, 20),
    ]


def test_a_recurrence_shorter_than_its_schedule_cuts_the_remainder() -> None:
    # §5.16.4 and errata §3.44: periods past the recurrence period are not executed
    daily = profile(
        1,
        [(0, 10), (43200, 12), (90000, 6)],  # 25 h: the 6 A period never comes
        kind=Kind.RECURRING,
        recurrency=Recurrency.DAILY,
        start=MIDNIGHT,
    )
    two_days = composite_schedule([daily], site(), 1, MIDNIGHT, 2 * 86400, A)
    assert steps(two_days) == [(0, 10), (43200, 12), (86400, 10), (129600, 12)]


def test_after_a_recurring_schedule_s_duration_the_next_profile_down_applies() -> None:
    # errata 2025-04 §3.43: fall back to a lower stack level, else to no profile
    nightly = profile(
        2,
        [(0, 6)],
        stack=1,
        kind=Kind.RECURRING,
        recurrency=Recurrency.DAILY,
        start=MIDNIGHT + timedelta(hours=22),
        duration=8 * 3600,
    )
    base = profile(1, [(0, 16)], start=MIDNIGHT)
    schedule = composite_schedule([nightly, base], site(), 1, MIDNIGHT, 2 * 86400, A)
    assert steps(schedule) == [(0, 16), (79200, 6), (108000, 16), (165600, 6)]
    alone = composite_schedule([nightly], site(max_a=20), 1, MIDNIGHT, 86400, A)
    assert steps(alone) == [(0, 20), (79200, 6)]  # nothing before its first start


def test_a_weekly_profile_repeats_every_seven_days() -> None:
    weekend = profile(
        1,
        [(0, 32), (5 * 86400, 10)],  # weekdays 32 A, weekend 10 A, from a Monday
        kind=Kind.RECURRING,
        recurrency=Recurrency.WEEKLY,
        start=datetime(2026, 11, 30, tzinfo=UTC),
    )
    schedule = composite_schedule([weekend], site(), 1, MIDNIGHT, 14 * 86400, A)
    day = 86400
    assert steps(schedule) == [
        (0, 32),
        (3 * day, 10),
        (5 * day, 32),
        (10 * day, 10),
        (12 * day, 32),
    ]


def test_a_relative_profile_counts_from_the_start_of_the_transaction() -> None:
    started = NOW - timedelta(minutes=10)
    tx = RunningTransaction(started, 41)
    relative = profile(
        1, [(0, 6), (900, 16)], purpose=TX, kind=Kind.RELATIVE, start=None, transaction_id=41
    )
    schedule = composite_schedule([relative], site(tx=tx), 1, NOW, 3600, A)
    assert steps(schedule) == [(0, 6), (300, 16)]
    # no transaction: a TX profile does not apply
    assert steps(composite_schedule([relative], site(), 1, NOW, 3600, A)) == [(0, 32)]


def test_a_relative_default_profile_on_an_idle_connector_counts_from_now() -> None:
    # 7.13: "relative to start of charging": an idle connector shows what a
    # transaction started now would get
    relative = profile(1, [(0, 6), (900, 16)], kind=Kind.RELATIVE, start=None)
    assert steps(composite_schedule([relative], site(), 1, NOW, 3600, A)) == [(0, 6), (900, 16)]


def test_a_transaction_profile_prevails_over_default_profiles_even_when_higher() -> None:
    # after OCTT TC_066: a charger maximum, a default and a transaction profile
    tx = RunningTransaction(NOW - timedelta(seconds=30), 41)
    cap = profile(1, [(0, 10)], purpose=MAX, connector=0, duration=86400)
    default = profile(2, [(0, 6), (100, 12)], stack=5)
    mine = profile(3, [(0, 8), (200, 14)], purpose=TX, duration=300, transaction_id=41)
    schedule = composite_schedule([cap, default, mine], site(tx=tx), 1, NOW, 400, A)
    assert steps(schedule) == [(0, 8), (200, 10)]
    assert [p.source.profile_id for p in schedule.periods] == [3, 1]
    # the same transaction profile seen after its transaction: the default comes back
    idle = composite_schedule([cap, default, mine], site(), 1, NOW, 400, A)
    assert steps(idle) == [(0, 6), (100, 10)]


def test_stacked_default_profiles_fill_each_other_s_gaps() -> None:
    # after OCTT TC_072: stack level 1 for 150 s over stack level 0's 6/8/10 A
    low = profile(1, [(0, 6), (100, 8), (200, 10)], duration=400)
    high = profile(2, [(0, 7)], stack=1, duration=150)
    schedule = composite_schedule([low, high], site(), 1, NOW, 400, A)
    assert steps(schedule) == [(0, 7), (150, 8), (200, 10)]


def test_a_connector_s_own_default_prevails_over_connector_0_s() -> None:
    everywhere = profile(1, [(0, 10)], connector=0, stack=4)
    own = profile(2, [(0, 20)], connector=2, duration=600)
    both = site(connectors=2)
    assert steps(composite_schedule([everywhere, own], both, 2, NOW, 1200, A)) == [
        (0, 20),
        (600, 10),
    ]
    assert steps(composite_schedule([everywhere, own], both, 1, NOW, 1200, A)) == [(0, 10)]


def test_a_stale_transaction_profile_of_another_transaction_is_ignored() -> None:
    tx = RunningTransaction(NOW, 42)
    old = profile(1, [(0, 6)], purpose=TX, transaction_id=41)
    assert steps(composite_schedule([old], site(tx=tx), 1, NOW, 60, A)) == [(0, 32)]


def test_with_no_profile_the_connector_s_maximum_is_the_limit() -> None:
    schedule = composite_schedule([], site(max_a=16, phases=1), 1, NOW, 3600, W)
    assert steps(schedule) == [(0, 3680)]  # 16 A x 230 V x 1 phase
    assert schedule.periods[0].source == LOCAL_MAX
    assert limit_at([], site(max_a=16), 1, NOW).source == LOCAL_MAX


def test_watts_become_amperes_with_the_phases_the_connector_can_use() -> None:
    # §7.12: A = W / (230 V x phases); errata §3.34: more phases than wired do not
    # recompute the limit for the phases that are used
    three = profile(1, [(0, 11000)], unit=W)  # numberPhases absent: 3
    one_phase = site(max_a=63, phases=1)
    limit = limit_at([three], one_phase, 1, NOW)
    assert limit.amps == pytest.approx(11000 / 230) and limit.phases == 1
    amps_on_one = profile(1, [(0, 16, 3)])
    assert limit_at([amps_on_one], one_phase, 1, NOW).amps == 16


def test_a_period_may_restrict_the_phases() -> None:
    single = profile(1, [(0, 16, 1), (600, 16, 3)])
    schedule = composite_schedule([single], site(), 1, NOW, 1200, W)
    assert steps(schedule) == [(0, 3680), (600, 11040)]
    assert [p.phases for p in schedule.periods] == [1, 3]


def test_the_local_maximum_caps_the_central_system_s_limit() -> None:
    generous = profile(1, [(0, 40)], start=MIDNIGHT)
    limit = limit_at([generous], site(max_a=16), 1, NOW)
    assert (limit.amps, limit.source) == (16, LOCAL_MAX)
    assert limit_at([generous], site(max_a=63), 1, NOW).source == source(generous)


def test_a_profile_equal_to_the_local_maximum_is_named_as_the_source() -> None:
    equal = profile(1, [(0, 32)], start=MIDNIGHT)
    assert limit_at([equal], site(max_a=32), 1, NOW).source == source(equal)


def test_the_minimum_charging_rate_is_reported_with_the_limit() -> None:
    with_min = profile(1, [(0, 10)], min_rate=4140, unit=W)  # 6 A on 3 phases
    assert limit_at([with_min], site(), 1, NOW).min_rate_a == pytest.approx(6)
    assert composite_schedule([with_min], site(), 1, NOW, 60, W).min_rate == 4140
    assert composite_schedule([with_min], site(), 1, NOW, 60, A).min_rate == 6
    assert limit_at([], site(), 1, NOW).min_rate_a is None


def test_connectors_charging_together_share_the_charger_maximum() -> None:
    # §3.13.3; the one that needs less keeps it, the other takes the rest
    tx1, tx2 = RunningTransaction(NOW, 41), RunningTransaction(NOW, 42)
    two = Site({1: ConnectorFacts(32, 3, tx1), 2: ConnectorFacts(32, 3, tx2)})
    cap = profile(1, [(0, 32)], purpose=MAX, connector=0, start=MIDNIGHT)
    small = profile(2, [(0, 10), (600, 32)], purpose=TX, connector=2, transaction_id=42)
    first = limit_at([cap, small], two, 1, NOW)
    assert (first.amps, first.source) == (22, source(cap))
    assert limit_at([cap, small], two, 2, NOW).source == source(small)
    # the other connector's boundary moves this one's limit: it is this one's deadline too
    assert next_change([cap, small], two, 1, NOW) == NOW + timedelta(seconds=600)
    assert steps(composite_schedule([cap, small], two, 1, NOW, 1200, A)) == [(0, 22), (600, 16)]


def test_an_idle_connector_shows_its_share_as_if_it_started_now() -> None:
    tx1 = RunningTransaction(NOW, 41)
    two = Site({1: ConnectorFacts(32, 3, tx1), 2: ConnectorFacts(32, 3)})
    cap = profile(1, [(0, 32)], purpose=MAX, connector=0, start=MIDNIGHT)
    assert limit_at([cap], two, 1, NOW).amps == 32  # alone while the other is idle
    assert limit_at([cap], two, 2, NOW).amps == 16


def test_connector_0_reports_the_whole_charger_capped_by_its_maximum() -> None:
    # §5.7 with errata §3.30: the total the charger expects to draw
    two = Site({1: ConnectorFacts(16, 3), 2: ConnectorFacts(16, 3)})
    cap = profile(1, [(0, 40), (600, 20)], purpose=MAX, connector=0)
    schedule = composite_schedule([cap], two, 0, NOW, 1200, A)
    assert steps(schedule) == [(0, 32), (600, 20)]
    assert [p.source for p in schedule.periods] == [CONNECTORS, source(cap)]
    watts = composite_schedule([cap], two, 0, NOW, 1200, W)
    assert steps(watts) == [(0, 22080), (600, 13800)]


def test_an_unknown_connector_is_refused() -> None:
    with pytest.raises(ValueError, match="no connector 3"):
        composite_schedule([], site(), 3, NOW, 60, A)


def test_limits_are_rounded_down_to_one_decimal() -> None:
    odd = profile(1, [(0, 10000)], unit=W)  # 14.4927... A
    assert steps(composite_schedule([odd], site(), 1, NOW, 60, A)) == [(0, 14.4)]


def test_next_change_is_the_next_boundary_where_the_limit_moves() -> None:
    low = profile(1, [(0, 6), (100, 6), (200, 10)], duration=400)  # 100: no change
    high = profile(2, [(0, 7)], stack=1, duration=150)
    both = [low, high]
    assert next_change(both, site(), 1, NOW) == NOW + timedelta(seconds=150)
    assert next_change(both, site(), 1, NOW + timedelta(seconds=150)) == NOW + timedelta(
        seconds=200
    )
    assert next_change(both, site(), 1, NOW + timedelta(seconds=200)) == NOW + timedelta(
        seconds=400
    )
    assert next_change(both, site(), 1, NOW + timedelta(seconds=400)) is None
    assert next_change([], site(), 1, NOW) is None


def test_next_change_finds_a_recurring_boundary_days_ahead() -> None:
    weekly = profile(
        1,
        [(0, 32), (5 * 86400, 10)],
        kind=Kind.RECURRING,
        recurrency=Recurrency.WEEKLY,
        start=datetime(2026, 11, 30, tzinfo=UTC),
    )
    assert next_change([weekly], site(), 1, MIDNIGHT) == datetime(2026, 12, 5, tzinfo=UTC)


# --- properties, against a naive reading of the rules -------------------------------------------


def naive_amps(
    profiles: list[ChargingProfile], facts: ConnectorFacts, connector: int, t: datetime
) -> tuple[float, int]:
    """The limit at ``t`` read straight from the rules, second by second, no cleverness."""
    tx = facts.transaction

    def period(p: ChargingProfile) -> SchedulePeriod | None:
        if (p.valid_from and t < p.valid_from) or (p.valid_to and t >= p.valid_to):
            return None
        begin = tx.started if p.kind is Kind.RELATIVE and tx else p.schedule.start or NOW
        if t < begin:
            return None
        offset = int((t - begin).total_seconds())
        if p.kind is Kind.RECURRING:
            offset %= 86400 if p.recurrency is Recurrency.DAILY else 7 * 86400
        if p.schedule.duration_s is not None and offset >= p.schedule.duration_s:
            return None
        return [q for q in p.schedule.periods if q.start_s <= offset][-1]

    def best(candidates: list[ChargingProfile]) -> tuple[float, int] | None:
        for p in sorted(candidates, key=lambda p: -p.stack_level):
            q = period(p)
            if q is not None:
                phases = min(q.phases or 3, facts.phases)
                amps = q.limit if p.schedule.unit is A else q.limit / (230 * phases)
                return amps, phases
        return None

    def tx_ok(p: ChargingProfile) -> bool:
        return tx is not None and p.transaction_id in (None, tx.transaction_id)

    levels = [
        best([p for p in profiles if p.purpose is MAX]),
        best([p for p in profiles if p.purpose is TX and p.connector_id == connector and tx_ok(p)])
        or best([p for p in profiles if p.purpose is DEFAULT and p.connector_id == connector])
        or best([p for p in profiles if p.purpose is DEFAULT and p.connector_id == 0]),
        (facts.max_current_a, facts.phases),
    ]
    found = [level for level in levels if level is not None]
    return min(a for a, _ in found), min(p for _, p in found)


def naive_cap(profiles: list[ChargingProfile], t: datetime, wired: int) -> float:
    """The charger maximum at ``t`` in amperes per phase (infinite when none is active)."""
    caps = [p for p in profiles if p.purpose is MAX]
    return naive_amps(caps, ConnectorFacts(math.inf, wired), 1, t)[0]


def random_profile(
    rng: random.Random, id: int, units: list[RateUnit], connectors: int = 1
) -> ChargingProfile:
    purpose = rng.choice([MAX, DEFAULT, DEFAULT, TX])
    numbers = range(0 if purpose is DEFAULT else 1, connectors + 1)
    connector = 0 if purpose is MAX else rng.choice(numbers)
    kind = rng.choice([Kind.ABSOLUTE, Kind.RECURRING] if purpose is MAX else list(Kind))
    unit = rng.choice(units)
    count = rng.randint(1, 5)
    starts = [0, *sorted(rng.sample(range(60, 7200, 60), count - 1))]
    scale = 1000 if unit is W else 1  # watts that are no round number of amperes
    periods = [(s, rng.randint(0, 400) / 10 * scale, rng.choice([None, 1, 3])) for s in starts]
    offset = timedelta(seconds=rng.randrange(-7200, 7200, 60))
    if kind is Kind.RECURRING:  # some recurrences have begun days before
        offset -= timedelta(days=rng.choice([0, 1, 3]))
    return ChargingProfile(
        id,
        connector,
        rng.randint(0, 3),
        purpose,
        kind,
        ChargingSchedule(
            unit,
            tuple(SchedulePeriod(*p) for p in periods),
            rng.choice([None, rng.randrange(300, 9000, 60)]),
            None if kind is Kind.RELATIVE else NOW + offset,
        ),
        Recurrency.DAILY if kind is Kind.RECURRING else None,
        rng.choice([None, NOW + timedelta(seconds=rng.randrange(-3600, 3600, 60))]),
        rng.choice([None, NOW + timedelta(seconds=rng.randrange(3600, 14400, 60))]),
        rng.choice([None, 40 + connector]) if purpose is TX else None,
    )


def random_case(rng: random.Random, units: list[RateUnit]) -> tuple[list[ChargingProfile], Site]:
    profiles = [random_profile(rng, i, units) for i in range(rng.randint(0, 6))]
    started = NOW - timedelta(seconds=rng.randrange(0, 3600, 60))
    tx = rng.choice([None, RunningTransaction(started, 41)])
    facts = ConnectorFacts(rng.choice([16.0, 32.0]), rng.choice([1, 3]), tx)
    return profiles, Site({1: facts})


SEED = int(os.environ.get("OCPPD_TEST_SEED", random.randrange(2**32)))
CASES = 150


def test_the_composite_matches_the_rules_read_second_by_second() -> None:
    print(f"seed {SEED} (OCPPD_TEST_SEED={SEED} repeats it)")
    rng = random.Random(SEED)
    for case in range(CASES):
        profiles, charger = random_case(rng, [A, W])
        facts = charger.connectors[1]
        duration = rng.randrange(600, 4 * 3600, 60)
        schedule = composite_schedule(profiles, charger, 1, NOW, duration, A)
        periods = schedule.periods
        where = f"seed {SEED} case {case}: {profiles} {facts}"
        # in order, piecewise constant, covering the whole duration
        assert periods and periods[0].start_s == 0, where
        assert all(a.start_s < b.start_s for a, b in itertools.pairwise(periods)), where
        assert all(p.start_s < max(duration, 1) for p in periods), where
        assert all(
            (a.limit, a.phases) != (b.limit, b.phases) for a, b in itertools.pairwise(periods)
        )
        ends = [*(p.start_s for p in periods[1:]), duration]
        lengths = [end - p.start_s for p, end in zip(periods, ends, strict=True)]
        assert all(n > 0 for n in lengths) and sum(lengths) == schedule.duration_s == duration
        for second in range(0, duration, 30):
            t = NOW + timedelta(seconds=second)
            amps, phases = naive_amps(profiles, facts, 1, t)
            shown = [p for p in periods if p.start_s <= second][-1]
            assert shown.limit <= amps + 1e-9, f"{where} at {second}: above a cap"
            assert shown.limit == pytest.approx(amps, abs=0.1001), f"{where} at {second}"
            assert shown.phases == phases, f"{where} at {second}"
            assert shown.limit <= facts.max_current_a


def test_next_change_agrees_with_the_composite_schedule() -> None:
    print(f"seed {SEED} (OCPPD_TEST_SEED={SEED} repeats it)")
    rng = random.Random(SEED + 1)
    for case in range(CASES):
        profiles, charger = random_case(rng, [A])
        tx = RunningTransaction(NOW - timedelta(seconds=rng.randrange(0, 3600, 60)), 41)
        charger = Site({1: ConnectorFacts(charger.connectors[1].max_current_a, 3, tx)})
        horizon = 3 * 86400
        schedule = composite_schedule(profiles, charger, 1, NOW, horizon, A)
        starts = [NOW + timedelta(seconds=p.start_s) for p in schedule.periods]
        where = f"seed {SEED + 1} case {case}: {profiles}"
        for here, there in zip(starts, [*starts[1:], None], strict=False):
            found = next_change(profiles, charger, 1, here, horizon_s=horizon)
            if there is None:
                assert found is None or found >= NOW + timedelta(seconds=horizon), where
            else:
                assert found == there, where


def random_charger(rng: random.Random) -> tuple[list[ChargingProfile], Site]:
    connectors = rng.randint(2, 3)
    profiles = [random_profile(rng, i, [A, W], connectors) for i in range(rng.randint(1, 8))]
    facts = {}
    for n in range(1, connectors + 1):
        started = NOW - timedelta(seconds=rng.randrange(0, 3600, 60))
        tx = rng.choice([None, RunningTransaction(started, 40 + n)])
        facts[n] = ConnectorFacts(rng.choice([16.0, 32.0]), rng.choice([1, 3]), tx)
    return profiles, Site(facts)


def test_connectors_charging_together_never_exceed_the_charger_maximum() -> None:
    # §3.13.3: "The combined energy flow of all connectors SHALL NOT be greater"
    print(f"seed {SEED} (OCPPD_TEST_SEED={SEED} repeats it)")
    rng = random.Random(SEED + 2)
    for case in range(CASES):
        profiles, charger = random_charger(rng)
        wired = max(f.phases for f in charger.connectors.values())
        own_profiles = [p for p in profiles if p.purpose is not MAX]
        where = f"seed {SEED + 2} case {case}: {profiles} {charger}"
        for second in range(0, 4 * 3600, 120):
            t = NOW + timedelta(seconds=second)
            cap = naive_cap(profiles, t, wired)
            charging = [n for n, f in charger.connectors.items() if f.transaction is not None]
            given = {n: limit_at(profiles, charger, n, t).amps for n in charger.connectors}
            own = {n: naive_amps(own_profiles, f, n, t)[0] for n, f in charger.connectors.items()}
            assert all(given[n] <= own[n] + 1e-9 for n in charging), where
            assert sum(given[n] for n in charging) <= cap + 1e-6, f"{where} at {second}"
            if sum(own[n] for n in charging) <= cap:  # room for all: nobody is cut
                assert all(given[n] == pytest.approx(own[n]) for n in charging), where


def test_next_change_agrees_with_the_composite_schedule_across_connectors() -> None:
    print(f"seed {SEED} (OCPPD_TEST_SEED={SEED} repeats it)")
    rng = random.Random(SEED + 3)
    for case in range(CASES // 3):
        profiles, charger = random_charger(rng)
        profiles = [p for p in profiles if p.schedule.unit is A and p.kind is not Kind.RELATIVE]
        horizon = 86400
        schedule = composite_schedule(profiles, charger, 1, NOW, horizon, A)
        starts = [NOW + timedelta(seconds=p.start_s) for p in schedule.periods]
        for here, there in zip(starts, [*starts[1:], None], strict=True):
            found = next_change(profiles, charger, 1, here, horizon_s=horizon)
            where = f"seed {SEED + 3} case {case}: {profiles} {charger}"
            if there is None:  # nothing more in the window; maybe later
                assert found is None or found >= NOW + timedelta(seconds=horizon), where
            else:
                assert found == there, where
