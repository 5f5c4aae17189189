"""Firmware management (functional block L) and log retrieval (N01) in OCPP 2.0.1: the words
of 2.0.1 over the same jobs as 1.6 (``features/firmware/``).

UpdateFirmware [L01, L02] is the durable firmware job of 1.6's SignedUpdateFirmware
(``features/firmware/update.py``, :meth:`Updater.order`): downloaded at retrieveDateTime
with retries, checked with ``dpkg-deb``, installed by the privileged helper once no
transaction runs, each status journaled with the phase it tells and reported once by a
FirmwareStatusNotification with the requestId [L01.FR.01, L01.FR.10, L01.FR.20], in 2.0.1
because the update was asked in 2.0.1 (the job keeps its version across restarts).

Secure or not [L01 / L02]:

- A ManufacturerRootCertificate is installed: the charging station is set up for secure
  updates. The signing certificate is checked against it before the answer [L01.FR.21]:
  InvalidCertificate and the security event InvalidFirmwareSigningCertificate when it does
  not chain to it, and when it is missing, since a charger that checks firmware signatures
  takes no firmware it cannot check (the 2.0.1 counterpart of the whitepaper's L01.FR.20,
  which answers 1.6's unsigned UpdateFirmware NotSupported; L01.FR.11 makes the certificate
  the CSMS's duty) [L01.FR.02, L01.FR.22]. After the download the signature is checked:
  SignatureVerified, or InvalidSignature with the event InvalidFirmwareSignature, also
  when no signature came [L01.FR.03-04; L01 step 5: "a signature is missing entirely"].
- None is installed: a request with a signing certificate is InvalidCertificate too (it
  cannot be checked against anything); one without is the non-secure update [L02]:
  Downloading, Downloaded, Installing, Installed, no signature check (a signature alone,
  without its certificate, cannot be checked and is ignored, with a warning).

installDateTime in the future: InstallScheduled [L01.FR.16, L02.FR.10]; retrieveDateTime
in the future: DownloadScheduled [L01.FR.13, L02.FR.07]. A new UpdateFirmware cancels the
update under way (AcceptedCanceled) unless the helper is installing it already (Rejected)
[L01.FR.24, L01.FR.27]. A TriggerMessage for FirmwareStatusNotification repeats the status
last sent with its requestId, or Idle once that was Installed or none was [L01.FR.25-26].
The new version reports Installed after its BootNotification was accepted, and the security
watch raises FirmwareUpdated [L01.FR.28, L01.FR.31]. Not sent: DownloadPaused (a download is
never paused), InstallRebooting (the helper restarts the daemon after installing, not
before) and RevokedCertificate (no certificate revocation list is kept).

PublishFirmware and UnpublishFirmware [L03, L04] are for a local controller, which ocppd is
not: they are not offered (the RPC error NotSupported).

GetLog [N01] is 1.6's GetLog (``features/firmware/logs.py``, :meth:`Logs.order`): the
diagnostics bundle or the security log, uploaded with retries, reported by
LogStatusNotification (Uploading, Uploaded, UploadFailure) in 2.0.1; a GetLog during an
upload cancels it (AcceptedCanceled, and the canceled upload reported AcceptedCanceled with
its own requestId) [N01.FR.12].
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import Any

from ocppd.features.firmware import Firmware, firmware_of
from ocppd.features.firmware.base import LOG_STATUS, Speech
from ocppd.features.firmware.logs import LogOrder, LogVerdict
from ocppd.features.firmware.update import Order, Verdict
from ocppd.features.profile import Handler, Profile, Services, Site, Task, TypedHandler
from ocppd.features.v201.words import V201_WORDS
from ocppd.model.keys import KeySpec
from ocppd.protocol.v201 import messages as m
from ocppd.protocol.v201.enums import (
    LogEnumType,
    LogStatusEnumType,
    MessageTriggerEnumType,
    UpdateFirmwareStatusEnumType,
)
from ocppd.security.store import RootKind
from ocppd.session import Then
from ocppd.system.transfer import redact_url

log = logging.getLogger(__name__)

FIRMWARE_STATUS = "FirmwareStatusNotification"
V201_FIRMWARE = Speech(V201_WORDS, FIRMWARE_STATUS)
V201_LOGS = Speech(V201_WORDS, LOG_STATUS, says_canceled=True)

UPDATE_STATUS: Mapping[Verdict, tuple[UpdateFirmwareStatusEnumType, str | None]] = MappingProxyType(
    {
        Verdict.ACCEPTED: (UpdateFirmwareStatusEnumType.ACCEPTED, None),
        Verdict.ACCEPTED_CANCELED: (UpdateFirmwareStatusEnumType.ACCEPTED_CANCELED, None),
        Verdict.REJECTED: (UpdateFirmwareStatusEnumType.REJECTED, "UnsupportedProtocol"),
        Verdict.INSTALLING: (UpdateFirmwareStatusEnumType.REJECTED, "InstallInProgress"),
        Verdict.INVALID_CERTIFICATE: (
            UpdateFirmwareStatusEnumType.INVALID_CERTIFICATE,
            "InvalidCertificate",
        ),
    }
)
"""UpdateFirmwareResponse's status for each verdict, and the statusInfo reasonCode of a
refusal (a total map, tested)."""

LOG_STATUS_WORDS: Mapping[LogVerdict, tuple[LogStatusEnumType, str | None]] = MappingProxyType(
    {
        LogVerdict.ACCEPTED: (LogStatusEnumType.ACCEPTED, None),
        LogVerdict.ACCEPTED_CANCELED: (LogStatusEnumType.ACCEPTED_CANCELED, None),
        LogVerdict.REJECTED: (LogStatusEnumType.REJECTED, "UnsupportedProtocol"),
    }
)
"""GetLogResponse's status for each verdict, and the statusInfo reasonCode of a refusal (a
total map, tested)."""


def _no_keys(_site: Site) -> Iterable[KeySpec]:
    """None of its own: OCPPCommCtrlr.FileTransferProtocols is 1.6's
    SupportedFileTransferProtocols (``variables.py``)."""
    return ()


def offered(services: Services) -> bool:
    """Blocks L and N speak over 1.6's Firmware Management (its job runs as that profile's
    task): a charger built without that profile (its key undeclared) offers neither, and
    a daemon built without its settings (tests) neither."""
    return services.settings is not None and services.keys.has("SupportedFileTransferProtocols")


def _firmware(services: Services) -> Firmware:
    """The daemon's one Firmware (1.6's), taught to report 2.0.1's jobs in 2.0.1."""
    firmware = firmware_of(services)
    firmware.update.speaks(V201_FIRMWARE)
    firmware.logs.speaks(V201_LOGS)
    return firmware


