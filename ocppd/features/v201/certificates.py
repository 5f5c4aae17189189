"""Certificate management in OCPP 2.0.1 (functional blocks M and A): the words of 2.0.1 over
the same store and the same rules as 1.6 (``features/certificates.py``).

Messages: GetInstalledCertificateIds [M03], DeleteCertificate [M04], InstallCertificate
[M05], CertificateSigned [A02, A03], and SignCertificate (certificateType
ChargingStationCertificate) when a TriggerMessage asks for SignChargingStationCertificate
[A02, F06] or when the certificate in use is a month from expiry [A03] (the renewal task of
``features/certificates.py``, which speaks the version of the open link).

The state is the one :class:`~ocppd.features.certificates.Certificates` of the daemon: the
same roots, the same charger key and certificate, whichever version installed them.

What 2.0.1 names and this charger does not keep: ISO 15118 (Plug & Charge). A
V2GRootCertificate or MORootCertificate is Rejected (statusInfo NotSupported), a
V2GCertificate from CertificateSigned too; GetInstalledCertificateIds of those types finds
nothing.

The operations are answered on every security profile, 0 and 1 included: no M03-M05 or
A02 requirement makes them depend on it (OCTT's TC_M_* name no security profile as a
prerequisite), and the way up to TLS passes through them: a raise to profile 2 needs a
CSMSRootCertificate installed first, a raise to 3 a ChargingStationCertificate. Each one on
a link without TLS is a warning in the log (the CSMS is not authenticated there).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import Any

import trio

from ocppd.features.certificates import Certificates
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
from ocppd.protocol.v201 import messages as m
from ocppd.protocol.v201.dialect import V201
from ocppd.protocol.v201.enums import (
    CertificateSignedStatusEnumType,
    CertificateSigningUseEnumType,
    DeleteCertificateStatusEnumType,
    GetCertificateIdUseEnumType,
    GetInstalledCertificateStatusEnumType,
    HashAlgorithmEnumType,
    InstallCertificateStatusEnumType,
    InstallCertificateUseEnumType,
)
from ocppd.security.store import Deleted, Installed, RootKind
from ocppd.security.x509 import HashData

log = logging.getLogger(__name__)

NO_15118 = "ISO 15118 (Plug & Charge) is not supported: no V2G or MO certificates are kept"

INSTALL_KINDS: Mapping[InstallCertificateUseEnumType, RootKind | None] = MappingProxyType(
    {
        InstallCertificateUseEnumType.CSMS_ROOT_CERTIFICATE: RootKind.CENTRAL_SYSTEM,
        InstallCertificateUseEnumType.MANUFACTURER_ROOT_CERTIFICATE: RootKind.MANUFACTURER,
        InstallCertificateUseEnumType.V2_G_ROOT_CERTIFICATE: None,
        InstallCertificateUseEnumType.MO_ROOT_CERTIFICATE: None,
    }
)
"""Every certificateType InstallCertificate names: the store's kind, or None (no 15118)."""

LISTED_KINDS: Mapping[GetCertificateIdUseEnumType, RootKind | None] = MappingProxyType(
    {
        GetCertificateIdUseEnumType.CSMS_ROOT_CERTIFICATE: RootKind.CENTRAL_SYSTEM,
        GetCertificateIdUseEnumType.MANUFACTURER_ROOT_CERTIFICATE: RootKind.MANUFACTURER,
        GetCertificateIdUseEnumType.V2_G_ROOT_CERTIFICATE: None,
        GetCertificateIdUseEnumType.MO_ROOT_CERTIFICATE: None,
        GetCertificateIdUseEnumType.V2_G_CERTIFICATE_CHAIN: None,
    }
)
"""Every certificateType GetInstalledCertificateIds names: the store's kind, or None."""

KIND_WORDS: Mapping[RootKind, GetCertificateIdUseEnumType] = MappingProxyType(
    {
        RootKind.CENTRAL_SYSTEM: GetCertificateIdUseEnumType.CSMS_ROOT_CERTIFICATE,
        RootKind.MANUFACTURER: GetCertificateIdUseEnumType.MANUFACTURER_ROOT_CERTIFICATE,
    }
)
"""The store's kinds in 2.0.1 words (a total map, tested)."""

INSTALLED: Mapping[Installed, tuple[InstallCertificateStatusEnumType, str]] = MappingProxyType(
    {
        Installed.ACCEPTED: (InstallCertificateStatusEnumType.ACCEPTED, ""),  # [M05.FR.02]
        Installed.INVALID: (InstallCertificateStatusEnumType.REJECTED, "InvalidCertificate"),
        Installed.FULL: (InstallCertificateStatusEnumType.REJECTED, "OutOfStorage"),
        # [M05.FR.10] AdditionalRootCertificateCheck: not signed by the root it replaces
        Installed.UNAUTHENTICATED: (InstallCertificateStatusEnumType.REJECTED, "NoSecurity"),
        Installed.NOT_SIGNED_BY_OLD: (
            InstallCertificateStatusEnumType.REJECTED,
            "InvalidCertificate",
        ),
        Installed.FAILED: (InstallCertificateStatusEnumType.FAILED, "InternalError"),
    }
)
"""The store's outcome of an install: the 2.0.1 status and the statusInfo reasonCode."""

