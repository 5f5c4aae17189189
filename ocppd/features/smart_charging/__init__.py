"""The Smart Charging profile (OCPP 1.6 §3.13, §5.5, §5.7, §5.16, §9.4; errata 2025-04):
SetChargingProfile, ClearChargingProfile, GetCompositeSchedule, the TxProfile of a
RemoteStartTransaction, its configuration keys, and the task that puts the limit in force.

The engine is the model's (``ocppd/model/charging_profile.py`` checks and keeps profiles,
``ocppd/model/smart_charging.py`` computes the composite schedule); ``words.py`` speaks
1.6 to it; ``runtime.py`` keeps the profiles durable and the connectors' limits current.
:data:`profile` is what the registry (``ocppd/features/__init__.py``) lists.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterable, Mapping
from typing import Any

from ocppd.features.profile import Handler, Profile, Services, Site, Task, TypedHandler
from ocppd.features.smart_charging.runtime import SmartCharging
from ocppd.features.smart_charging.words import (
    ALLOWED_UNIT,
    PURPOSE,
    UNIT,
    profile_from_wire,
    schedule_to_wire,
)
from ocppd.model.charging_profile import (
    ChargingProfile,
    ProfileStore,
    Refusal,
    Verdict,
    check_profile,
    check_remote_start_profile,
)
from ocppd.model.keys import KeySpec, KeyType
from ocppd.model.smart_charging import composite_schedule
from ocppd.protocol.errors import OcppError, Violation
from ocppd.protocol.v16 import messages as m
from ocppd.protocol.v16.enums import (
    ChargingProfileStatus,
    ChargingRateUnitType,
    ClearChargingProfileStatus,
    GetCompositeScheduleStatus,
)

log = logging.getLogger(__name__)

NAME = "SmartCharging"
MAX_COMPOSITE_S = 31 * 86_400  # a longer GetCompositeSchedule is answered for 31 days


def _keys(site: Site) -> Iterable[KeySpec]:
    """1.6 §9.4. The limits are the charger's own: read-only, settable in the config file."""
    return [
        KeySpec(
            "ChargeProfileMaxStackLevel",
            KeyType.INT,
            8,
            readonly=True,
            minimum=0,
            maximum=100,
            doc="the highest stackLevel a charging profile may have",
        ),
        KeySpec(
            "ChargingScheduleAllowedChargingRateUnit",
            KeyType.CSL,
            ("Current", "Power"),
            readonly=True,
            choices=frozenset(ALLOWED_UNIT),
            doc="the units a schedule may use: Current (A), Power (W)",
        ),
        KeySpec(
            "ChargingScheduleMaxPeriods",
            KeyType.INT,
            24,
            readonly=True,
            minimum=1,
            maximum=1000,
            doc="the most periods one schedule may have",
        ),
        KeySpec(
            "MaxChargingProfilesInstalled",
            KeyType.INT,
            10,
            readonly=True,
            minimum=1,
            maximum=100,
            doc="the most charging profiles installed at once",
        ),
        KeySpec(
            "ConnectorSwitch3to1PhaseSupported",
            KeyType.BOOL,
            False,
            readonly=True,
            derived=True,
            doc="false: no hardware ocppd drives switches phases during a transaction",
        ),
    ]


def offered(services: Services) -> bool:
    """Whether this daemon runs Smart Charging (its profile, and so its keys, are there):
    2.0.1's block K and the device model ask before they use :func:`runtime_of`."""
    return services.keys.has("MaxChargingProfilesInstalled")


def runtime_of(services: Services) -> SmartCharging:
    """The one Smart Charging runtime of this daemon (1.6 and 2.0.1 share it)."""
    return services.part(
        NAME,
        lambda: SmartCharging(
            charger=services.charger,
            keys=services.keys,
            clock=services.clock,
            records=services.records,
        ),
    )


