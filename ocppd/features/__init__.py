"""What OCPP asks for, by feature profile: the registry of the profiles this charge point offers.

Each profile is a module that declares its configuration keys, its CSMS-call handlers
and its tasks (:class:`ocppd.features.profile.Profile`); :data:`PROFILES` lists them,
and ``SupportedFeatureProfiles`` is their names. Adding a profile is its own module and
one line here. ``app.py`` builds the model and asks the profiles for their parts.
"""

from __future__ import annotations

from collections.abc import Mapping

from hal.base import Quantity
from ocppd.features import (
    certificates,
    core,
    firmware,
    local_auth_list,
    remote_trigger,
    reservation,
    smart_charging,
)
from ocppd.features.profile import Profile, Site
from ocppd.model.keys import KeySpec
from ocppd.model.metering import supported_measurands

PROFILES: tuple[Profile, ...] = (
    core.profile,
    local_auth_list.profile,
    reservation.profile,
    smart_charging.profile,
    remote_trigger.profile,
    firmware.profile,
    certificates.profile,
)
"""The profiles this charge point offers, in the order SupportedFeatureProfiles lists them."""


def site(
    profiles: tuple[Profile, ...] = PROFILES,
    *,
    connectors: int = 1,
    phases: Mapping[int, int] | None = None,
    measurands: frozenset[str] | None = None,
    security_profile: int = 0,
) -> Site:
    """The facts key declarations depend on; ``phases`` (connector id -> phase count) defaults
    to ``connectors`` three-phase connectors, ``measurands`` to whatever a meter can give."""
    return Site(
        phases=dict(phases) if phases is not None else dict.fromkeys(range(1, connectors + 1), 3),
        measurands=supported_measurands(Quantity) if measurands is None else measurands,
        security_profile=security_profile,
        profiles=tuple(p.name for p in profiles if p.advertised),
    )


def declared_keys(
    profiles: tuple[Profile, ...] = PROFILES,
    *,
    connectors: int = 1,
    phases: Mapping[int, int] | None = None,
    measurands: frozenset[str] | None = None,
    security_profile: int = 0,
) -> list[KeySpec]:
    """Every configuration key the ``profiles`` declare, for a charger with these facts (see
    :func:`site`). A key declared twice is a mistake in the code: ValueError names it."""
    facts = site(
        profiles,
        connectors=connectors,
        phases=phases,
        measurands=measurands,
        security_profile=security_profile,
    )
    specs: list[KeySpec] = []
    owner: dict[str, str] = {}
    for profile in profiles:
        for spec in profile.keys(facts):
            folded = spec.name.lower()
            if folded in owner:
                raise ValueError(
                    f"key {spec.name} is declared by {owner[folded]} and by {profile.name}"
                )
            owner[folded] = profile.name
            specs.append(spec)
    return specs
