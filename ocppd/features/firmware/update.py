"""UpdateFirmware (OCPP 1.6 §4.4, §5.14): a durable job from the request to the outcome.

The request is a job in the journal (``jobs``, name ``firmware``): location,
retrieveDate, retries, retryInterval, its phase and its last error, so a restart
before retrieveDate loses nothing. Each phase change is journaled together with the
FirmwareStatusNotification that tells it (outbox kind ``other``: delivered after a
restart, each exactly once). The phases:

    waiting --retrieveDate--> Downloading --ok--> Downloaded --no transaction--> Installing
               (retries x retryInterval)  \\--> DownloadFailed      \\--> InstallationFailed
                                                 (the package is refused, or the helper fails)

The file is fetched into ``state_dir/firmware/`` (0600, removed after use), checked
with ``dpkg-deb`` (``ocppd/system/package.py``), and installed only when no
transaction runs: meanwhile new sessions are refused ("a firmware update waits to
install") and connector 0 reports Unavailable. Then ``request.json`` goes to the
helper (``ocppd/system/helper.py``, root, a separate unit). The daemon that starts
afterwards reports Installed once it registered as the new version, or
InstallationFailed from the helper's outcome after a rollback.

SignedUpdateFirmware (security whitepaper edition 3, use case L01) is the same job with
a ``signed`` part (requestId, the Firmware Signing certificate, the signature,
installDateTime), reported by SignedFirmwareStatusNotification with the requestId
[L01.FR.01, L01.FR.10]. Its certificate is judged before the answer: InvalidCertificate
and the security event InvalidFirmwareSigningCertificate when it does not chain to an
installed ManufacturerRootCertificate [L01.FR.23-24]. After the download the signature
over the file is checked (``ocppd/security/signatures.py``): SignatureVerified, or
InvalidSignature with the event InvalidFirmwareSignature, the file deleted and nothing
handed to the helper [L01.FR.03-04]. The signed phases:

    waiting (DownloadScheduled) -> Downloading -> Downloaded -> SignatureVerified
        -> (InstallScheduled until installDateTime) -> Installing -> Installed
    failures: DownloadFailed, InvalidSignature, InstallVerificationFailed (the package
    is refused), InstallationFailed (the helper)

The signature is checked again just before the package is handed to the helper (after
a wait for installDateTime or for transactions, or a restart): the helper (root, standard
library only) checks the package's name and architecture, not its signature. A new
SignedUpdateFirmware cancels the update under way (AcceptedCanceled, L01.FR.26) unless
the helper has it already (Rejected, L01.FR.27). Once a ManufacturerRootCertificate is
installed, the unsigned UpdateFirmware is answered NotSupported [L01.FR.20]: a charger
set up for signed firmware takes no other.

OCPP 2.0.1's UpdateFirmware (L01, L02) is SignedUpdateFirmware's request with the signing
certificate and the signature optional: the same job (:meth:`Updater.order`, an
:class:`Order` in neutral words), reported in the version it was asked in (the job's
``protocol``, :class:`~ocppd.features.firmware.base.Speech`), by
``features/v201/firmware.py``. A job is checked against a signature only when it came
with a signing certificate (:func:`verifies`).
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any

import trio

from ocppd import __version__
from ocppd.features.core.transactions import V16_WORDS
from ocppd.features.firmware.base import (
    FIRMWARE_STATUS,
    SIGNED_FIRMWARE_STATUS,
    Context,
    Speech,
    iso,
)
from ocppd.protocol.errors import OcppError, Violation
from ocppd.protocol.v16 import messages as m
from ocppd.protocol.v16.enums import FirmwareStatus, SignedFirmwareStatus, UpdateFirmwareStatus
from ocppd.security.signatures import SignatureProblem, signing_certificate, verify_file
from ocppd.security.store import RootKind
from ocppd.security.x509 import CertificateProblem, load_chain
from ocppd.session import Then
from ocppd.system.handover import FAILED, Handover, Request
from ocppd.system.package import PackageInfo, PackageRefused, inspect_package
from ocppd.system.transfer import TransferError, download, redact_url, scheme_of

log = logging.getLogger(__name__)

JOB = "firmware"
RESERVE_BYTES = 64 * 2**20  # what a download leaves free for the journal and the logs
HELD = "a firmware update waits to install"
HELPER_GRACE_S = 600  # beyond twice [firmware] health_timeout_s: apt's own time

Status = FirmwareStatus | SignedFirmwareStatus

SIGNED_PHASES: dict[str, SignedFirmwareStatus] = {
    "waiting": SignedFirmwareStatus.DOWNLOAD_SCHEDULED,
    "downloading": SignedFirmwareStatus.DOWNLOADING,
    "downloaded": SignedFirmwareStatus.DOWNLOADED,
    "verified": SignedFirmwareStatus.SIGNATURE_VERIFIED,
    "installing": SignedFirmwareStatus.INSTALLING,
}
"""A signed job's phase, as the status last reported (after a restart)."""

