"""Charging profiles: what one is, whether the charger takes it, and the set it keeps.

A charging profile is a limit over time that the central system hands the charger
(OCPP 1.6 §3.13, §7.8-7.14). This module holds them in the model's own words (the 1.6
handler translates the wire names), checks an incoming one against the charger's
limits (:func:`check_profile`, :func:`check_remote_start_profile`) and keeps the
installed ones (:class:`ProfileStore`): replacement, clearing, the end of a
transaction, the count limit, and plain dicts for the journal.

The composite schedule computed from them lives in :mod:`ocppd.model.smart_charging`.
Instants are timezone-aware datetimes; the engine works in whole seconds.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any


class Purpose(StrEnum):
    """What a profile limits (§3.13.1)."""

    CHARGE_POINT_MAX = "charge_point_max"  # the whole charger, connector 0 only
    TX_DEFAULT = "tx_default"  # every transaction (connector 0) or one connector's
    TX = "tx"  # the running transaction of one connector; ends with it


class Kind(StrEnum):
    """What a schedule's period offsets count from (§7.9)."""

    ABSOLUTE = "absolute"  # the schedule's start instant
    RECURRING = "recurring"  # the start instant, repeated daily or weekly
    RELATIVE = "relative"  # the start of the transaction


class Recurrency(StrEnum):
    DAILY = "daily"
    WEEKLY = "weekly"


RECURRENCE_S = {Recurrency.DAILY: 86_400, Recurrency.WEEKLY: 7 * 86_400}


class RateUnit(StrEnum):
    """SI symbols: amperes per phase, or watts in total (§7.12)."""

    AMPERE = "A"
    WATT = "W"


@dataclass(frozen=True, slots=True)
class SchedulePeriod:
    """From ``start_s`` seconds into the schedule on, at most ``limit`` (in the schedule's unit)."""

    start_s: int
    limit: float
    phases: int | None = None  # absent: 3 phases are assumed (§7.14)


@dataclass(frozen=True, slots=True)
class ChargingSchedule:
    unit: RateUnit
    periods: tuple[SchedulePeriod, ...]
    duration_s: int | None = None  # absent: the last period lasts (§7.13)
    start: datetime | None = None  # absolute and recurring profiles count from it
    min_rate: float | None = None  # the EV charges badly below this (informative, §3.13.4)
    id: int | None = None  # the central system's number for it (2.0.1; 1.6 has none)


@dataclass(frozen=True, slots=True)
class ChargingProfile:
    id: int
    connector_id: int  # 0: the whole charger (CHARGE_POINT_MAX) or every connector (TX_DEFAULT)
    stack_level: int
    purpose: Purpose
    kind: Kind
    schedule: ChargingSchedule
    recurrency: Recurrency | None = None
    valid_from: datetime | None = None
    valid_to: datetime | None = None
    # TX only: the transaction it belongs to, by the id of the version it runs in (1.6:
    # the central system's integer; 2.0.1: the charger-made string)
    transaction_id: int | str | None = None

    @property
    def slot(self) -> tuple[int, Purpose, int]:
        """Two profiles in the same slot cannot both be installed (§3.13.2, §5.16.3)."""
        return (self.connector_id, self.purpose, self.stack_level)


# --- checking an incoming profile ---------------------------------------------------------------


class Refusal(StrEnum):
    """Why a profile is not taken. UNKNOWN_CONNECTOR is a malformed request in 1.6
    (CALLERROR PropertyConstraintViolation, errata 2025-04 §3.39); the rest are Rejected."""

    UNKNOWN_CONNECTOR = "unknown_connector"
    WRONG_CONNECTOR = "wrong_connector"
    WRONG_PURPOSE = "wrong_purpose"
    STACK_LEVEL = "stack_level"
    UNIT = "unit"
    TOO_MANY_PERIODS = "too_many_periods"
    PERIODS = "periods"
    SCHEDULE = "schedule"
    NO_TRANSACTION = "no_transaction"
    OTHER_TRANSACTION = "other_transaction"
    FULL = "full"


