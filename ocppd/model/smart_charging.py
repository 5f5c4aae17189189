"""The composite schedule: the limit in force on a connector, now and ahead (OCPP 1.6 §3.13).

Pure functions of the installed profiles and a few facts about the charger (phases,
nominal voltage, local maximum, running transactions). No clock, no I/O: the caller
passes the instants. The rules, with their sources:

1. A profile is *active* at an instant when it is valid then (``valid_from`` <= t <
   ``valid_to``) and its schedule defines a limit then: the schedule has started and its
   ``duration`` has not run out (§3.13.2; errata 2025-04 §3.43: after the duration the
   next profile down applies).
2. Within a purpose the active profile with the highest stack level wins (§3.13.2).
3. For the transaction level, a TX profile of the connector wins over TX_DEFAULT
   profiles; the connector's own TX_DEFAULT over connector 0's (§3.13.1). A TX profile
   counts only while a transaction runs on the connector; TX_DEFAULT counts always, so
   an idle connector reports what a transaction started now would get.
4. The limit is the lowest of: the transaction level, the connector's local maximum,
   and its share of the CHARGE_POINT_MAX profile (§3.13.3; "local limits might be taken
   into account", errata §3.27). With no profile the local maximum is the limit.
5. Offsets count from the schedule's ``start`` (absolute), from the start of the
   current daily/weekly recurrence of it (recurring: periods and duration beyond the
   recurrence are cut, §5.16.4 and errata §3.44), or from the start of the transaction
   (relative; with no transaction running, from the first instant asked about, as if
   charging started then).
6. Units: amperes per phase = watts / (nominal voltage x phases), where phases =
   min(the period's ``phases`` (3 when absent, §7.12), the connector's wired phases);
   a larger ``phases`` than the connector has does not change an ampere limit (errata
   §3.34). Limits are combined in amperes per phase and the fewest phases; reported
   limits are rounded *down* to 0.1 (§7.14 allows one decimal), so never above a cap.
7. "The combined energy flow of all connectors SHALL NOT be greater" than the
   CHARGE_POINT_MAX profile (§3.13.3): it is shared max-min fairly among the connectors
   with a running transaction and the one asked about (an idle one as if it started
   now): each takes at most its own limit, the rest share what is left evenly. On a
   one-connector charger that is simply the cap.
8. Connector 0 reports the whole charger: the sum of the connectors' own limits, capped
   by the CHARGE_POINT_MAX profile (§5.7, errata §3.30).

Instants are truncated to whole seconds (``startPeriod`` is an integer).
"""

from __future__ import annotations

import bisect
import dataclasses
import math
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum

from ocppd.model.charging_profile import (
    RECURRENCE_S,
    ChargingProfile,
    Kind,
    Purpose,
    RateUnit,
    RunningTransaction,
    SchedulePeriod,
)

DEFAULT_PHASES = 3  # §7.12, §7.14: "3 SHALL be assumed"
NEXT_CHANGE_HORIZON_S = 8 * 86_400  # beyond a weekly recurrence
_EPS = 1e-6


@dataclass(frozen=True, slots=True)
class ConnectorFacts:
    """What the engine needs to know of one connector (its number is the site's key)."""

    max_current_a: float  # local maximum per phase: configuration, derating
    phases: int = 3  # wired phases
    transaction: RunningTransaction | None = None


@dataclass(frozen=True, slots=True)
class Site:
    """The charger: its connectors (1..N) and the nominal line voltage (§7.12: "the set
    voltage for the area", not a measured one)."""

    connectors: Mapping[int, ConnectorFacts] = field(default_factory=dict)
    voltage_v: float = 230.0


class SourceKind(StrEnum):
    PROFILE = "profile"
    LOCAL_MAX = "local_max"
    CONNECTORS = "connectors"  # connector 0: the sum of the connectors


@dataclass(frozen=True, slots=True)
class LimitSource:
    """Which limit is the lowest: a profile, the local maximum, or (connector 0) the
    connectors' sum."""

    kind: SourceKind
    profile_id: int | None = None
    purpose: Purpose | None = None
    stack_level: int | None = None

    def __str__(self) -> str:
        if self.kind is SourceKind.PROFILE:
            return f"profile {self.profile_id} ({self.purpose}, stack level {self.stack_level})"
        return "local maximum" if self.kind is SourceKind.LOCAL_MAX else "sum of connectors"


LOCAL_MAX = LimitSource(SourceKind.LOCAL_MAX)
CONNECTORS = LimitSource(SourceKind.CONNECTORS)


@dataclass(frozen=True, slots=True)
class Limit:
    """The limit in force on a connector at one instant, in amperes per phase."""

    amps: float
    phases: int
    source: LimitSource
    min_rate_a: float | None = None  # the prevailing schedule's minimum charging rate