DELETED: Mapping[Deleted, tuple[DeleteCertificateStatusEnumType, str]] = MappingProxyType(
    {
        Deleted.ACCEPTED: (DeleteCertificateStatusEnumType.ACCEPTED, ""),  # [M04.FR.02]
        Deleted.NOT_FOUND: (DeleteCertificateStatusEnumType.NOT_FOUND, "NotFound"),  # [M04.FR.04]
        # the root the open link was verified with: deleting it would cut the charger off
        Deleted.IN_USE: (DeleteCertificateStatusEnumType.FAILED, "InUse"),
        # [M04.FR.06] never the ChargingStationCertificate
        Deleted.OWN: (DeleteCertificateStatusEnumType.FAILED, "NotSupported"),
        Deleted.FAILED: (DeleteCertificateStatusEnumType.FAILED, "InternalError"),  # [M04.FR.03]
    }
)
"""The store's outcome of a delete: the 2.0.1 status and the statusInfo reasonCode."""


def sign_request(csr: str) -> m.SignCertificateRequest:
    """The 2.0.1 SignCertificate: the CSR is for the link to the CSMS only [A02.FR.02]."""
    return m.SignCertificateRequest(
        csr=csr, certificate_type=CertificateSigningUseEnumType.CHARGING_STATION_CERTIFICATE
    )


def certificates(services: Services) -> Certificates:
    """The daemon's one certificate state, able to send a SignCertificate in 2.0.1 too."""
    state = services.part("certificates", lambda: Certificates(services))
    state.sign_requests.setdefault(V201.subprotocol, sign_request)
    return state


def _status_info(reason: str, why: str) -> m.StatusInfoType | None:
    if not reason:
        return None
    return m.StatusInfoType(reason_code=reason, additional_info=why[:512] or None)


def _hash_data(data: m.CertificateHashDataType) -> HashData:
    return HashData(
        algorithm=data.hash_algorithm.value,
        issuer_name_hash=data.issuer_name_hash,
        issuer_key_hash=data.issuer_key_hash,
        serial_number=data.serial_number,
    )


WAIT_MINIMUM = "SecurityCtrlr.CertSigningWaitMinimum"
REPEAT_TIMES = "SecurityCtrlr.CertSigningRepeatTimes"


def _keys(_site: Site) -> Iterable[KeySpec]:
    # OrganizationName and CertificateEntries are the device model's view of the 1.6 keys
    # and of the store; these two are 2.0.1's own (1.6's GetConfiguration misses them).
    return [
        KeySpec(
            WAIT_MINIMUM,
            KeyType.INT,
            0,
            minimum=0,
            maximum=86400,
            listed=False,
            doc="2.0.1 SecurityCtrlr.CertSigningWaitMinimum (s): how long to wait for "
            "CertificateSigned after an Accepted SignCertificate before asking again; 0: never",
        ),
        KeySpec(
            REPEAT_TIMES,
            KeyType.INT,
            0,
            minimum=0,
            maximum=10,
            listed=False,
            doc="2.0.1 SecurityCtrlr.CertSigningRepeatTimes: how many times to ask again",
        ),
    ]


def _until_signed(state: Certificates) -> Task:
    """The SignCertificate a trigger asks for, asked again with a new key while no
    CertificateSigned follows an Accepted one [A02.FR.17-18]: after CertSigningWaitMinimum
    seconds, then twice as long each time, at most CertSigningRepeatTimes times. A
    certificate taken ends it [A02.FR.20]. It belongs to this link, as the trigger does."""
    keys = state.services.keys

    async def run() -> None:
        changed = state.changed
        accepted = await state.ask_to_sign()
        wait = keys.get_int(WAIT_MINIMUM)
        for repeat in range(keys.get_int(REPEAT_TIMES)):
            if not accepted or wait <= 0:
                return
            with trio.move_on_after(wait * 2**repeat):
                await changed.wait()
            if changed.is_set():
                return  # a CertificateSigned was taken
            log.info("no CertificateSigned after %d s: SignCertificate again", wait * 2**repeat)
            changed = state.changed
            accepted = await state.ask_to_sign()

    return run


