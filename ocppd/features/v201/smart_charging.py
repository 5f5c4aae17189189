"""OCPP 2.0.1 Smart Charging, functional block K, over the one Smart Charging engine.

The engine is 1.6's (``ocppd/model/charging_profile.py`` checks and keeps profiles,
``ocppd/model/smart_charging.py`` computes the composite schedule, and
``features/smart_charging/runtime.py`` keeps them in the journal and puts the limit in force
at each boundary). This module says its calls in 2.0.1 words: one store, one journal table,
one limit task, so a profile set over one version is in force, reported and cleared over the
other (design decisions 1 and 4). EVSE n is connector n; evseId 0 is the station (decision 6).

- K01 SetChargingProfile: the engine's checks (stack level, unit, periods, validity, the
  transaction) plus 2.0.1's own rules, each refusal Rejected with a ``reasonCode`` in
  ``statusInfo`` (:data:`REASON`): ChargingStationExternalConstraints is never taken from the
  CSMS (K01.FR.22); a TxProfile needs a transactionId (K01.FR.03) that runs on that EVSE
  (K01.FR.09, K01.FR.33); a ChargingStationMaxProfile is not Relative (K01.FR.38); Absolute
  and Recurring need a startSchedule (K01.FR.40), Relative has none (K01.FR.41); a second
  profile with the purpose and stack level of an installed one on the same EVSE is refused
  while their validity periods overlap (K01.FR.06; a TxProfile: the same transaction,
  K01.FR.39), and a TxDefaultProfile on evseId 0 and one on an EVSE may not share a stack
  level (K01.FR.52, K01.FR.53). A profile with an installed one's id replaces it (K01.FR.05).
  One schedule per profile: more than one is for an EV to choose from over ISO 15118
  (K01.FR.34: only after NotifyEVChargingNeeds), which this charger does not speak, so two
  or three are Rejected; so is a sales tariff (ISO 15118 too) and ``phaseToUse`` (no
  hardware ocppd drives switches phases: ACPhaseSwitchingSupported is false, K01.FR.20).
  ``numberPhases`` absent means 3 (K01.FR.49); more phases than the EVSE is wired for
  count as the phases it has (the engine's rule, 1.6 errata §3.34).
- K08 GetCompositeSchedule: the engine's composite of that EVSE (0: the station), in the
  unit asked for or, without one, the first ChargingScheduleAllowedChargingRateUnit names.
- K09 GetChargingProfiles: Accepted and ReportChargingProfiles after the answer (one per EVSE,
  in parts, ``tbc`` on all but the last), or NoProfiles.
- K10 ClearChargingProfile: by id, else by the criteria (all given must match); Unknown
  when nothing matched.
- K05 (RequestStartTransaction with a TxProfile) is ``remote_start.py``'s, handed to the
  same engine; K02 (a TxProfile during the transaction) is K01 with a transactionId.

A TxProfile names its transaction by the id of the version it runs in: a 1.6 integer, a
2.0.1 string. A transaction stays in the version it began in, so a TxProfile set over 2.0.1
for a transaction begun over 1.6 (or the other way round) names no running transaction and
is Rejected; TxDefault and ChargingStationMax profiles mean the same in both versions and
apply to every transaction. Every profile this charger keeps came from the central system:
reported with chargingLimitSource CSO. Not built: K11-K14 (no external limit source feeds
the engine: the local maximum and the temperature derating are the charger's own limits,
not a charging profile, so there is no NotifyChargingLimit to send) and K15-K17 (ISO 15118).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ocppd.features.link import open_session
from ocppd.features.profile import Handler, Profile, Services, Site, TypedHandler
from ocppd.features.smart_charging import MAX_COMPOSITE_S, SmartCharging, offered, runtime_of
from ocppd.features.smart_charging.words import ALLOWED_UNIT
from ocppd.model.charging_profile import (
    ChargingProfile,
    ChargingSchedule,
    Kind,
    ProfileStore,
    Purpose,
    RateUnit,
    Recurrency,
    Refusal,
    SchedulePeriod,
    Verdict,
    check_profile,
)
from ocppd.model.keys import Keys, KeySpec, KeyType
from ocppd.model.smart_charging import CompositeSchedule, composite_schedule
from ocppd.protocol.v201 import codec
from ocppd.protocol.v201 import messages as m
from ocppd.protocol.v201.enums import (
    ChargingLimitSourceEnumType,
    ChargingProfileKindEnumType,
    ChargingProfilePurposeEnumType,
    ChargingProfileStatusEnumType,
    ChargingRateUnitEnumType,
    ClearChargingProfileStatusEnumType,
    GenericStatusEnumType,
    GetChargingProfileStatusEnumType,
    RecurrencyKindEnumType,
)
from ocppd.session import CallFailure, Then

log = logging.getLogger(__name__)

# --- the words ---------------------------------------------------------------------------------

PURPOSE: Mapping[ChargingProfilePurposeEnumType, Purpose] = {
    ChargingProfilePurposeEnumType.CHARGING_STATION_MAX_PROFILE: Purpose.CHARGE_POINT_MAX,
    ChargingProfilePurposeEnumType.TX_DEFAULT_PROFILE: Purpose.TX_DEFAULT,
    ChargingProfilePurposeEnumType.TX_PROFILE: Purpose.TX,
}
"""ChargingStationExternalConstraints has no entry: only the charger sets such a limit."""
PURPOSE_WORD = {model: wire for wire, model in PURPOSE.items()}

KIND = {
    ChargingProfileKindEnumType.ABSOLUTE: Kind.ABSOLUTE,
    ChargingProfileKindEnumType.RECURRING: Kind.RECURRING,
    ChargingProfileKindEnumType.RELATIVE: Kind.RELATIVE,
}
KIND_WORD = {model: wire for wire, model in KIND.items()}

RECURRENCY = {
    RecurrencyKindEnumType.DAILY: Recurrency.DAILY,
    RecurrencyKindEnumType.WEEKLY: Recurrency.WEEKLY,
}
RECURRENCY_WORD = {model: wire for wire, model in RECURRENCY.items()}

UNIT = {ChargingRateUnitEnumType.A: RateUnit.AMPERE, ChargingRateUnitEnumType.W: RateUnit.WATT}
UNIT_WORD = {model: wire for wire, model in UNIT.items()}

SOURCE = ChargingLimitSourceEnumType.CSO  # every profile kept here came from the CSMS

# the reasonCode (at most 20 characters) of each engine refusal (2.0.1 Part 2, "Reason codes")
REASON: Mapping[Refusal, str] = {
    Refusal.UNKNOWN_CONNECTOR: "UnknownEvse",
    Refusal.WRONG_CONNECTOR: "InvalidValue",
    Refusal.WRONG_PURPOSE: "InvalidValue",
    Refusal.STACK_LEVEL: "InvalidStackLevel",
    Refusal.UNIT: "UnsupportedRateUnit",
    Refusal.TOO_MANY_PERIODS: "InvalidSchedule",
    Refusal.PERIODS: "InvalidSchedule",
    Refusal.SCHEDULE: "InvalidSchedule",
    Refusal.NO_TRANSACTION: "TxNotFound",
    Refusal.OTHER_TRANSACTION: "TxNotFound",
    Refusal.FULL: "MaxProfilesReached",
}

ALLOWED_UNITS_KEY = "ChargingScheduleAllowedChargingRateUnit"
LIMIT_CHANGE_SIGNIFICANCE = "SmartChargingCtrlr.LimitChangeSignificance"
REPORT_BYTES = 60_000  # a ReportChargingProfiles' profiles, about (one profile at least)


@dataclass(frozen=True, slots=True)
class Refused:
    """Why a 2.0.1 profile is not taken: a reasonCode and the words for the log."""

    reason_code: str
    why: str

    def info(self) -> m.StatusInfoType:
        return m.StatusInfoType(reason_code=self.reason_code, additional_info=self.why[:512])


def profile_from_wire(evse_id: int, wire: m.ChargingProfileType) -> ChargingProfile | Refused:
    """The engine's profile for a 2.0.1 ``chargingProfile`` on ``evse_id`` (set with
    SetChargingProfile, or carried by a RequestStartTransaction), or why it cannot be one:
    the rules of the profile itself; the engine checks the rest."""
    purpose = PURPOSE.get(wire.charging_profile_purpose)
    if purpose is None:  # K01.FR.22
        return Refused("InvalidValue", "ChargingStationExternalConstraints is the charger's own")
    if len(wire.charging_schedule) != 1:  # K01.FR.34
        return Refused(
            "InvalidSchedule",
            f"{len(wire.charging_schedule)} schedules: one is taken (several are for ISO 15118)",
        )
    schedule = wire.charging_schedule[0]
    if schedule.sales_tariff is not None:
        return Refused("UnsupportedParam", "a sales tariff is for ISO 15118, not spoken here")
    if any(p.phase_to_use is not None for p in schedule.charging_schedule_period):
        # K01.FR.19-20: phaseToUse needs ACPhaseSwitchingSupported
        return Refused("UnsupportedParam", "phaseToUse: this charger cannot switch phases")
    kind = KIND[wire.charging_profile_kind]
    if kind is Kind.RELATIVE and schedule.start_schedule is not None:  # K01.FR.41
        return Refused("InvalidSchedule", "a Relative profile has no startSchedule")
    if purpose is Purpose.CHARGE_POINT_MAX and kind is Kind.RELATIVE:  # K01.FR.38
        return Refused("InvalidValue", "a ChargingStationMaxProfile cannot be Relative")
    return ChargingProfile(
        id=wire.id,
        connector_id=evse_id,
        stack_level=wire.stack_level,
        purpose=purpose,
        kind=kind,
        schedule=ChargingSchedule(
            unit=UNIT[schedule.charging_rate_unit],
            periods=tuple(
                SchedulePeriod(p.start_period, p.limit, p.number_phases)
                for p in schedule.charging_schedule_period
            ),
            duration_s=schedule.duration,
            start=schedule.start_schedule,
            min_rate=schedule.min_charging_rate,
            id=schedule.id,
        ),
        recurrency=None if wire.recurrency_kind is None else RECURRENCY[wire.recurrency_kind],
        valid_from=wire.valid_from,
        valid_to=wire.valid_to,
        transaction_id=wire.transaction_id,
    )


def profile_to_wire(profile: ChargingProfile) -> m.ChargingProfileType:
    """An installed profile as ReportChargingProfiles says it. One set over 1.6 has no
    schedule id: it takes the profile's; a 1.6 transaction's integer id is said as text."""
    schedule = profile.schedule
    return m.ChargingProfileType(
        id=profile.id,
        stack_level=profile.stack_level,
        charging_profile_purpose=PURPOSE_WORD[profile.purpose],
        charging_profile_kind=KIND_WORD[profile.kind],
        charging_schedule=(
            m.ChargingScheduleType(
                id=profile.id if schedule.id is None else schedule.id,
                charging_rate_unit=UNIT_WORD[schedule.unit],
                charging_schedule_period=tuple(
                    m.ChargingSchedulePeriodType(
                        start_period=p.start_s, limit=p.limit, number_phases=p.phases
                    )
                    for p in schedule.periods
                ),
                start_schedule=schedule.start,
                duration=schedule.duration_s,
                min_charging_rate=schedule.min_rate,
            ),
        ),
        recurrency_kind=None if profile.recurrency is None else RECURRENCY_WORD[profile.recurrency],
        valid_from=profile.valid_from,
        valid_to=profile.valid_to,
        transaction_id=None if profile.transaction_id is None else str(profile.transaction_id),
    )


def composite_to_wire(composite: CompositeSchedule) -> m.CompositeScheduleType:
    return m.CompositeScheduleType(
        evse_id=composite.connector_id,
        duration=composite.duration_s,
        schedule_start=composite.start,
        charging_rate_unit=UNIT_WORD[composite.unit],
        charging_schedule_period=tuple(
            m.ChargingSchedulePeriodType(
                start_period=p.start_s, limit=p.limit, number_phases=p.phases
            )
            for p in composite.periods
        ),
    )


# --- the rules 2.0.1 adds to the store's ---------------------------------------------------------


def _overlap(a: ChargingProfile, b: ChargingProfile) -> bool:
    """Whether two validity periods share an instant (absent: unbounded)."""
    starts_before_b_ends = a.valid_from is None or b.valid_to is None or a.valid_from < b.valid_to
    ends_after_b_starts = a.valid_to is None or b.valid_from is None or a.valid_to > b.valid_from
    return starts_before_b_ends and ends_after_b_starts


def conflict(profile: ChargingProfile, installed: Iterable[ChargingProfile]) -> Refused | None:
    """K01.FR.06 / K01.FR.39 / K01.FR.52-53: an installed profile (another id) that this one
    may not stand beside. 1.6 replaced the one in the same slot; 2.0.1 refuses instead."""
    for other in installed:
        if other.id == profile.id or other.purpose is not profile.purpose:
            continue
        if other.stack_level != profile.stack_level:
            continue
        if other.connector_id == profile.connector_id:
            if profile.purpose is Purpose.TX or _overlap(profile, other):
                return Refused(
                    "DuplicateProfile",
                    f"profile {other.id} has this purpose and stack level on EVSE "
                    f"{profile.connector_id}",
                )
        elif profile.purpose is Purpose.TX_DEFAULT and 0 in (
            profile.connector_id,
            other.connector_id,
        ):
            return Refused(
                "DuplicateProfile",
                f"TxDefaultProfile {other.id} on EVSE {other.connector_id} has stack level "
                f"{profile.stack_level}",
            )
    return None


def matches(
    profile: ChargingProfile, evse_id: int | None, criterion: m.ChargingProfileCriterionType
) -> bool:
    """K09: whether GetChargingProfiles asks for ``profile`` (every given criterion holds)."""
    if evse_id is not None and profile.connector_id != evse_id:
        return False
    if (
        criterion.charging_limit_source is not None
        and SOURCE not in criterion.charging_limit_source
    ):
        return False
    if (
        criterion.charging_profile_id is not None
        and profile.id not in criterion.charging_profile_id
    ):
        return False
    purpose = criterion.charging_profile_purpose
    if purpose is not None and PURPOSE.get(purpose) is not profile.purpose:
        return False
    return criterion.stack_level is None or criterion.stack_level == profile.stack_level


def report_parts(
    profiles: Sequence[ChargingProfile], max_bytes: int = REPORT_BYTES
) -> list[tuple[int, tuple[m.ChargingProfileType, ...]]]:
    """The ReportChargingProfiles to send: per EVSE (the message names one), in parts of
    about ``max_bytes`` of profiles (one profile at least, so a report always ends)."""
    parts: list[tuple[int, tuple[m.ChargingProfileType, ...]]] = []
    for evse_id in sorted({p.connector_id for p in profiles}):
        part: list[m.ChargingProfileType] = []
        size = 0
        for profile in (p for p in profiles if p.connector_id == evse_id):
            wire = profile_to_wire(profile)
            length = len(json.dumps(codec.to_payload(wire), separators=(",", ":"))) + 1
            if part and size + length > max_bytes:
                parts.append((evse_id, tuple(part)))
                part, size = [], 0
            part.append(wire)
            size += length
        parts.append((evse_id, tuple(part)))
    return parts


# --- the handlers ------------------------------------------------------------------------------


class SmartCharging201:
    """K01, K08, K09, K10 over the daemon's one :class:`SmartCharging`."""

    def __init__(self, smart: SmartCharging, services: Services) -> None:
        self.smart = smart
        self.services = services

    def __repr__(self) -> str:
        return f"<SmartCharging201 {self.smart!r}>"

    def table(self) -> dict[str, Handler]:
        return {
            "SetChargingProfile": TypedHandler(m.SetChargingProfileRequest, self.set_profile),
            "ClearChargingProfile": TypedHandler(m.ClearChargingProfileRequest, self.clear),
            "GetChargingProfiles": TypedHandler(m.GetChargingProfilesRequest, self.get_profiles),
            "GetCompositeSchedule": TypedHandler(
                m.GetCompositeScheduleRequest, self.get_composite_schedule
            ),
        }

    def _verdict(self, request: m.SetChargingProfileRequest) -> ChargingProfile | Refused:
        profile = profile_from_wire(request.evse_id, request.charging_profile)
        if isinstance(profile, Refused):
            return profile
        if profile.purpose is Purpose.TX and profile.transaction_id is None:  # K01.FR.03
            return Refused("MissingParam", "a TxProfile names its transaction")
        verdict = check_profile(profile, self.smart.limits(), self.smart.running())
        if verdict.accepted:
            refused = conflict(profile, self.smart.store)
            if refused is not None:
                return refused
            verdict = self.smart.store.admits(profile, replace_slot=False)
        return profile if verdict.accepted else _refused(verdict)

    async def set_profile(self, request: m.SetChargingProfileRequest) -> Any:
        """K01 (and K02: a TxProfile for the running transaction)."""
        wire = request.charging_profile
        found = self._verdict(request)
        if isinstance(found, Refused):
            log.info("SetChargingProfile %d rejected: %s", wire.id, found.why)
            return _set_answer(found)
        profile = found
        outcome: list[Refused | None] = []

        def install(store: ProfileStore) -> None:
            # again under the store's lock: a remote start's profile may have come meanwhile
            refused = conflict(profile, store)
            if refused is None:
                verdict = store.install(profile, replace_slot=False)
                refused = None if verdict.accepted else _refused(verdict)
            outcome.append(refused)

        if not await self.smart.change(f"profile {profile.id}", install):
            return _set_answer(Refused("InternalError", "the journal could not keep it"))
        if outcome[0] is not None:
            log.info("SetChargingProfile %d rejected: %s", profile.id, outcome[0].why)
            return _set_answer(outcome[0])
        log.info(
            "SetChargingProfile %d accepted: %s on EVSE %d, stack level %d",
            profile.id,
            wire.charging_profile_purpose.value,
            profile.connector_id,
            profile.stack_level,
        )
        return m.SetChargingProfileResponse(status=ChargingProfileStatusEnumType.ACCEPTED)

    async def clear(self, request: m.ClearChargingProfileRequest) -> Any:
        """K10: by id (the criteria then do not matter), else every profile the criteria
        match (all given; none given: every profile)."""
        unknown = ClearChargingProfileStatusEnumType.UNKNOWN
        criteria = request.charging_profile_criteria or m.ClearChargingProfileType()
        if criteria.charging_profile_purpose is (
            ChargingProfilePurposeEnumType.CHARGING_STATION_EXTERNAL_CONSTRAINTS
        ):
            # K10.FR.06: the CSMS clears no external limit (and none is kept here)
            return m.ClearChargingProfileResponse(
                status=unknown,
                status_info=Refused(
                    "InvalidValue", "external constraints are not the CSMS's"
                ).info(),
            )
        purpose = criteria.charging_profile_purpose
        chosen: dict[str, Any] = (
            {"profile_id": request.charging_profile_id}
            if request.charging_profile_id is not None
            else {
                "connector_id": criteria.evse_id,
                "purpose": None if purpose is None else PURPOSE[purpose],
                "stack_level": criteria.stack_level,
            }
        )
        matched: list[ChargingProfile] = []

        def clear(store: ProfileStore) -> None:
            matched.extend(store.clear(**chosen))

        shown = _shown(chosen)
        if not await self.smart.change("a clear", clear) or not matched:
            log.info("ClearChargingProfile %s: nothing cleared", shown)
            return m.ClearChargingProfileResponse(status=unknown)
        log.info("ClearChargingProfile %s: cleared %s", shown, [p.id for p in matched])
        return m.ClearChargingProfileResponse(status=ClearChargingProfileStatusEnumType.ACCEPTED)

    async def get_profiles(self, request: m.GetChargingProfilesRequest) -> Any:
        """K09: NoProfiles, or Accepted and the reports after the answer, on this link."""
        found = [
            p for p in self.smart.store if matches(p, request.evse_id, request.charging_profile)
        ]
        if not found:
            log.info("GetChargingProfiles %d: no profile matches", request.request_id)
            return m.GetChargingProfilesResponse(
                status=GetChargingProfileStatusEnumType.NO_PROFILES
            )
        parts = report_parts(found)
        log.info(
            "GetChargingProfiles %d: %d profile(s) in %d report(s)",
            request.request_id,
            len(found),
            len(parts),
        )
        return Then(
            m.GetChargingProfilesResponse(status=GetChargingProfileStatusEnumType.ACCEPTED),
            self._reporter(request.request_id, parts),
        )

    def _reporter(
        self, request_id: int, parts: list[tuple[int, tuple[m.ChargingProfileType, ...]]]
    ) -> Callable[[], Awaitable[None]]:
        async def send() -> None:
            session = open_session(self.services.link)
            for index, (evse_id, profiles) in enumerate(parts):
                try:
                    await session.call(
                        m.ReportChargingProfilesRequest(
                            request_id=request_id,
                            charging_limit_source=SOURCE,
                            charging_profile=profiles,
                            evse_id=evse_id,
                            tbc=index < len(parts) - 1 or None,
                        )
                    )
                except CallFailure as exc:
                    log.warning(
                        "charging profile report %d ended at part %d of %d: %s",
                        request_id,
                        index + 1,
                        len(parts),
                        exc,
                    )
                    return

        return send

    async def get_composite_schedule(self, request: m.GetCompositeScheduleRequest) -> Any:
        """K08: the composite schedule from now for ``duration`` seconds (at most 31 days)."""

        def rejected(refused: Refused) -> m.GetCompositeScheduleResponse:
            log.info("GetCompositeSchedule rejected: %s", refused.why)
            return m.GetCompositeScheduleResponse(
                status=GenericStatusEnumType.REJECTED, status_info=refused.info()
            )

        if not 0 <= request.evse_id <= len(self.smart.charger.connectors):
            return rejected(Refused("UnknownEvse", f"there is no EVSE {request.evse_id}"))
        allowed = self.smart.limits().units
        if request.charging_rate_unit is not None:
            unit = UNIT[request.charging_rate_unit]
        else:
            unit = _first_allowed(self.services) or RateUnit.AMPERE
        if unit not in allowed:
            return rejected(Refused("UnsupportedRateUnit", f"schedules in {unit} are not taken"))
        now = self.services.clock.now()
        if now is None:
            return rejected(Refused("InternalError", "the time of day is not known yet"))
        duration = min(max(request.duration, 0), MAX_COMPOSITE_S)
        schedule = composite_schedule(
            tuple(self.smart.store), self.smart.site(), request.evse_id, now, duration, unit
        )
        return m.GetCompositeScheduleResponse(
            status=GenericStatusEnumType.ACCEPTED, schedule=composite_to_wire(schedule)
        )