@dataclass(frozen=True, slots=True)
class Verdict:
    """Taken (``refusal`` None) or not, with the reason in words for logs and status."""

    refusal: Refusal | None = None
    reason: str = "accepted"

    @property
    def accepted(self) -> bool:
        return self.refusal is None


ACCEPTED = Verdict()


@dataclass(frozen=True, slots=True)
class ProfileLimits:
    """What this charger takes (the 1.6 keys ChargeProfileMaxStackLevel,
    ChargingScheduleMaxPeriods, ChargingScheduleAllowedChargingRateUnit, and the
    number of connectors)."""

    connectors: int
    max_stack_level: int = 8
    max_periods: int = 24
    units: frozenset[RateUnit] = frozenset(RateUnit)


@dataclass(frozen=True, slots=True)
class RunningTransaction:
    """A transaction on a connector. ``transaction_id`` is None until the central
    system has assigned one (StartTransaction.conf not yet received)."""

    started: datetime
    transaction_id: int | str | None = None


def check_profile(
    profile: ChargingProfile,
    limits: ProfileLimits,
    transactions: Mapping[int, RunningTransaction],
) -> Verdict:
    """Whether a profile set by the central system may be installed (§3.13, §5.16, §7.8).

    ``transactions`` maps a connector to its running transaction (connectors without
    one are absent). The count limit is the store's (:meth:`ProfileStore.admits`).
    """
    if not 0 <= profile.connector_id <= limits.connectors:
        return Verdict(Refusal.UNKNOWN_CONNECTOR, f"there is no connector {profile.connector_id}")
    verdict = _check_shape(profile, limits)
    if not verdict.accepted:
        return verdict
    if profile.purpose is Purpose.CHARGE_POINT_MAX and profile.connector_id != 0:
        # §3.13.1: "ChargePointMaxProfile can only be set at Charge Point ConnectorId 0"
        return Verdict(Refusal.WRONG_CONNECTOR, "a charger maximum belongs on connector 0")
    if (
        profile.purpose is Purpose.CHARGE_POINT_MAX
        and profile.kind is Kind.RELATIVE
        and not _constant(profile.schedule)
    ):
        # 1.6 is silent; there is no transaction to count from at the charger level (OCPP
        # 2.0.1 K01.FR.38 forbids it outright). A constant one means the same from any
        # start, so it is taken: it is what Home Assistant's slider sends (issue 20).
        return Verdict(
            Refusal.SCHEDULE,
            "a relative charger maximum must be one limit from 0 s with no duration",
        )
    if profile.purpose is not Purpose.TX:
        if profile.transaction_id is not None:
            # §7.8: transactionId is "only valid if ChargingProfilePurpose is set to TxProfile"
            return Verdict(Refusal.WRONG_PURPOSE, "only a transaction profile names a transaction")
        return ACCEPTED
    if profile.connector_id == 0:
        return Verdict(Refusal.WRONG_CONNECTOR, "a transaction profile needs a connector above 0")
    running = transactions.get(profile.connector_id)
    if running is None:
        # §3.13.1 / §5.16.4: a TxProfile without a transaction is discarded with an error status
        return Verdict(
            Refusal.NO_TRANSACTION, f"no transaction is running on connector {profile.connector_id}"
        )
    if profile.transaction_id is not None and profile.transaction_id != running.transaction_id:
        running_id = running.transaction_id
        return Verdict(
            Refusal.OTHER_TRANSACTION,
            f"transaction {profile.transaction_id} is not the one running on connector "
            f"{profile.connector_id} ({'not numbered yet' if running_id is None else running_id})",
        )
    return ACCEPTED


