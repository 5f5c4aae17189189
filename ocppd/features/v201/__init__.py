"""OCPP 2.0.1, by functional block: the registry of the 2.0.1 profiles.

:data:`V201_PROFILES` holds the same :class:`~ocppd.features.profile.Profile` objects the
1.6 registry does, with handlers keyed by 2.0.1 action; each block joins with one line.
"""

from __future__ import annotations

from ocppd.features.profile import Profile
from ocppd.features.v201 import certificates

V201_PROFILES: tuple[Profile, ...] = (certificates.profile,)
"""The 2.0.1 functional blocks this charging station offers."""
