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
from ocppd.features.profile import Profile, Services, Site, Task
from ocppd.features.v201 import (
    authorization,
    availability,
    certificates,
    customer,
    data_transfer,
    device_model,
    display,
    faults,
    firmware,
    heartbeat,
    network,
    registration,
    remote,
    remote_start,
    reservation,
    reset,
    smart_charging,
    status,
    transactions,
)
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


provisioning = Profile("Provisioning", keys=_no_keys, handlers=reset.handlers, advertised=False)
"""B: registration (B01-B03) runs in every connection's conversation (the Core's); Reset
(B11-B12)."""


def _fault_events(services: Services) -> Iterable[Task]:
    events = faults.FaultEvents(
        charger=services.charger,
        link=services.link,
        registration=services.registration,
        clock=services.clock,
    )
    return (events.run,)


availability_block = Profile(
    "Availability",
    keys=_no_keys,
    handlers=availability.handlers,
    tasks=_fault_events,
    advertised=False,
)
"""G: StatusNotification (G01) and Heartbeat (G02) run in every connection's conversation;
ChangeAvailability (G03-G04); a fault's detail as a NotifyEvent (``faults.py``)."""
remote_control = Profile(
    "RemoteControl",
    keys=_no_keys,
    handlers=remote.handlers,
    triggers=remote.TRIGGERS,
    advertised=False,
)
"""F: UnlockConnector (F05), TriggerMessage (F06)."""
data_transfer_block = Profile(
    "DataTransfer", keys=_no_keys, handlers=data_transfer.handlers, advertised=False
)
"""P: DataTransfer (P01-P02)."""

V201_PROFILES: tuple[Profile, ...] = (
    provisioning,
    availability_block,
    remote_control,
    data_transfer_block,
    device_model.profile,
    authorization.profile,
    remote_start.profile,
    certificates.profile,
    transactions.profile,
    smart_charging.profile,
    reservation.profile,
    firmware.firmware_management,
    firmware.diagnostics,
    display.profile,
    customer.profile,
    network.profile,
)
"""The 2.0.1 functional blocks this charging station offers."""
