"""The Core profile (OCPP 1.6 §4-§5 Core, §9.1 keys): its keys, its handlers, and the pieces
every connection runs (registration, heartbeat, status reports, the outbox courier).

:data:`profile` is what the registry (``ocppd/features/__init__.py``) lists.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from ocppd.features.core.handlers import CoreHandlers
from ocppd.features.core.keys import core_keys
from ocppd.features.core.registration import note_reason
from ocppd.features.core.speech import BootReason
from ocppd.features.profile import Handler, Profile, Services, Site
from ocppd.model.keys import KeySpec


def _keys(site: Site) -> Iterable[KeySpec]:
    return core_keys(
        phases=site.phases,
        measurands=site.measurands,
        profiles=site.profiles,
        security_profile=site.security_profile,
    )


def _handlers(services: Services) -> Mapping[str, Handler]:
    return CoreHandlers(
        charger=services.charger,
        keys=services.keys,
        registration=services.registration,
        persist_key=services.persist_key,
        remote_start_profiles=services.remote_start_profiles,
        note_reset=lambda: note_reason(services.journal, BootReason.REMOTE_RESET),
    ).table()


profile = Profile("Core", keys=_keys, handlers=_handlers)