def _handlers(services: Services) -> Mapping[str, Handler]:
    if services.certificates is None:
        return {}
    state = certificates(services)

    async def install(request: m.InstallCertificateRequest) -> Any:
        state.note_without_tls("InstallCertificate")
        kind = INSTALL_KINDS[request.certificate_type]
        if kind is None:
            log.info("InstallCertificate %s: Rejected (%s)", request.certificate_type, NO_15118)
            return m.InstallCertificateResponse(
                status=InstallCertificateStatusEnumType.REJECTED,
                status_info=_status_info("NotSupported", NO_15118),
            )
        outcome, why = state.install(kind, request.certificate)
        status, reason = INSTALLED[outcome]
        return m.InstallCertificateResponse(status=status, status_info=_status_info(reason, why))

    async def get_ids(request: m.GetInstalledCertificateIdsRequest) -> Any:
        state.note_without_tls("GetInstalledCertificateIds")
        # [M03.FR.04] no certificateType: every certificate this charger keeps
        asked = request.certificate_type or tuple(LISTED_KINDS)
        kinds = [k for k in dict.fromkeys(LISTED_KINDS[t] for t in asked) if k is not None]
        found = tuple(
            m.CertificateHashDataChainType(
                certificate_hash_data=m.CertificateHashDataType(
                    hash_algorithm=HashAlgorithmEnumType(h.algorithm),
                    issuer_name_hash=h.issuer_name_hash,
                    issuer_key_hash=h.issuer_key_hash,
                    serial_number=h.serial_number,
                ),
                certificate_type=KIND_WORDS[kind],
            )
            for kind in kinds
            for h in state.store.ids(kind)
        )
        if not found:  # [M03.FR.02] NotFound, and no certificateHashDataChain
            return m.GetInstalledCertificateIdsResponse(
                status=GetInstalledCertificateStatusEnumType.NOT_FOUND
            )
        return m.GetInstalledCertificateIdsResponse(  # [M03.FR.03]
            status=GetInstalledCertificateStatusEnumType.ACCEPTED,
            certificate_hash_data_chain=found,
        )

    async def delete(request: m.DeleteCertificateRequest) -> Any:
        state.note_without_tls("DeleteCertificate")
        outcome, why = state.delete(_hash_data(request.certificate_hash_data))
        status, reason = DELETED[outcome]
        return m.DeleteCertificateResponse(status=status, status_info=_status_info(reason, why))

    async def signed(request: m.CertificateSignedRequest) -> Any:
        state.note_without_tls("CertificateSigned")
        if request.certificate_type is CertificateSigningUseEnumType.V2_G_CERTIFICATE:
            log.info("CertificateSigned V2GCertificate: Rejected (%s)", NO_15118)
            return m.CertificateSignedResponse(
                status=CertificateSignedStatusEnumType.REJECTED,
                status_info=_status_info("NotSupported", NO_15118),
            )
        # absent certificateType: the certificate for the link to the CSMS, the only one
        # this charger asks for (its SignCertificate names ChargingStationCertificate)
        why = state.take_signed(request.certificate_chain)
        if why is not None:  # [A02.FR.07] discarded, nothing kept; the security event after
            return state.discarded(
                m.CertificateSignedResponse(
                    status=CertificateSignedStatusEnumType.REJECTED,
                    status_info=_status_info("InvalidCertificate", why),
                ),
                why,
            )
        return m.CertificateSignedResponse(status=CertificateSignedStatusEnumType.ACCEPTED)

    return {
        "InstallCertificate": TypedHandler(m.InstallCertificateRequest, install),
        "GetInstalledCertificateIds": TypedHandler(m.GetInstalledCertificateIdsRequest, get_ids),
        "DeleteCertificate": TypedHandler(m.DeleteCertificateRequest, delete),
        "CertificateSigned": TypedHandler(m.CertificateSignedRequest, signed),
    }


def sign_charging_station_certificate(services: Services, _evse_id: int | None) -> Task | None:
    """TriggerMessage(SignChargingStationCertificate) [A02, F06]: a new key and CSR after the
    answer. Rejected without a serial number or an organization name (CpoName,
    SecurityCtrlr.OrganizationName) for the CSR. On any security profile: the certificate is
    what a raise to profile 3 needs first."""
    state = certificates(services)
    if not services.serial_number or not services.keys.get_str("CpoName"):
        return None
    state.note_without_tls("SignChargingStationCertificate")
    return _until_signed(state)


TRIGGERS: Mapping[str, Trigger] = MappingProxyType(
    {"SignChargingStationCertificate": sign_charging_station_certificate}
)
"""What a 2.0.1 TriggerMessage may ask of this block, by requestedMessage."""

profile = Profile(
    "Certificates", keys=_keys, handlers=_handlers, triggers=TRIGGERS, advertised=False
)
"""Functional blocks M (M03-M05) and A (A02, A03) of 2.0.1."""
