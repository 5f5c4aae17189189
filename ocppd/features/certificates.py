"""Certificate management of the security whitepaper for OCPP 1.6-J (edition 3): the roots the
central system installs and the charger's own TLS client certificate.

Messages: InstallCertificate, GetInstalledCertificateIds, DeleteCertificate [SEC M03-M05],
SignCertificate and CertificateSigned [A02, A03], and ExtendedTriggerMessage [SEC §5.5]
with all its kinds. The whitepaper's messages belong to no 1.6 feature profile and add no
word to SupportedFeatureProfiles, so this profile is not advertised there.

Certificate operations are answered on every security profile, 0 and 1 included. The
whitepaper gives M03-M05 and A02 no prerequisite ("n/a"), and its path to TLS goes
through them over a link without TLS: A05 raises the profile "especially ... when
migrating from OCPP 1.6 without security profiles", and a raise to 2 needs a
CentralSystemRootCertificate installed first [A05.FR.03], i.e. an InstallCertificate on
profile 0 or 1 (OCTT TC_083 from profile 1 prepares exactly that: memory state
CertificateInstalled). Profile 1 is for trusted networks only [A00.FR.201]; each
operation on a link without TLS is a warning in the log. A root installed there is used
only from the next TLS connection on.

One exception: a ManufacturerRootCertificate is Rejected on profiles 0 and 1. It decides
which firmware the charger installs (signed firmware, L01/L02), and on a link without TLS
the charger cannot know who sent it: whoever could answer in the central system's place
could make the charger trust, then install, firmware of their own. The Central System
root, which the path to TLS needs, is still taken there.

Keys [SEC §7]: CpoName (the O of a CSR), CertificateStoreMaxLength,
CertificateSignedMaxChainSize, AdditionalRootCertificateCheck. The store itself is
``ocppd/security/store.py``; new roots and a new client certificate apply from the next
connection, since the TLS context is built at each dial (``app.py``).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterable, Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

import trio

from ocppd.features.link import open_session
from ocppd.features.profile import Handler, Profile, Services, Site, Task, Trigger, TypedHandler
from ocppd.model.keys import KeySpec, KeyType
from ocppd.protocol.v16 import messages as m
from ocppd.protocol.v16.dialect import V16
from ocppd.protocol.v16.enums import (
    CertificateSignedStatus,
    CertificateUse,
    DeleteCertificateStatus,
    GetInstalledCertificateStatus,
    HashAlgorithm,
    InstallCertificateStatus,
    TriggerMessageStatus,
)
from ocppd.security.store import CertificateStore, Deleted, Installed, RootKind
from ocppd.security.x509 import CertificateProblem, HashData, fingerprint, load_chain
from ocppd.session import CallFailure, Then

log = logging.getLogger(__name__)

MAX_CHAIN = 10_000  # [SEC §7.3] CertificateSignedMaxChainSize is at most 10.000 characters
RETRY_RENEWAL = timedelta(days=1)  # a renewal CSR nobody answered is asked again a day later

KINDS: Mapping[CertificateUse, RootKind] = {
    CertificateUse.CENTRAL_SYSTEM_ROOT_CERTIFICATE: RootKind.CENTRAL_SYSTEM,
    CertificateUse.MANUFACTURER_ROOT_CERTIFICATE: RootKind.MANUFACTURER,
}
INSTALLED: Mapping[Installed, InstallCertificateStatus] = {
    Installed.ACCEPTED: InstallCertificateStatus.ACCEPTED,
    Installed.INVALID: InstallCertificateStatus.REJECTED,  # [M05.FR.06]
    Installed.FULL: InstallCertificateStatus.REJECTED,  # [M05.FR.03]
    Installed.NOT_SIGNED_BY_OLD: InstallCertificateStatus.REJECTED,  # [M05.FR.10]
    Installed.FAILED: InstallCertificateStatus.FAILED,  # [M05.FR.04]
    Installed.UNAUTHENTICATED: InstallCertificateStatus.REJECTED,
}
DELETED: Mapping[Deleted, DeleteCertificateStatus] = {
    Deleted.ACCEPTED: DeleteCertificateStatus.ACCEPTED,
    Deleted.NOT_FOUND: DeleteCertificateStatus.NOT_FOUND,  # [M04.FR.04]
    Deleted.IN_USE: DeleteCertificateStatus.FAILED,  # [M04.FR.06]
    Deleted.OWN: DeleteCertificateStatus.FAILED,  # [M04.FR.05]
    Deleted.FAILED: DeleteCertificateStatus.FAILED,  # [M04.FR.03]
}


def _keys(_site: Site) -> Iterable[KeySpec]:
    return [
        KeySpec("CpoName", KeyType.STRING, "", max_length=64, doc="O of the charger's CSR"),
        KeySpec(
            "CertificateStoreMaxLength",
            KeyType.INT,
            20,
            readonly=True,
            minimum=1,
            maximum=1000,
            doc="root certificates the store holds at most",
        ),
        KeySpec(
            "CertificateSignedMaxChainSize",
            KeyType.INT,
            MAX_CHAIN,
            readonly=True,
            minimum=1,
            maximum=MAX_CHAIN,
            doc="characters of a CertificateSigned chain at most",
        ),
        KeySpec(
            "AdditionalRootCertificateCheck",
            KeyType.BOOL,
            False,
            readonly=True,
            doc="one Central System root at a time, each new one signed by the old",
        ),
    ]


SignRequest = Callable[[str], Any]
"""The SignCertificate request of one OCPP version for a PEM CSR (the words of a version)."""


def _v16_sign_request(csr: str) -> m.SignCertificateRequest:
    return m.SignCertificateRequest(csr=csr)


class Certificates:
    """The shared state of certificate management in every OCPP version: the store, the
    renewal's wake-up, and the SignCertificate request of each version spoken
    (``sign_requests``, by subprotocol: 1.6 here, 2.0.1 added by ``features/v201/``)."""

    def __init__(self, services: Services) -> None:
        if services.certificates is None:
            raise RuntimeError("the certificate profile needs Services.certificates")
        self.services = services
        self.store: CertificateStore = services.certificates
        self.changed = trio.Event()  # a new certificate of the charger's was taken
        self.renewal_sent_at: float | None = None  # trio time of the last renewal CSR
        self.sign_requests: dict[str, SignRequest] = {V16.subprotocol: _v16_sign_request}

    def __repr__(self) -> str:
        return f"<Certificates {self.store!r}>"

    def profile(self) -> int:
        return self.services.keys.get_int("SecurityProfile")

    def note_without_tls(self, action: str) -> None:
        """A certificate operation on a link without TLS is answered (see the module), and
        said in the log: the central system is not authenticated there."""
        if self.profile() < 2:
            log.warning(
                "%s on security profile %d: the central system is not authenticated (no TLS)",
                action,
                self.profile(),
            )

    def in_use(self) -> set[str]:
        """The Central System roots the open connection was verified with (fingerprints)."""
        session = self.services.link.session
        if session is None or session.closed:
            return set()
        target = session.link.target
        if not target.tls:
            return set()
        try:
            if target.ca_data:
                text = target.ca_data.encode()
            elif target.ca_file:
                text = Path(target.ca_file).read_bytes()
            else:
                return set()  # the system's CAs: none of the store's
            trusted = {fingerprint(c) for c in load_chain(text)}
        except (OSError, CertificateProblem):
            return set()
        leaf = session.link.peer_certificate
        return self.store.issuers_among(leaf, trusted) if leaf else trusted

    def install(self, kind: RootKind, text: str) -> tuple[Installed, str]:
        """Install a root [M05] within CertificateStoreMaxLength, by the rules of
        AdditionalRootCertificateCheck: the outcome and why (logged)."""
        keys = self.services.keys
        if kind is RootKind.MANUFACTURER and self.profile() < 2:
            why = f"security profile {self.profile()}: the central system is not authenticated"
            log.warning("InstallCertificate %s: Rejected (%s)", kind.value, why)
            return Installed.UNAUTHENTICATED, why
        outcome, why = self.store.install_root(
            kind,
            text,
            max_count=keys.get_int("CertificateStoreMaxLength"),
            replace_signed=keys.get_bool("AdditionalRootCertificateCheck"),
        )
        log.info("InstallCertificate %s: %s (%s)", kind.value, outcome.value, why)
        return outcome, why

    def delete(self, wanted: HashData) -> tuple[Deleted, str]:
        """Delete a root by its hash data [M04]: never the one the open link was verified
        with, never the charger's own certificate. The outcome and why (logged)."""
        outcome, why = self.store.delete(wanted, self.in_use())
        log.info("DeleteCertificate: %s (%s)", outcome.value, why)
        return outcome, why

    def take_signed(self, chain: str) -> str | None:
        """Take a CertificateSigned chain [A02.FR.06-09]: None when it was kept (used from its
        notBefore), else why it was discarded [A02.FR.07] (nothing is kept; :meth:`discarded`
        answers and tells)."""
        limit = self.services.keys.get_int("CertificateSignedMaxChainSize")
        try:
            if len(chain) > limit:
                raise CertificateProblem(f"{len(chain)} characters, more than {limit}")
            identity = self.store.accept_signed(chain, self.services.serial_number or "")
        except CertificateProblem as exc:
            log.warning("CertificateSigned rejected (InvalidChargePointCertificate): %s", exc)
            return str(exc)
        log.info("CertificateSigned accepted: %r; used from its notBefore", identity)
        self.changed.set()  # the renewal task looks again
        self.changed = trio.Event()
        return None

    def discarded(self, response: Any, why: str) -> Then:
        """The answer to a CertificateSigned whose chain was discarded, then the security event
        InvalidChargePointCertificate (2.0.1: InvalidChargingStationCertificate) with why
        [A02.FR.07, A03.FR.07], once the answer is out (OCTT TC_077), in the daemon's nursery:
        it is queued even if the link ends. Its techInfo is the reason, never the chain."""

        async def tell() -> None:
            await self.services.security_event("InvalidChargePointCertificate", why)

        return Then(
            response,
            tell,
            owner=lambda work: self.services.charger.spawn("InvalidChargePointCertificate", work),
        )

    async def send_csr(self) -> None:
        """A new key and its CSR in a SignCertificate (:meth:`ask_to_sign`), as a task."""
        await self.ask_to_sign()

    async def ask_to_sign(self) -> bool:
        """A new key and its CSR in a SignCertificate [A02.FR.02-03, A03.FR.02-03], in the OCPP
        version of the open link (the renewal runs whatever version the link speaks). True
        when the central system answered Accepted (a CertificateSigned should follow)."""
        serial = self.services.serial_number
        cpo = self.services.keys.get_str("CpoName")
        if not serial or not cpo:
            log.warning("no SignCertificate: the serial number or CpoName is not set")
            return False
        session = open_session(self.services.link)
        version = session.rpc.dialect.subprotocol
        make = self.sign_requests.get(version)
        if make is None:
            log.warning("no SignCertificate: this daemon cannot say it in %s", version)
            return False
        csr = self.store.new_request(serial, cpo)
        log.info("SignCertificate: a new key was made; its CSR (CN=%s, O=%s) goes out", serial, cpo)
        response = await session.call(make(csr))
        log.info("SignCertificate: %s", response.status.value)
        return bool(response.status.value == "Accepted")