@dataclass(frozen=True, slots=True)
class CompositePeriod:
    start_s: int
    limit: float  # in the composite's unit, rounded down to 0.1
    phases: int
    source: LimitSource


@dataclass(frozen=True, slots=True)
class CompositeSchedule:
    connector_id: int
    start: datetime
    duration_s: int
    unit: RateUnit
    periods: tuple[CompositePeriod, ...]
    min_rate: float | None = None  # in ``unit``, of the transaction-level schedule at ``start``


# --- one profile on the time line ---------------------------------------------------------------


def _seconds(instant: datetime) -> int:
    if instant.tzinfo is None:
        raise ValueError("instants must carry a time zone")
    return math.floor(instant.timestamp())


def _instant(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


@dataclass(frozen=True, slots=True)
class _Placed:
    """A profile pinned to the time line: the instant its offsets count from."""

    profile: ChargingProfile
    anchor: int
    valid_from: int | None
    valid_to: int | None
    starts: tuple[int, ...]  # the periods' start offsets, for bisect

    @classmethod
    def place(cls, profile: ChargingProfile, relative_anchor: int) -> _Placed:
        schedule = profile.schedule
        if profile.kind is Kind.RELATIVE or schedule.start is None:
            anchor = relative_anchor
        else:
            anchor = _seconds(schedule.start)
        return cls(
            profile,
            anchor,
            None if profile.valid_from is None else _seconds(profile.valid_from),
            None if profile.valid_to is None else _seconds(profile.valid_to),
            tuple(p.start_s for p in schedule.periods),
        )

    @property
    def recurrence(self) -> int | None:
        p = self.profile
        if p.kind is Kind.RECURRING and p.recurrency is not None:
            return RECURRENCE_S[p.recurrency]
        return None

    def period_at(self, t: int) -> SchedulePeriod | None:
        """The period in force at ``t``, or None when the profile is not active then."""
        if (self.valid_from is not None and t < self.valid_from) or (
            self.valid_to is not None and t >= self.valid_to
        ):
            return None
        if t < self.anchor:
            return None
        offset = t - self.anchor
        cycle = self.recurrence
        if cycle is not None:
            offset %= cycle
        duration = self.profile.schedule.duration_s
        if duration is not None and offset >= duration:
            return None
        index = bisect.bisect_right(self.starts, offset) - 1
        return self.profile.schedule.periods[index] if index >= 0 else None

    def boundaries(self, t0: int, t1: int) -> Iterator[int]:
        """Every instant in (t0, t1) at which this profile may start, stop or change."""
        for edge in (self.valid_from, self.valid_to):
            if edge is not None:
                yield edge
        duration = self.profile.schedule.duration_s
        cycle = self.recurrence
        if cycle is None:
            yield from (self.anchor + s for s in self.starts)
            if duration is not None:
                yield self.anchor + duration
            return
        first = max(0, (t0 - self.anchor) // cycle)
        begin = self.anchor + first * cycle
        while begin < t1:
            yield from (begin + s for s in self.starts if s < cycle)
            if duration is not None and duration < cycle:
                yield begin + duration
            begin += cycle
            yield begin


# --- one connector at one instant ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Candidate:
    amps: float
    phases: int
    source: LimitSource
    min_rate_a: float | None = None


def _to_amps(value: float, unit: RateUnit, phases: int, voltage: float) -> float:
    return value if unit is RateUnit.AMPERE else value / (voltage * phases)


def _candidate(placed: _Placed, period: SchedulePeriod, wired: int, voltage: float) -> _Candidate:
    profile = placed.profile
    phases = min(period.phases or DEFAULT_PHASES, wired)
    unit = profile.schedule.unit
    min_rate = profile.schedule.min_rate
    return _Candidate(
        _to_amps(period.limit, unit, phases, voltage),
        phases,
        LimitSource(SourceKind.PROFILE, profile.id, profile.purpose, profile.stack_level),
        None if min_rate is None else _to_amps(min_rate, unit, phases, voltage),
    )


def _highest(group: list[_Placed], t: int) -> tuple[_Placed, SchedulePeriod] | None:
    for placed in group:  # sorted by stack level, highest first
        period = placed.period_at(t)
        if period is not None:
            return placed, period
    return None


@dataclass(frozen=True, slots=True)
class _Connector:
    """The profiles bearing on one connector's transaction level, pinned to the time
    line and grouped; and its local maximum."""

    facts: ConnectorFacts
    tx_levels: tuple[list[_Placed], ...]  # TX, own TX_DEFAULT, connector 0's TX_DEFAULT

    @classmethod
    def build(
        cls, profiles: Iterable[ChargingProfile], facts: ConnectorFacts, number: int, anchor: int
    ) -> _Connector:
        running = facts.transaction
        if running is not None:
            anchor = _seconds(running.started)
        groups: dict[str, list[_Placed]] = {"tx": [], "own": [], "all": []}
        for p in profiles:
            name = _group(p, number, running)
            if name is not None:
                groups[name].append(_Placed.place(p, anchor))
        return cls(facts, tuple(_by_stack_level(groups[g]) for g in ("tx", "own", "all")))

    @property
    def charging(self) -> bool:
        return self.facts.transaction is not None

    def placed(self) -> Iterator[_Placed]:
        for group in self.tx_levels:
            yield from group

    def own_limit(self, t: int, voltage: float) -> Limit:
        """The limit without the charger maximum: transaction level and local maximum."""
        local = _Candidate(self.facts.max_current_a, self.facts.phases, LOCAL_MAX)
        tx = None
        for group in self.tx_levels:
            found = _highest(group, t)
            if found is not None:
                tx = _candidate(*found, self.facts.phases, voltage)
                break
        lowest = tx if tx is not None and tx.amps <= local.amps else local  # ties: the profile
        return Limit(
            max(lowest.amps, 0.0),
            local.phases if tx is None else min(local.phases, tx.phases),
            lowest.source,
            None if tx is None else tx.min_rate_a,
        )


def _by_stack_level(group: list[_Placed]) -> list[_Placed]:
    return sorted(group, key=lambda placed: -placed.profile.stack_level)


class _Charger:
    """Every connector of the site and the charger maximum, pinned to the time line.

    The charger maximum caps the connectors together (§3.13.3: "The combined energy flow
    of all connectors SHALL NOT be greater"): it is shared max-min fairly among the
    connectors with a running transaction and the one asked about, each taking at most
    its own limit and leaving the rest to the others.
    """

    def __init__(self, profiles: Iterable[ChargingProfile], site: Site, anchor: int) -> None:
        profiles = tuple(profiles)
        self.voltage = site.voltage_v
        self.wired = max((f.phases for f in site.connectors.values()), default=DEFAULT_PHASES)
        self.connectors = {
            n: _Connector.build(profiles, facts, n, anchor)
            for n, facts in sorted(site.connectors.items())
        }
        self.charger_max = _by_stack_level(
            [
                _Placed.place(p, anchor)
                for p in profiles
                if p.purpose is Purpose.CHARGE_POINT_MAX and p.connector_id == 0
            ]
        )

    def connector(self, number: int) -> _Connector:
        found = self.connectors.get(number)
        if found is None:
            raise ValueError(f"there is no connector {number}")
        return found

    def cap(self, t: int) -> _Candidate | None:
        found = _highest(self.charger_max, t)
        return None if found is None else _candidate(*found, self.wired, self.voltage)

    def sharing(self, number: int) -> list[int]:
        return [n for n, c in self.connectors.items() if n == number or c.charging]

    def placed(self, number: int) -> Iterator[_Placed]:
        """The profiles whose boundaries may move connector ``number``'s limit."""
        yield from self.charger_max
        for n in self.sharing(number) if self.charger_max else [number]:
            yield from self.connector(n).placed()

    def limit(self, number: int, t: int) -> Limit:
        own = self.connector(number).own_limit(t, self.voltage)
        cap = self.cap(t)
        if cap is None:
            return own
        wants = {
            n: own.amps if n == number else self.connectors[n].own_limit(t, self.voltage).amps
            for n in self.sharing(number)
        }
        share = _fair_shares(cap.amps, wants)[number]
        phases = min(own.phases, cap.phases)
        binding = share < own.amps - _EPS or (share <= own.amps and own.source == LOCAL_MAX)
        if binding:  # ties go to a profile: its own transaction level, else the maximum
            return Limit(max(share, 0.0), phases, cap.source, own.min_rate_a)
        return Limit(own.amps, phases, own.source, own.min_rate_a)


def _fair_shares(total: float, wants: Mapping[int, float]) -> dict[int, float]:
    """Max-min fair division of ``total``: the smallest wants are met in full, the rest
    share what is left evenly (water-filling)."""
    shares: dict[int, float] = {}
    left, count = max(total, 0.0), len(wants)
    for number, want in sorted(wants.items(), key=lambda item: (item[1], item[0])):
        shares[number] = min(want, left / count)
        left -= shares[number]
        count -= 1
    return shares


def _group(
    profile: ChargingProfile, connector_id: int, running: RunningTransaction | None
) -> str | None:
    if profile.purpose is Purpose.CHARGE_POINT_MAX:
        return None  # the charger's, not one connector's
    if profile.purpose is Purpose.TX_DEFAULT:
        if profile.connector_id == connector_id:
            return "own"
        return "all" if profile.connector_id == 0 else None
    if profile.connector_id != connector_id or running is None:
        return None
    stale = (
        profile.transaction_id is not None
        and running.transaction_id is not None
        and profile.transaction_id != running.transaction_id
    )
    return None if stale else "tx"


# --- the public functions -----------------------------------------------------------------------


def limit_at(
    profiles: Iterable[ChargingProfile], site: Site, connector_id: int, at: datetime
) -> Limit:
    """The limit in force on connector ``connector_id`` (> 0) at ``at``, and its source.
    ValueError for an unknown connector."""
    t = _seconds(at)
    return _Charger(profiles, site, t).limit(connector_id, t)


def next_change(
    profiles: Iterable[ChargingProfile],
    site: Site,
    connector_id: int,
    after: datetime,
    horizon_s: int = NEXT_CHANGE_HORIZON_S,
) -> datetime | None:
    """The first instant after ``after`` at which the connector's limit (amperes, to the
    0.1 A limits are reported in, or phases) changes, or None if it stays the same for
    ``horizon_s``: the connector's next deadline. (On an idle connector a relative
    profile counts from ``after``, so the limit found there may equal today's: a
    harmless early wake-up.)"""
    t0 = _seconds(after)
    charger = _Charger(profiles, site, t0)
    now = charger.limit(connector_id, t0)
    for t in _edges(charger.placed(connector_id), t0, t0 + horizon_s):
        if t == t0:
            continue
        then = charger.limit(connector_id, t)
        if _round_down(then.amps) != _round_down(now.amps) or then.phases != now.phases:
            return _instant(t)
    return None


def composite_schedule(
    profiles: Iterable[ChargingProfile],
    site: Site,
    connector_id: int,
    start: datetime,
    duration_s: int,
    unit: RateUnit,
) -> CompositeSchedule:
    """The composite schedule of ``connector_id`` (0: the whole charger) from ``start``
    for ``duration_s`` seconds in ``unit`` (§5.7). ValueError for an unknown connector."""
    t0 = _seconds(start)
    t1 = t0 + max(duration_s, 0)
    charger = _Charger(profiles, site, t0)
    if connector_id == 0:
        values = _charger_values(charger, t0, t1, unit)
        min_rate = None
    else:
        charger.connector(connector_id)  # known?
        values = (
            (t, *_in_unit(charger.limit(connector_id, t), unit, charger.voltage))
            for t in _edges(charger.placed(connector_id), t0, t1)
        )
        first = charger.limit(connector_id, t0)
        min_rate = None
        if first.min_rate_a is not None:
            at_min = dataclasses.replace(first, amps=first.min_rate_a)
            min_rate = _round_down(_in_unit(at_min, unit, charger.voltage)[0])
    periods: list[CompositePeriod] = []
    for t, value, phases, source in values:
        limit = _round_down(value)
        if periods and periods[-1].limit == limit and periods[-1].phases == phases:
            continue
        periods.append(CompositePeriod(t - t0, limit, phases, source))
    return CompositeSchedule(connector_id, _instant(t0), t1 - t0, unit, tuple(periods), min_rate)


def _edges(placed: Iterable[_Placed], t0: int, t1: int) -> list[int]:
    """``t0`` and every boundary of the placed profiles inside (t0, t1), in order."""
    edges = {t0}
    for p in placed:
        edges.update(b for b in p.boundaries(t0, t1) if t0 < b < t1)
    return sorted(edges)


def _in_unit(limit: Limit, unit: RateUnit, voltage: float) -> tuple[float, int, LimitSource]:
    value = limit.amps if unit is RateUnit.AMPERE else limit.amps * voltage * limit.phases
    return value, limit.phases, limit.source


def _charger_values(
    charger: _Charger, t0: int, t1: int, unit: RateUnit
) -> Iterator[tuple[int, float, int, LimitSource]]:
    """Connector 0: the sum of every connector's own limit, capped by the charger maximum."""
    placed = [*charger.charger_max, *(p for c in charger.connectors.values() for p in c.placed())]
    for t in _edges(placed, t0, t1):
        total = sum(
            _in_unit(c.own_limit(t, charger.voltage), unit, charger.voltage)[0]
            for c in charger.connectors.values()
        )
        value, phases, source = total, charger.wired, CONNECTORS
        cap = charger.cap(t)
        if cap is not None:
            capped = _in_unit(Limit(cap.amps, cap.phases, cap.source), unit, charger.voltage)
            if capped[0] <= value:
                value, phases, source = capped
        yield t, value, phases, source


def _round_down(value: float) -> float:
    """To one decimal, never up (a reported limit is never above the one computed)."""
    return math.floor(value * 10 + _EPS) / 10