V16_SIGNED = Speech(V16_WORDS, SIGNED_FIRMWARE_STATUS)


class Verdict(Enum):
    """What the charge point answers a numbered firmware update (SignedUpdateFirmware in
    1.6, UpdateFirmware in 2.0.1), in its own words; each version says them."""

    ACCEPTED = "accepted"
    ACCEPTED_CANCELED = "accepted, the update under way canceled"  # [L01.FR.24/26]
    REJECTED = "rejected"  # a location it cannot use
    INSTALLING = "rejected: the helper is installing an update"  # [L01.FR.27]
    INVALID_CERTIFICATE = "invalid signing certificate"  # [L01.FR.22/23]


@dataclass(frozen=True, slots=True)
class Order:
    """A firmware update the central system numbered, in neutral words. ``certificate``
    and ``signature`` are None for an update that is not signed (2.0.1 L02);
    ``protocol`` is the version its statuses are reported in."""

    request_id: int
    location: str
    retrieve_at: float
    retries: int | None
    retry_interval: int | None
    certificate: str | None
    signature: str | None
    install_at: float | None
    protocol: str


def verifies(job: dict[str, Any]) -> bool:
    """Whether the job's file is checked against a signature: it came with a signing
    certificate (a 1.6 signed update always does)."""
    signed = job.get("signed") or {}
    return bool(signed.get("certificate"))