def _hash_data(data: m.CertificateHashData) -> HashData:
    return HashData(
        algorithm=data.hash_algorithm.value,
        issuer_name_hash=data.issuer_name_hash,
        issuer_key_hash=data.issuer_key_hash,
        serial_number=data.serial_number,
    )


def _guarded(what: str, work: Task) -> Task:
    async def run() -> None:
        try:
            await work()
        except CallFailure as exc:
            log.warning("%s not delivered: %s", what, exc)
        except Exception:
            log.exception("%s failed (a bug; carrying on)", what)

    return run


def _handlers(services: Services) -> Mapping[str, Handler]:
    if services.certificates is None:
        return {}
    state = services.part("certificates", lambda: Certificates(services))
    store = state.store

    async def install(request: m.InstallCertificateRequest) -> Any:
        state.note_without_tls("InstallCertificate")
        outcome, _why = state.install(KINDS[request.certificate_type], request.certificate)
        return m.InstallCertificateResponse(status=INSTALLED[outcome])

    async def get_ids(request: m.GetInstalledCertificateIdsRequest) -> Any:
        state.note_without_tls("GetInstalledCertificateIds")
        found = store.ids(KINDS[request.certificate_type])
        if not found:
            return m.GetInstalledCertificateIdsResponse(
                status=GetInstalledCertificateStatus.NOT_FOUND
            )
        return m.GetInstalledCertificateIdsResponse(
            status=GetInstalledCertificateStatus.ACCEPTED,
            certificate_hash_data=tuple(
                m.CertificateHashData(
                    hash_algorithm=HashAlgorithm(h.algorithm),
                    issuer_name_hash=h.issuer_name_hash,
                    issuer_key_hash=h.issuer_key_hash,
                    serial_number=h.serial_number,
                )
                for h in found
            ),
        )

    async def delete(request: m.DeleteCertificateRequest) -> Any:
        state.note_without_tls("DeleteCertificate")
        outcome, _why = state.delete(_hash_data(request.certificate_hash_data))
        return m.DeleteCertificateResponse(status=DELETED[outcome])

    async def signed(request: m.CertificateSignedRequest) -> Any:
        state.note_without_tls("CertificateSigned")
        why = state.take_signed(request.certificate_chain)
        if why is not None:  # [A02.FR.07] discarded, with a security event
            return state.discarded(
                m.CertificateSignedResponse(status=CertificateSignedStatus.REJECTED), why
            )
        return m.CertificateSignedResponse(status=CertificateSignedStatus.ACCEPTED)

    async def extended_trigger(request: m.ExtendedTriggerMessageRequest) -> Any:
        wanted = request.requested_message.value
        cid = request.connector_id
        trigger = _extended_triggers(services).get(wanted)
        if trigger is None:
            log.info("ExtendedTriggerMessage %s: NotImplemented", wanted)
            return m.ExtendedTriggerMessageResponse(status=TriggerMessageStatus.NOT_IMPLEMENTED)
        work = trigger(services, cid)
        if work is None:
            log.info("ExtendedTriggerMessage %s (connector %s): Rejected", wanted, cid)
            return m.ExtendedTriggerMessageResponse(status=TriggerMessageStatus.REJECTED)
        log.info("ExtendedTriggerMessage %s (connector %s): Accepted", wanted, cid)
        return Then(
            m.ExtendedTriggerMessageResponse(status=TriggerMessageStatus.ACCEPTED),
            _guarded(f"triggered {wanted}", work),
        )

    return {
        "InstallCertificate": TypedHandler(m.InstallCertificateRequest, install),
        "GetInstalledCertificateIds": TypedHandler(m.GetInstalledCertificateIdsRequest, get_ids),
        "DeleteCertificate": TypedHandler(m.DeleteCertificateRequest, delete),
        "CertificateSigned": TypedHandler(m.CertificateSignedRequest, signed),
        "ExtendedTriggerMessage": TypedHandler(m.ExtendedTriggerMessageRequest, extended_trigger),
    }


