"""OCPP 2.0.1: its functional blocks, one module each, and their registry.

:data:`V201_PROFILES` is what 2.0.1 offers, as :class:`~ocppd.features.profile.Profile`
objects like 1.6's ``PROFILES``, with handlers keyed by 2.0.1 action name; each block
joins with one line there. They are not advertised: SupportedFeatureProfiles is a 1.6
key. :data:`V201_SPEECH` is how 2.0.1 says the messages the Core's registration,
heartbeat and status reporting send (``features/core/speech.py``).
"""

from __future__ import annotations

from collections.abc import Iterable

from ocppd.features.core.speech import Speech
from ocppd.features.profile import Profile, Site
from ocppd.features.v201 import heartbeat, registration, status
from ocppd.model.keys import KeySpec

V201_SPEECH = Speech(
    boot=registration.boot_request,
    heartbeat=heartbeat.heartbeat_request,
    status=status.status_request,
    heard=status.heard,
)
"""OCPP 2.0.1's BootNotification, Heartbeat and StatusNotification."""


def _no_keys(_site: Site) -> Iterable[KeySpec]:
    return ()


provisioning = Profile("Provisioning", keys=_no_keys, advertised=False)
"""B: registration (B01-B03) runs in every connection's conversation (the Core's)."""

V201_PROFILES: tuple[Profile, ...] = (provisioning,)
"""The 2.0.1 functional blocks this charging station offers."""