def _info(reason: str | None, why: str) -> m.StatusInfoType | None:
    if reason is None:
        return None
    return m.StatusInfoType(reason_code=reason, additional_info=why[:512] or None)


def firmware_handlers(services: Services) -> Mapping[str, Handler]:
    if not offered(services):
        return {}
    firmware = _firmware(services)
    kept = firmware.update.context.kept

    async def update_firmware(request: m.UpdateFirmwareRequest) -> Any:
        fw = request.firmware
        store = services.certificates
        secure = store is not None and store.has_roots(RootKind.MANUFACTURER)
        signature = fw.signature
        if fw.signing_certificate is None and signature is not None and not secure:
            log.warning(
                "UpdateFirmware %d: a signature without its signing certificate cannot be "
                "checked; the update is not secure (L02)",
                request.request_id,
            )
            signature = None
        install = fw.install_date_time
        order = Order(
            request_id=request.request_id,
            location=fw.location,
            retrieve_at=fw.retrieve_date_time.timestamp(),
            retries=request.retries,
            retry_interval=request.retry_interval,
            certificate=fw.signing_certificate,
            signature=signature,
            install_at=None if install is None else install.timestamp(),
            protocol=V201_WORDS.protocol,
        )
        verdict, why, work = firmware.update.order(order, certificate_required=secure)
        status, reason = UPDATE_STATUS[verdict]
        log.info(
            "UpdateFirmware %d (%s, %s): %s",
            request.request_id,
            redact_url(fw.location),
            "secure" if order.certificate is not None else "not secure",
            status,
        )
        response = m.UpdateFirmwareResponse(status=status, status_info=_info(reason, why))
        if work is None:
            return response
        return Then(response, work, owner=kept("firmware"))

    return {"UpdateFirmware": TypedHandler(m.UpdateFirmwareRequest, update_firmware)}


def log_handlers(services: Services) -> Mapping[str, Handler]:
    if not offered(services):
        return {}
    firmware = _firmware(services)
    kept = firmware.update.context.kept

    async def get_log(request: m.GetLogRequest) -> Any:
        order = LogOrder(
            request_id=request.request_id,
            security=request.log_type is LogEnumType.SECURITY_LOG,
            location=request.log.remote_location,
            since=request.log.oldest_timestamp,
            until=request.log.latest_timestamp,
            retries=request.retries,
            retry_interval=request.retry_interval,
            protocol=V201_WORDS.protocol,
        )
        verdict, name, work = firmware.logs.order(order)
        status, reason = LOG_STATUS_WORDS[verdict]
        info = _info(reason, "the location's protocol is not one of FileTransferProtocols")
        response = m.GetLogResponse(status=status, filename=name, status_info=info)
        if work is None:
            return response
        return Then(response, work, owner=kept("GetLog"))

    return {"GetLog": TypedHandler(m.GetLogRequest, get_log)}


def firmware_status(services: Services, _evse_id: int | None) -> Task | None:
    """[L01.FR.25-26] The status last sent with its requestId, or Idle."""
    if not offered(services):
        return None
    updater = _firmware(services).update

    async def send() -> None:
        await updater.send_signed_firmware_status(FIRMWARE_STATUS)

    return send


def log_status(services: Services, _evse_id: int | None) -> Task | None:
    """Uploading with the requestId of the upload that runs, or Idle [N01]."""
    if not offered(services):
        return None
    return _firmware(services).logs.send_log_status


firmware_management = Profile(
    "FirmwareManagement",
    keys=_no_keys,
    handlers=firmware_handlers,
    triggers=MappingProxyType(
        {MessageTriggerEnumType.FIRMWARE_STATUS_NOTIFICATION.value: firmware_status}
    ),
    advertised=False,
)
"""L: UpdateFirmware (L01, L02) and the triggered FirmwareStatusNotification. The job runs
as 1.6's Firmware Management task (one job, whichever version asked)."""

diagnostics = Profile(
    "Diagnostics",
    keys=_no_keys,
    handlers=log_handlers,
    triggers=MappingProxyType({MessageTriggerEnumType.LOG_STATUS_NOTIFICATION.value: log_status}),
    advertised=False,
)
"""N: GetLog (N01) and the triggered LogStatusNotification."""