def check_remote_start_profile(profile: ChargingProfile, limits: ProfileLimits) -> Verdict:
    """Whether a profile carried by a remote start may be used for the transaction it
    starts (§5.11, §5.16.2 with errata §3.41: a TxProfile without a transaction id)."""
    if profile.purpose is not Purpose.TX:
        return Verdict(Refusal.WRONG_PURPOSE, "a remote start carries only a transaction profile")
    if profile.transaction_id is not None:
        return Verdict(Refusal.WRONG_PURPOSE, "a remote start's profile names no transaction")
    return _check_shape(profile, limits)


def _check_shape(profile: ChargingProfile, limits: ProfileLimits) -> Verdict:
    schedule = profile.schedule
    if not 0 <= profile.stack_level <= limits.max_stack_level:
        return Verdict(
            Refusal.STACK_LEVEL,
            f"stack level {profile.stack_level} is outside 0..{limits.max_stack_level}",
        )
    if schedule.unit not in limits.units:
        return Verdict(Refusal.UNIT, f"schedules in {schedule.unit} are not taken")
    if len(schedule.periods) > limits.max_periods:
        return Verdict(
            Refusal.TOO_MANY_PERIODS,
            f"{len(schedule.periods)} periods, at most {limits.max_periods}",
        )
    verdict = _check_periods(schedule.periods)
    if not verdict.accepted:
        return verdict
    return _check_timing(profile)


def _check_periods(periods: tuple[SchedulePeriod, ...]) -> Verdict:
    if not periods:
        return Verdict(Refusal.PERIODS, "a schedule needs at least one period")
    if periods[0].start_s != 0:
        # errata 2025-04 §3.45: the first period's startPeriod "SHALL always be 0"
        return Verdict(Refusal.PERIODS, "the first period must start at 0")
    for before, after in itertools.pairwise(periods):
        if after.start_s <= before.start_s:
            return Verdict(Refusal.PERIODS, "periods must start in ascending order")
    for period in periods:
        if not period.limit >= 0:  # also refuses NaN
            return Verdict(Refusal.PERIODS, f"limit {period.limit} is negative")
        if period.phases is not None and period.phases not in (1, 2, 3):
            return Verdict(Refusal.PERIODS, f"{period.phases} phases is not 1, 2 or 3")
    return ACCEPTED


def _check_timing(profile: ChargingProfile) -> Verdict:
    schedule = profile.schedule
    if schedule.duration_s is not None and schedule.duration_s <= 0:
        return Verdict(Refusal.SCHEDULE, "a schedule's duration must be positive")
    if schedule.min_rate is not None and not schedule.min_rate >= 0:
        return Verdict(Refusal.SCHEDULE, "the minimum charging rate is negative")
    for instant in (schedule.start, profile.valid_from, profile.valid_to):
        if instant is not None and instant.tzinfo is None:
            return Verdict(Refusal.SCHEDULE, "instants must carry a time zone")
    if (
        profile.valid_from is not None
        and profile.valid_to is not None
        and profile.valid_to <= profile.valid_from
    ):
        return Verdict(Refusal.SCHEDULE, "validTo is not after validFrom")
    if profile.kind is not Kind.RELATIVE and schedule.start is None:
        # §7.9: absolute periods count "from a fixed point in time defined in the schedule",
        # and a recurrence needs a start to repeat from
        return Verdict(Refusal.SCHEDULE, f"an {profile.kind} schedule needs a start instant")
    if profile.kind is Kind.RECURRING and profile.recurrency is None:
        return Verdict(Refusal.SCHEDULE, "a recurring profile needs daily or weekly")
    return ACCEPTED


# --- the installed profiles ---------------------------------------------------------------------


class ProfileFormatError(ValueError):
    """A stored profile record cannot be read back (names the field)."""