def sign_charge_point_certificate(services: Services, _connector_id: int | None) -> Task | None:
    """[A02] A new key and CSR after the answer. Rejected without a serial number or CpoName
    (A02's prerequisite)."""
    state = services.part("certificates", lambda: Certificates(services))
    if not services.serial_number or not services.keys.get_str("CpoName"):
        return None
    state.note_without_tls("SignChargePointCertificate")
    return state.send_csr


EXTENDED_KINDS = (
    "BootNotification",
    "LogStatusNotification",
    "FirmwareStatusNotification",
    "Heartbeat",
    "MeterValues",
    "SignChargePointCertificate",
    "StatusNotification",
)
"""The whitepaper's MessageTriggerEnumType [SEC §6.16]."""


def _extended_triggers(services: Services) -> Mapping[str, Trigger]:
    """ExtendedTriggerMessage asks for the kinds of :data:`EXTENDED_KINDS`: the ones every
    profile offers to TriggerMessage (``triggers``: BootNotification, Heartbeat,
    MeterValues, StatusNotification from Remote Trigger; LogStatusNotification from Firmware
    Management) and SignChargePointCertificate. A kind nobody offers is NotImplemented
    [SEC §6.17]. The connectorId means what it means to TriggerMessage (1.6 §5.17).
    FirmwareStatusNotification is the signed update's SignedFirmwareStatusNotification
    [SEC §6.16, L01.FR.28-29], which Firmware Management offers under that name."""
    offered: dict[str, Trigger] = {
        kind: services.triggers[kind] for kind in EXTENDED_KINDS if kind in services.triggers
    }
    signed = services.triggers.get("SignedFirmwareStatusNotification")
    if signed is not None:
        offered["FirmwareStatusNotification"] = signed
    else:
        offered.pop("FirmwareStatusNotification", None)  # never the unsigned one
    offered["SignChargePointCertificate"] = sign_charge_point_certificate
    return offered