class SmartChargingHandlers:
    """One handler per Smart Charging CALL. Refusals are answers (Rejected, Unknown), with
    the reason in the log; only a connector the charger does not have is a CALLERROR
    (errata §3.39)."""

    def __init__(self, smart: SmartCharging, services: Services) -> None:
        self.smart = smart
        self.services = services

    def table(self) -> dict[str, Handler]:
        return {
            "SetChargingProfile": TypedHandler(
                m.SetChargingProfileRequest, self.set_charging_profile
            ),
            "ClearChargingProfile": TypedHandler(
                m.ClearChargingProfileRequest, self.clear_charging_profile
            ),
            "GetCompositeSchedule": TypedHandler(
                m.GetCompositeScheduleRequest, self.get_composite_schedule
            ),
        }

    async def set_charging_profile(
        self, request: m.SetChargingProfileRequest
    ) -> m.SetChargingProfileResponse:
        rejected = m.SetChargingProfileResponse(status=ChargingProfileStatus.REJECTED)
        profile = profile_from_wire(request.connector_id, request.cs_charging_profiles)
        verdict = check_profile(profile, self.smart.limits(), self.smart.running())
        if verdict.refusal is Refusal.UNKNOWN_CONNECTOR:
            # errata §3.39: "an invalid value for connectorId ... CALLERROR:
            # PropertyConstraintViolation"
            raise OcppError(Violation.UNKNOWN_TARGET, verdict.reason)
        if verdict.accepted:
            verdict = self.smart.store.admits(profile)
        if not verdict.accepted:
            log.info("SetChargingProfile %d rejected: %s", profile.id, verdict.reason)
            return rejected
        installed: list[Verdict] = []

        def install(store: ProfileStore) -> None:
            installed.append(store.install(profile))

        if not await self.smart.change(f"profile {profile.id}", install):
            return rejected
        if not installed[0].accepted:  # the store filled up meanwhile (a remote start's)
            log.info("SetChargingProfile %d rejected: %s", profile.id, installed[0].reason)
            return rejected
        log.info(
            "SetChargingProfile %d accepted: %s on connector %d, stack level %d",
            profile.id,
            request.cs_charging_profiles.charging_profile_purpose,
            profile.connector_id,
            profile.stack_level,
        )
        return m.SetChargingProfileResponse(status=ChargingProfileStatus.ACCEPTED)

    async def clear_charging_profile(
        self, request: m.ClearChargingProfileRequest
    ) -> m.ClearChargingProfileResponse:
        unknown = m.ClearChargingProfileResponse(status=ClearChargingProfileStatus.UNKNOWN)
        purpose = request.charging_profile_purpose
        criteria: dict[str, Any] = {
            "profile_id": request.id,
            "connector_id": request.connector_id,
            "purpose": None if purpose is None else PURPOSE[purpose],
            "stack_level": request.stack_level,
        }
        matched: list[ChargingProfile] = []

        def clear(store: ProfileStore) -> None:
            matched.extend(store.clear(**criteria))

        if not await self.smart.change("a clear", clear) or not matched:
            log.info("ClearChargingProfile %s: nothing cleared", _shown(criteria))
            return unknown  # 1.6 has no Rejected here; a clear not kept did not happen
        log.info("ClearChargingProfile %s: cleared %s", _shown(criteria), [p.id for p in matched])
        return m.ClearChargingProfileResponse(status=ClearChargingProfileStatus.ACCEPTED)

    async def get_composite_schedule(
        self, request: m.GetCompositeScheduleRequest
    ) -> m.GetCompositeScheduleResponse:
        rejected = m.GetCompositeScheduleResponse(status=GetCompositeScheduleStatus.REJECTED)
        now = self.services.clock.now()
        if now is None:
            log.info("GetCompositeSchedule rejected: the time of day is not known yet")
            return rejected
        unit = UNIT[request.charging_rate_unit or ChargingRateUnitType.A]
        duration = min(max(request.duration, 0), MAX_COMPOSITE_S)
        try:
            schedule = composite_schedule(
                tuple(self.smart.store),
                self.smart.site(),
                request.connector_id,
                now,
                duration,
                unit,
            )
        except ValueError as exc:  # no such connector
            log.info("GetCompositeSchedule rejected: %s", exc)
            return rejected
        return m.GetCompositeScheduleResponse(
            status=GetCompositeScheduleStatus.ACCEPTED,
            connector_id=request.connector_id,
            schedule_start=schedule.start,
            charging_schedule=schedule_to_wire(schedule),
        )


def _shown(criteria: Mapping[str, Any]) -> str:
    given = {k: v for k, v in criteria.items() if v is not None}
    return ", ".join(f"{k}={v}" for k, v in given.items()) or "(all)"


def _handlers(services: Services) -> Mapping[str, Handler]:
    smart = runtime_of(services)

    def remote_start_profile(connector_id: int, wire: Any) -> str | None:
        """RemoteStartTransaction's profile: checked now (Rejected when it may not be
        used, TC_060), installed when the transaction begins (§5.16.2, errata §3.41-3.42).
        It comes in 1.6 words, or already in the engine's (2.0.1's RequestStartTransaction,
        K05: ``features/v201/remote_start.py``)."""
        if isinstance(wire, m.ChargingProfile):
            profile = profile_from_wire(connector_id, wire)
        elif isinstance(wire, ChargingProfile):
            profile = dataclasses.replace(wire, connector_id=connector_id)
        else:  # a mistake in the wiring
            raise TypeError(f"a remote start's profile came as {type(wire).__name__}")
        verdict = check_remote_start_profile(profile, smart.limits())
        if verdict.accepted:
            verdict = smart.store.admits(profile)
        if not verdict.accepted:
            return verdict.reason
        smart.take_remote_start(connector_id, profile)
        return None

    services.remote_start_profiles.taken_by(remote_start_profile)
    return SmartChargingHandlers(smart, services).table()


def _tasks(services: Services) -> Iterable[Task]:
    return [runtime_of(services).run]


profile = Profile(NAME, keys=_keys, handlers=_handlers, tasks=_tasks)

__all__ = ["NAME", "SmartCharging", "offered", "profile", "runtime_of"]