class ProfileStore:
    """The installed profiles of one charger, a plain container (no I/O, no clock).

    Rules: a new profile replaces the one with the same id and, unless told otherwise, the
    one in the same slot (connector, purpose, stack level) (1.6 §3.13.2, §5.16.3-4; OCPP
    2.0.1 refuses a second profile in a slot instead, K01.FR.06, and keeps two whose
    validity periods do not overlap: ``replace_slot=False``); at most ``max_installed``
    profiles are kept (MaxChargingProfilesInstalled); transaction profiles end with
    their transaction (§3.13.1, §7.10).
    """

    def __init__(self, max_installed: int = 10, profiles: Iterable[ChargingProfile] = ()) -> None:
        self.max_installed = max_installed
        self._profiles: dict[int, ChargingProfile] = {}
        for profile in profiles:
            self._profiles[profile.id] = profile

    def __repr__(self) -> str:
        ids = ", ".join(
            f"{p.id}:{p.purpose}@{p.connector_id}/{p.stack_level}" for p in self._ordered()
        )
        return f"<ProfileStore {len(self._profiles)}/{self.max_installed} [{ids}]>"

    def __len__(self) -> int:
        return len(self._profiles)

    def __iter__(self) -> Iterator[ChargingProfile]:
        return iter(self._ordered())

    def __contains__(self, profile_id: object) -> bool:
        return profile_id in self._profiles

    def get(self, profile_id: int) -> ChargingProfile | None:
        return self._profiles.get(profile_id)

    def _ordered(self) -> list[ChargingProfile]:
        return sorted(self._profiles.values(), key=lambda p: p.id)

    def replaced_by(
        self, profile: ChargingProfile, *, replace_slot: bool = True
    ) -> tuple[ChargingProfile, ...]:
        """The installed profiles ``profile`` would replace: same id, or same slot."""
        return tuple(
            p
            for p in self._ordered()
            if p.id == profile.id or (replace_slot and p.slot == profile.slot)
        )

    def admits(self, profile: ChargingProfile, *, replace_slot: bool = True) -> Verdict:
        """Whether there is room for ``profile`` (counting what it replaces)."""
        gone = self.replaced_by(profile, replace_slot=replace_slot)
        if len(self._profiles) - len(gone) + 1 > self.max_installed:
            return Verdict(Refusal.FULL, f"{self.max_installed} profiles are installed already")
        return ACCEPTED

    def install(self, profile: ChargingProfile, *, replace_slot: bool = True) -> Verdict:
        """Install ``profile`` in place of what it replaces, if there is room."""
        verdict = self.admits(profile, replace_slot=replace_slot)
        if verdict.accepted:
            for old in self.replaced_by(profile, replace_slot=replace_slot):
                del self._profiles[old.id]
            self._profiles[profile.id] = profile
        return verdict

    def clear(
        self,
        *,
        profile_id: int | None = None,
        connector_id: int | None = None,
        purpose: Purpose | None = None,
        stack_level: int | None = None,
    ) -> tuple[ChargingProfile, ...]:
        """Remove the matching profiles and return them (empty: 1.6 answers Unknown).

        An id alone decides; otherwise every given criterion must match (logical AND),
        and none given clears all (errata 2025-04 §3.25-3.26).
        """
        if profile_id is not None:
            gone = self._profiles.pop(profile_id, None)
            return (gone,) if gone is not None else ()
        removed = tuple(
            p
            for p in self._ordered()
            if (connector_id is None or p.connector_id == connector_id)
            and (purpose is None or p.purpose is purpose)
            and (stack_level is None or p.stack_level == stack_level)
        )
        for p in removed:
            del self._profiles[p.id]
        return removed

    def end_transaction(self, connector_id: int) -> tuple[ChargingProfile, ...]:
        """The transaction on ``connector_id`` ended: its profiles go (§7.10)."""
        return self.clear(connector_id=connector_id, purpose=Purpose.TX)

    def bind_transaction(self, connector_id: int, transaction_id: int | str) -> None:
        """The transaction on ``connector_id`` has its id (1.6: the central system numbered
        it; 2.0.1: the charger made it): a profile that came with its remote start now
        names it (errata 2025-04 §3.42)."""
        for p in list(self._profiles.values()):
            mine = p.purpose is Purpose.TX and p.connector_id == connector_id
            if mine and p.transaction_id is None:
                self._profiles[p.id] = dataclasses.replace(p, transaction_id=transaction_id)

    def for_connector(self, connector_id: int) -> tuple[ChargingProfile, ...]:
        """The profiles that bear on ``connector_id``: its own and connector 0's."""
        return tuple(p for p in self._ordered() if p.connector_id in (0, connector_id))

    def to_records(self) -> list[dict[str, Any]]:
        return [profile_to_dict(p) for p in self._ordered()]

    @classmethod
    def from_records(
        cls, records: Iterable[Mapping[str, Any]], max_installed: int = 10
    ) -> ProfileStore:
        return cls(max_installed, (profile_from_dict(r) for r in records))