def _tasks(services: Services) -> Iterable[Task]:
    if services.certificates is None:
        return ()
    state = services.part("certificates", lambda: Certificates(services))
    return (lambda: _renew(state), lambda: _forget_fallback(state))


async def _renew(state: Certificates) -> None:
    """[A03.FR.02] A month before the client certificate in use expires, a new key and CSR
    (profile 3, online). Asked again once a day until a new certificate arrives (A03's
    error handling advises against retrying sooner). Old certificates are pruned here too."""
    services = state.services
    while True:
        for gone in state.store.prune():
            log.info("certificate store: charger certificate %s forgotten", gone)
        due = state.store.renewal_due()
        now = services.clock.now()
        if due is None or now is None or state.profile() < 3:
            wait = math.inf if due is None else RETRY_RENEWAL.total_seconds()
        elif now < due:
            wait = (due - now).total_seconds()
        else:
            wait = RETRY_RENEWAL.total_seconds()
            if services.link.healthy:
                await _guarded("renewal SignCertificate", state.send_csr)()
            else:
                wait = 60.0  # offline: try again once the link is back
        changed = state.changed
        step = services.clock.next_step
        with trio.move_on_after(min(wait, RETRY_RENEWAL.total_seconds())):
            async with trio.open_nursery() as nursery:

                async def until(event: trio.Event) -> None:
                    await event.wait()
                    nursery.cancel_scope.cancel()

                nursery.start_soon(until, changed)
                nursery.start_soon(until, step)


async def _forget_fallback(state: Certificates) -> None:
    """[M05.FR.12] Once a connection verified with the new Central System root is registered,
    the old (fallback) root is removed."""
    link = state.services.link
    while True:
        await link.wait_changed()
        if not link.healthy:
            continue
        roots = state.store.roots(RootKind.CENTRAL_SYSTEM)
        if not any(r.fallback for r in roots):
            continue  # nothing to forget: no certificate parsed on every connection
        in_use = state.in_use()
        current = {r.fingerprint for r in roots if not r.fallback}
        if in_use & current and in_use <= current and state.store.drop_fallback():
            log.info("certificate store: the new Central System root works; fallback removed")


profile = Profile("Certificates", keys=_keys, handlers=_handlers, tasks=_tasks, advertised=False)
