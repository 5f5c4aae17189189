"""Firmware Management (OCPP 1.6 §4.4-4.5, §5.8, §5.14, §6.x): UpdateFirmware installs a
Debian package through the privileged helper (``update.py``), GetDiagnostics uploads a
bundle (``diagnostics.py``); GetLog uploads that bundle or the security log
(``logs.py``). The OS work (transfers, dpkg-deb, the helper, the bundle) is in
``ocppd/system/``; this package says what it means in 1.6.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from ocppd.features.firmware.base import Context
from ocppd.features.firmware.diagnostics import Diagnostics
from ocppd.features.firmware.logs import Logs
from ocppd.features.firmware.update import Updater
from ocppd.features.profile import (
    Handler,
    Profile,
    Services,
    Site,
    Task,
    Trigger,
    TypedHandler,
)
from ocppd.model.keys import KeySpec, KeyType
from ocppd.protocol.v16 import messages as m

NAME = "FirmwareManagement"
PROTOCOLS = "HTTP,HTTPS,FTP,FTPS"


def _keys(_site: Site) -> Iterable[KeySpec]:
    return [
        KeySpec(
            "SupportedFileTransferProtocols",
            KeyType.CSL,
            PROTOCOLS,
            readonly=True,
            derived=True,
            doc="What UpdateFirmware and GetDiagnostics locations may use (1.6 §9.1.37).",
        )
    ]


class Firmware:
    """The profile's one object: the update, the diagnostics, and what ocppctl and Remote
    Trigger ask of them."""

    def __init__(self, services: Services) -> None:
        context = Context.of(services)
        self.state_dir = context.state_dir
        self.update = Updater(context)
        self.diagnostics = Diagnostics(context, self.update.state)
        self.logs = Logs(context, self.diagnostics)  # GetLog (security whitepaper N01)

    def __repr__(self) -> str:
        return f"<Firmware {self.update!r} {self.diagnostics!r}>"

    def state(self) -> dict[str, Any]:
        """What ``ocppctl firmware`` shows: what, where, next attempt, last error."""
        return {**self.update.state(), **self.diagnostics.state()}

    async def bundle(self, path: Path, since: datetime | None, until: datetime | None) -> Path:
        """The diagnostics bundle at ``path`` (``ocppctl diagnostics``)."""
        return await self.diagnostics.bundle(path, since, until)

    async def send_firmware_status(self) -> None:
        await self.update.send_firmware_status()

    async def send_diagnostics_status(self) -> None:
        await self.diagnostics.send_diagnostics_status()

    async def send_signed_firmware_status(self) -> None:
        await self.update.send_signed_firmware_status()


def _firmware(services: Services) -> Firmware:
    """The one Firmware of this daemon: its handlers, task and verbs share it."""
    return services.part(NAME, lambda: Firmware(services))


def _handlers(services: Services) -> Mapping[str, Handler]:
    if services.settings is None:  # built without the daemon's settings (tests)
        return {}
    firmware = _firmware(services)
    return {
        "UpdateFirmware": TypedHandler(m.UpdateFirmwareRequest, firmware.update.update_firmware),
        "SignedUpdateFirmware": TypedHandler(
            m.SignedUpdateFirmwareRequest, firmware.update.signed_update_firmware
        ),
        "GetDiagnostics": TypedHandler(
            m.GetDiagnosticsRequest, firmware.diagnostics.get_diagnostics
        ),
        "GetLog": TypedHandler(m.GetLogRequest, firmware.logs.get_log),
    }


def _tasks(services: Services) -> Iterable[Task]:
    if services.settings is None:  # built without the daemon's settings (tests)
        return ()
    return [_firmware(services).update.run]


def _firmware_status(services: Services, _connector_id: int | None) -> Task | None:
    return _firmware(services).send_firmware_status


def _diagnostics_status(services: Services, _connector_id: int | None) -> Task | None:
    return _firmware(services).send_diagnostics_status


def _signed_firmware_status(services: Services, _connector_id: int | None) -> Task | None:
    return _firmware(services).send_signed_firmware_status


def _log_status(services: Services, _connector_id: int | None) -> Task | None:
    return _firmware(services).logs.send_log_status


TRIGGERS: Mapping[str, Trigger] = {
    "FirmwareStatusNotification": _firmware_status,
    "DiagnosticsStatusNotification": _diagnostics_status,
    "LogStatusNotification": _log_status,
    "SignedFirmwareStatusNotification": _signed_firmware_status,
}
"""What Remote Trigger (TriggerMessage, 1.6 §5.17) and ExtendedTriggerMessage may ask of
this profile: message -> the send-now verb (the connectorId matters to none). Each
request's schema narrows it: TriggerMessage's enum has no LogStatusNotification, the
whitepaper's MessageTriggerEnumType no DiagnosticsStatusNotification. Neither names
SignedFirmwareStatusNotification: ExtendedTriggerMessage's FirmwareStatusNotification
sends it (``features/certificates.py``, SEC §6.16)."""


def firmware_of(services: Services) -> Firmware:
    """The Firmware behind ``services`` (for ``ocppctl firmware`` / ``diagnostics``)."""
    return _firmware(services)


profile = Profile(NAME, keys=_keys, handlers=_handlers, tasks=_tasks, triggers=TRIGGERS)