# --- plain dicts (JSON) for the journal ---------------------------------------------------------


def _instant(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def profile_to_dict(profile: ChargingProfile) -> dict[str, Any]:
    """The profile as JSON-ready plain data in the model's words (not 1.6's)."""
    schedule = profile.schedule
    return {
        "id": profile.id,
        "connector_id": profile.connector_id,
        "stack_level": profile.stack_level,
        "purpose": str(profile.purpose),
        "kind": str(profile.kind),
        "recurrency": None if profile.recurrency is None else str(profile.recurrency),
        "valid_from": _instant(profile.valid_from),
        "valid_to": _instant(profile.valid_to),
        "transaction_id": profile.transaction_id,
        "schedule": {
            "unit": str(schedule.unit),
            "duration_s": schedule.duration_s,
            "start": _instant(schedule.start),
            "min_rate": schedule.min_rate,
            "id": schedule.id,
            "periods": [
                {"start_s": p.start_s, "limit": p.limit, "phases": p.phases}
                for p in schedule.periods
            ],
        },
    }


def profile_from_dict(record: Mapping[str, Any]) -> ChargingProfile:
    """Read back :func:`profile_to_dict`'s output; raises :class:`ProfileFormatError`."""
    field = "record"
    try:
        field = "schedule"
        raw = record["schedule"]
        field = "periods"
        periods = tuple(
            SchedulePeriod(_int(p["start_s"]), float(p["limit"]), _opt(p.get("phases"), _int))
            for p in raw["periods"]
        )
        field = "schedule"
        schedule = ChargingSchedule(
            unit=RateUnit(raw["unit"]),
            periods=periods,
            duration_s=_opt(raw.get("duration_s"), _int),
            start=_opt(raw.get("start"), _aware),
            min_rate=_opt(raw.get("min_rate"), float),
            id=_opt(raw.get("id"), _int),
        )
        field = "profile"
        return ChargingProfile(
            id=_int(record["id"]),
            connector_id=_int(record["connector_id"]),
            stack_level=_int(record["stack_level"]),
            purpose=Purpose(record["purpose"]),
            kind=Kind(record["kind"]),
            schedule=schedule,
            recurrency=_opt(record.get("recurrency"), Recurrency),
            valid_from=_opt(record.get("valid_from"), _aware),
            valid_to=_opt(record.get("valid_to"), _aware),
            transaction_id=_opt(record.get("transaction_id"), _transaction_id),
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ProfileFormatError(f"charging profile {field}: {exc!r}") from exc


def _opt(value: Any, convert: Any) -> Any:
    return None if value is None else convert(value)


def _int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{value!r} is not an integer")
    return value


def _transaction_id(value: Any) -> int | str:
    if isinstance(value, str):
        return value
    return _int(value)


def _aware(text: str) -> datetime:
    instant = datetime.fromisoformat(text)
    if instant.tzinfo is None:
        raise ValueError(f"{text!r} has no time zone")
    return instant


def _constant(schedule: ChargingSchedule) -> bool:
    """One limit from offset 0 for ever: the same whatever instant the offsets count from."""
    return (
        len(schedule.periods) == 1
        and schedule.periods[0].start_s == 0
        and (schedule.duration_s is None)
    )