class Updater:
    """The one firmware update of this charge point."""

    def __init__(self, context: Context) -> None:
        self.context = context
        self.services = context.services
        self.journal = context.journal
        self.settings = context.settings
        self.state_dir = context.state_dir
        self.blocking = context.blocking
        self.handover = Handover(context.state_dir)
        self.job: dict[str, Any] | None = None
        self.status: str = FirmwareStatus.IDLE  # the last one reported
        self.signed_last: tuple[str, int] | None = None  # the last signed status, requestId
        self.last_error: str | None = None
        self._new = trio.Event()
        self.speeches: dict[str, Speech] = {V16_WORDS.protocol: V16_SIGNED}

    def speaks(self, speech: Speech) -> None:
        """Report numbered jobs asked in ``speech.words.protocol`` with ``speech``."""
        self.speeches[speech.words.protocol] = speech

    def __repr__(self) -> str:
        phase = None if self.job is None else self.job.get("phase")
        return f"<Updater status={self.status} phase={phase}>"

    # --- the journal: a phase and its report, together ---

    async def _save(
        self,
        job: dict[str, Any] | None,
        status: Status | None,
        *,
        about: dict[str, Any] | None = None,
    ) -> None:
        """Keep ``job`` (None: no update any more) and, with ``status``, queue the report of
        the update ``about`` (``job`` by default), in one transaction: for a signed update a
        SignedFirmwareStatusNotification with its requestId [L01.FR.01, L01.FR.10], else a
        FirmwareStatusNotification."""
        report = None
        signed = None
        words = V16_WORDS
        if status is not None:
            subject = (job if about is None else about) or {}
            signed = subject.get("signed")
            if signed:
                # in the version the update was asked in (a job of before 2.0.1: 1.6)
                speech = self.speeches[subject.get("protocol", V16_WORDS.protocol)]
                payload = {"status": str(status), "requestId": signed["request_id"]}
                report, words = (speech.action, payload), speech.words
            else:
                report = (FIRMWARE_STATUS, {"status": str(status)})
        await self.journal.put_job(JOB, job, report=report, words=words)
        self.job = job
        if status is not None:
            self.status = str(status)
            if signed:
                self.signed_last = (str(status), signed["request_id"])
            self.services.wake_outbox()
            log.info("firmware: %s", status)

    # --- UpdateFirmware ---

    async def update_firmware(self, request: m.UpdateFirmwareRequest) -> Any:
        store = self.services.certificates
        if store is not None and store.has_roots(RootKind.MANUFACTURER):
            log.warning("UpdateFirmware refused: a ManufacturerRootCertificate is installed")
            raise OcppError(
                Violation.UNSUPPORTED_ACTION,
                "only SignedUpdateFirmware: a ManufacturerRootCertificate is installed",
            )  # [SEC L01.FR.20]
        response = m.UpdateFirmwareResponse()
        try:
            scheme_of(request.location)
        except TransferError as exc:
            # UpdateFirmware.conf has no status: the refusal is DownloadFailed (1.6 §5.14)
            log.warning("UpdateFirmware refused: %s", exc.reason)
            return Then(response, self._refuse, owner=self.context.kept("firmware"))
        if self.job is not None and self.job.get("phase") == "installing":
            log.warning("UpdateFirmware ignored: an update is being installed")
            return response
        import uuid  # only when an update is asked for: the daemon's idle memory is a feature

        job = {
            "id": uuid.uuid4().hex,
            "location": request.location,
            "retrieve_at": request.retrieve_date.timestamp(),
            "retries": max(0, request.retries or 0),
            "retry_interval_s": max(0, request.retry_interval or 0),
            "attempts": 0,
            "phase": "waiting",
            "next_attempt_at": request.retrieve_date.timestamp(),
            "last_error": None,
        }
        log.info(
            "UpdateFirmware: %s at %s",
            redact_url(request.location),
            iso(request.retrieve_date.timestamp()),
        )

        async def keep() -> None:
            self._remove_file(self.job)
            await self._save(job, None)
            self._new.set()

        return Then(response, keep, owner=self.context.kept("firmware"))

    async def _refuse(self) -> None:
        await self._save(self.job, FirmwareStatus.DOWNLOAD_FAILED, about={})

    # --- SignedUpdateFirmware ---

    async def signed_update_firmware(self, request: m.SignedUpdateFirmwareRequest) -> Any:
        firmware = request.firmware
        install = firmware.install_date_time
        order = Order(
            request_id=request.request_id,
            location=firmware.location,
            retrieve_at=firmware.retrieve_date_time.timestamp(),
            retries=request.retries,
            retry_interval=request.retry_interval,
            certificate=firmware.signing_certificate,
            signature=firmware.signature,
            install_at=None if install is None else install.timestamp(),
            protocol=V16_WORDS.protocol,
        )
        verdict, _why, work = self.order(order, certificate_required=True)
        response = m.SignedUpdateFirmwareResponse(status=SIGNED_VERDICTS[verdict])
        if work is None:
            return response
        return Then(response, work, owner=self.context.kept("firmware"))

    def order(
        self, order: Order, *, certificate_required: bool
    ) -> tuple[Verdict, str, Callable[[], Awaitable[None]] | None]:
        """Judge a numbered update now: the verdict, why (for a refusal), and the work to
        start once the answer is out (None: nothing). A signing certificate, when given or
        ``certificate_required``, is checked against the ManufacturerRootCertificates
        before anything else [L01.FR.21-23]; a refused one raises the security event
        InvalidFirmwareSigningCertificate [L01.FR.02]. A new update cancels the one under
        way (AcceptedCanceled) unless the helper has it already (Rejected) [L01.FR.24/27]."""
        what = f"firmware update {order.request_id}"
        if order.certificate is not None or certificate_required:
            try:
                self._signing_certificate(order.certificate or "")
            except CertificateProblem as exc:
                why = str(exc) if order.certificate is not None else "no signing certificate"
                log.warning("%s: InvalidCertificate: %s", what, why)

                async def tell() -> None:
                    await self.context.security_event("InvalidFirmwareSigningCertificate", why)

                return Verdict.INVALID_CERTIFICATE, why, tell
        try:
            scheme_of(order.location)
        except TransferError as exc:
            log.warning("%s refused: %s", what, exc.reason)
            return Verdict.REJECTED, exc.reason, None
        verdict = Verdict.ACCEPTED
        if self.job is not None:
            if self.job.get("phase") == "installing":  # the helper has it [L01.FR.27]
                why = "an update is being installed"
                log.warning("%s refused: %s", what, why)
                return Verdict.INSTALLING, why, None
            verdict = Verdict.ACCEPTED_CANCELED  # [L01.FR.24/26]
        import uuid  # only when an update is asked for (see update_firmware)

        retrieve_at = order.retrieve_at
        job = {
            "id": uuid.uuid4().hex,
            "location": order.location,
            "retrieve_at": retrieve_at,
            "retries": max(0, order.retries or 0),
            "retry_interval_s": max(0, order.retry_interval or 0),
            "attempts": 0,
            "phase": "waiting",
            "next_attempt_at": retrieve_at,
            "last_error": None,
            "protocol": order.protocol,
            "signed": {
                "request_id": order.request_id,
                "certificate": order.certificate,
                "signature": order.signature,
                "install_at": order.install_at,
            },
        }
        log.info(
            "%s (%s): %s at %s, %s",
            what,
            order.protocol,
            redact_url(order.location),
            iso(retrieve_at),
            verdict.value,
        )

        async def keep() -> None:
            self._remove_file(self.job)
            now = self.context.wall()
            later = now is not None and retrieve_at > now  # [L01.FR.13]
            await self._save(job, SignedFirmwareStatus.DOWNLOAD_SCHEDULED if later else None)
            self._new.set()

        return verdict, "", keep

    def _signing_certificate(self, pem: str) -> None:
        """[L01.FR.23] The Firmware Signing certificate, against the installed
        ManufacturerRootCertificates, now; CertificateProblem says why not."""
        store = self.services.certificates
        if store is None:
            raise CertificateProblem("this charger has no certificate store")
        roots = [r.cert for r in store.roots(RootKind.MANUFACTURER)]
        signing_certificate(pem, roots, store.now())

    def _signature_problem(self, job: dict[str, Any]) -> str | None:
        """Why the downloaded file's signature does not hold, or None [L01.FR.04, L01.FR.12].
        Blocking (the whole file is hashed): run through ``self.blocking``."""
        signed = job["signed"]
        if not signed.get("signature"):
            return "no signature came with the signing certificate"  # 2.0.1 L01 step 5
        try:
            cert = load_chain(signed["certificate"])[0]
            verify_file(cert, self._package_path(job), signed["signature"])
        except (CertificateProblem, SignatureProblem) as exc:
            return str(exc)
        except OSError as exc:
            return f"the file cannot be read: {exc.strerror or exc}"
        return None

    async def _verify(self, job: dict[str, Any]) -> dict[str, Any] | None:
        """SignatureVerified: the job, verified; or InvalidSignature and None."""
        problem = await self.blocking(self._signature_problem, job)
        if problem is not None:
            await self._invalid_signature(job, problem)
            return None
        job = {**job, "phase": "verified"}
        await self._save(job, SignedFirmwareStatus.SIGNATURE_VERIFIED)
        return job

    async def _invalid_signature(self, job: dict[str, Any], why: str) -> None:
        """[L01.FR.03] The file is deleted and never handed to the helper."""
        log.error("firmware: invalid signature: %s", why)
        self.last_error = why
        self._remove_file(job)
        await self._save(None, SignedFirmwareStatus.INVALID_SIGNATURE, about=job)
        await self.context.security_event("InvalidFirmwareSignature", why)

    async def _when_scheduled(self, job: dict[str, Any]) -> dict[str, Any]:
        """[L01.FR.16-17] InstallScheduled until installDateTime, once per job."""
        install_at = job["signed"]["install_at"]
        now = self.context.wall()
        if now is not None and install_at <= now:
            return job
        if not job.get("scheduled"):
            job = {**job, "scheduled": True}
            await self._save(job, SignedFirmwareStatus.INSTALL_SCHEDULED)
        log.info("firmware: installation scheduled for %s", iso(install_at))
        await self._sleep_until(install_at)
        return job

    def _package_path(self, job: dict[str, Any]) -> Path:
        return self.state_dir / "firmware" / f"{job['id']}.deb"

    def _remove_file(self, job: dict[str, Any] | None) -> None:
        if job is not None:
            try:
                self._package_path(job).unlink()
            except FileNotFoundError:
                pass

    async def run(self) -> None:
        """The firmware task: the outcome of an update that restarted us, then each job."""
        self.job = await self.journal.job(JOB)
        signed = None if self.job is None else self.job.get("signed")
        if signed and self.job is not None and self.job.get("phase") in SIGNED_PHASES:
            self.signed_last = (str(SIGNED_PHASES[self.job["phase"]]), signed["request_id"])
        if self.job is not None and self.job.get("phase") == "installing":
            await self._after_install(self.job)
        while True:
            job = self.job
            if job is None or job.get("phase") == "installing":
                await self._new.wait()
                self._new = trio.Event()
                continue
            self._new = trio.Event()
            async with trio.open_nursery() as nursery:

                async def replaced(scope: trio.CancelScope = nursery.cancel_scope) -> None:
                    await self._new.wait()
                    scope.cancel()

                nursery.start_soon(replaced)
                await self._work(job)
                nursery.cancel_scope.cancel()

    async def _sleep_until(self, at: float) -> None:
        now = self.context.wall()
        while now is None:  # the time is unknown: wait until the central system tells it
            await trio.sleep(10)
            now = self.context.wall()
        await trio.sleep(max(0.0, at - now))

    async def _work(self, job: dict[str, Any]) -> None:
        if job["phase"] in ("waiting", "downloading"):
            downloaded = await self._download(job)
            if downloaded is None:
                return
            job = downloaded
        signed = job.get("signed")
        if verifies(job) and job["phase"] == "downloaded":
            verified = await self._verify(job)
            if verified is None:
                return
            job = verified
        if job["phase"] in ("downloaded", "verified"):
            try:
                info: PackageInfo = await self.blocking(self._check, self._package_path(job))
            except PackageRefused as exc:
                # the transfer worked, the firmware cannot be installed (OCTT TC_044_3); for
                # a signed update that is InstallVerificationFailed (SEC §6.8)
                refused = (
                    SignedFirmwareStatus.INSTALL_VERIFICATION_FAILED
                    if signed
                    else FirmwareStatus.INSTALLATION_FAILED
                )
                await self._failed(job, f"not an acceptable package: {exc.reason}", refused)
                return
            job = {**job, "package": info.name, "version": info.version}
            if signed and signed.get("install_at") is not None:
                job = await self._when_scheduled(job)
            await self._install(job)

    def _free_bytes(self) -> int:
        usage = shutil.disk_usage(self.state_dir)
        cap = int(self.settings.firmware.max_download_mb * 2**20)
        return max(0, min(cap, usage.free - RESERVE_BYTES))

    async def _download(self, job: dict[str, Any]) -> dict[str, Any] | None:
        """Fetch with retries: the job Downloaded, or None after DownloadFailed. Downloading
        is reported once per request, not per attempt (each status once, 1.6 §4.5)."""
        await self._sleep_until(job["next_attempt_at"])
        dest = self._package_path(job)
        while True:
            first = job["phase"] != "downloading"
            job = {**job, "phase": "downloading", "attempts": job["attempts"] + 1}
            await self._save(job, FirmwareStatus.DOWNLOADING if first else None)
            try:
                size = await download(
                    job["location"],
                    dest,
                    max_bytes=self._free_bytes(),
                    limits=self.context.limits,
                    ca_file=self.settings.ocpp.ca_file,
                    runner=self.blocking,
                )
            except TransferError as exc:
                error = exc.reason
            else:
                log.info("firmware: downloaded %d bytes from %s", size, redact_url(job["location"]))
                job = {**job, "phase": "downloaded", "last_error": None}
                await self._save(job, FirmwareStatus.DOWNLOADED)
                return job
            log.warning("firmware: attempt %d failed: %s", job["attempts"], error)
            self.last_error = error
            if job["attempts"] > job["retries"]:
                await self._save(None, FirmwareStatus.DOWNLOAD_FAILED, about=job)
                return None
            now = self.context.wall() or 0.0
            job = {**job, "last_error": error, "next_attempt_at": now + job["retry_interval_s"]}
            await self._save(job, None)
            await trio.sleep(job["retry_interval_s"])

    def _check(self, path: Path) -> PackageInfo:
        return inspect_package(path, allowed=self.settings.firmware.packages)

    async def _install(self, job: dict[str, Any]) -> None:
        charger = self.services.charger
        charger.hold_sessions(HELD)
        try:
            if charger.transactions_running:
                log.info("firmware: installation waits until no transaction runs")
            await charger.wait_no_transactions()
            if verifies(job):  # once more, as the helper takes the file as it is
                problem = await self.blocking(self._signature_problem, job)
                if problem is not None:
                    await self._invalid_signature(job, problem)
                    return
            job = {**job, "phase": "installing"}
            await self._save(job, FirmwareStatus.INSTALLING)
            self.handover.request(
                Request(job["id"], str(self._package_path(job)), job["package"], job["version"])
            )
            log.info("firmware: %s %s handed to ocppd-update", job["package"], job["version"])
            await self._helper_deadline(job)
        finally:
            charger.release_sessions()

    async def _helper_deadline(self, job: dict[str, Any]) -> None:
        """The helper restarts us when it is done; if it never does (not installed, or it
        died), the update failed: sessions are allowed again after this long."""
        await trio.sleep(2 * self.settings.firmware.health_timeout_s + HELPER_GRACE_S)
        await self._failed(job, "the update helper did not finish")

    async def _failed(
        self, job: dict[str, Any], reason: str, status: Status = FirmwareStatus.INSTALLATION_FAILED
    ) -> None:
        log.error("firmware: installation failed: %s", reason)
        self.last_error = reason
        self._remove_file(job)
        await self._save(None, status, about=job)
        self.handover.forget_outcome()

    async def _after_install(self, job: dict[str, Any]) -> None:
        """We (re)started while an update was being installed: report how it ended."""
        outcome = self.handover.outcome()
        if outcome is not None and outcome.id == job["id"] and outcome.result == FAILED:
            await self._failed(job, outcome.reason or "the helper rolled back")
            return
        wanted = PackageInfo(job.get("package", ""), job.get("version", ""), "all").upstream
        if wanted != __version__:
            # the helper is still at work (apt restarted us mid-way): it restarts us again
            # with an outcome; no session starts meanwhile
            log.info("firmware: version %s runs; waiting for the helper (%s)", __version__, wanted)
            self.services.charger.hold_sessions(HELD)
            try:
                await self._helper_deadline(job)
            finally:
                self.services.charger.release_sessions()
            return
        await self._wait_registered()
        self.handover.registered(job["id"], __version__)
        self._remove_file(job)
        await self._save(None, FirmwareStatus.INSTALLED, about=job)

    async def _wait_registered(self) -> None:
        registration = self.services.registration
        link: Any = registration.link
        while not (registration.accepted and link.healthy):
            await link.wait_changed()

    async def send_firmware_status(self) -> None:
        """FirmwareStatusNotification now (TriggerMessage): Idle unless an update is busy
        (1.6 errata: Idle only when no download or installation is going on)."""
        phase = None if self.job is None else self.job.get("phase")
        status = {
            "downloading": FirmwareStatus.DOWNLOADING,
            "downloaded": FirmwareStatus.DOWNLOADED,
            "verified": FirmwareStatus.DOWNLOADED,
            "installing": FirmwareStatus.INSTALLING,
        }.get(phase or "", FirmwareStatus.IDLE)
        await self.context.send_now(FIRMWARE_STATUS, {"status": str(status)})

    async def send_signed_firmware_status(self, action: str = SIGNED_FIRMWARE_STATUS) -> None:
        """SignedFirmwareStatusNotification now (ExtendedTriggerMessage
        FirmwareStatusNotification, SEC §6.16): the status last sent, or Idle when that was
        Installed or none was [L01.FR.28-29]; the requestId with all but Idle [L01.FR.21].
        2.0.1's FirmwareStatusNotification (``action``) says the same [2.0.1 L01.FR.25-26,
        L01.FR.20]."""
        last = self.signed_last
        if last is None or last[0] == SignedFirmwareStatus.INSTALLED:
            payload: dict[str, Any] = {"status": str(SignedFirmwareStatus.IDLE)}
        else:
            payload = {"status": last[0], "requestId": last[1]}
        await self.context.send_now(action, payload)

    def state(self) -> dict[str, Any]:
        """What ``ocppctl firmware`` shows: what, where, next attempt, last error."""
        job = self.job or {}
        signed = job.get("signed") or {}
        return {
            "status": str(self.status),
            "signed": verifies(job),
            "request_id": signed.get("request_id"),
            "ocpp": job.get("protocol", V16_WORDS.protocol) if job else None,
            "install_date": iso(signed.get("install_at")),
            "phase": job.get("phase", "idle"),
            "location": redact_url(job["location"]) if "location" in job else None,
            "retrieve_date": iso(job.get("retrieve_at")),
            "next_attempt": iso(job.get("next_attempt_at"))
            if job.get("phase") in ("waiting", "downloading")
            else None,
            "attempts": job.get("attempts", 0),
            "retries": job.get("retries"),
            "package": job.get("package"),
            "version": job.get("version"),
            "last_error": job.get("last_error") or self.last_error,
            "sessions_held": self.services.charger.held,
        }


SIGNED_VERDICTS: dict[Verdict, UpdateFirmwareStatus] = {
    Verdict.ACCEPTED: UpdateFirmwareStatus.ACCEPTED,
    Verdict.ACCEPTED_CANCELED: UpdateFirmwareStatus.ACCEPTED_CANCELED,
    Verdict.REJECTED: UpdateFirmwareStatus.REJECTED,
    Verdict.INSTALLING: UpdateFirmwareStatus.REJECTED,
    Verdict.INVALID_CERTIFICATE: UpdateFirmwareStatus.INVALID_CERTIFICATE,
}
"""SignedUpdateFirmware.conf's status for each verdict (a total map)."""