def _first_allowed(services: Services) -> RateUnit | None:
    for word in services.keys.get_csl(ALLOWED_UNITS_KEY):
        if word in ALLOWED_UNIT:
            return ALLOWED_UNIT[word]
    return None


def _refused(verdict: Verdict) -> Refused:
    assert verdict.refusal is not None
    return Refused(REASON[verdict.refusal], verdict.reason)


def _set_answer(refused: Refused) -> m.SetChargingProfileResponse:
    return m.SetChargingProfileResponse(
        status=ChargingProfileStatusEnumType.REJECTED, status_info=refused.info()
    )


def _shown(criteria: Mapping[str, Any]) -> str:
    given = {k: v for k, v in criteria.items() if v is not None}
    return ", ".join(f"{k}={v}" for k, v in given.items()) or "(all)"


def rate_unit_words(keys: Keys) -> str:
    """SmartChargingCtrlr.RateUnit: ChargingScheduleAllowedChargingRateUnit in 2.0.1's
    words (1.6 says Current and Power, 2.0.1 A and W)."""
    units = (ALLOWED_UNIT[w] for w in keys.get_csl(ALLOWED_UNITS_KEY) if w in ALLOWED_UNIT)
    return ",".join(UNIT_WORD[u].value for u in units)


def handlers(services: Services) -> Mapping[str, Handler]:
    """Block K's calls, when this daemon runs Smart Charging (the 1.6 profile's engine);
    without it the CSMS's calls are NotSupported (K01.FR.29) and a RequestStartTransaction's
    profile is ignored (TC_K_38_CS)."""
    if not offered(services):
        return {}
    return SmartCharging201(runtime_of(services), services).table()


def keys(_site: Site) -> Iterable[KeySpec]:
    """The 2.0.1-only key of block K. The other SmartChargingCtrlr variables are 1.6 keys
    or facts (``variables.py``)."""
    return [
        # Kept for the central system: the charger reports no limit change of its own
        # (no external limit source: K12 and ChargingRateChanged do not arise)
        KeySpec(
            LIMIT_CHANGE_SIGNIFICANCE,
            KeyType.INT,
            10,
            minimum=0,
            maximum=100,
            listed=False,
            doc="2.0.1 SmartChargingCtrlr.LimitChangeSignificance (%, whole percent)",
        ),
    ]


profile = Profile("SmartCharging", keys=keys, handlers=handlers, advertised=False)
"""K01-K02, K05 (through ``remote_start.py``), K08-K10. Its limit task is the 1.6 profile's
(one engine, one task: ``features/smart_charging``)."""
