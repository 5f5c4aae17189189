"""Firmware Management (OCPP 1.6 §4.4-4.5, §5.8, §5.14, §6.x): UpdateFirmware installs a
Debian package through the privileged helper, GetDiagnostics uploads a bundle.

UpdateFirmware. The request is a durable job in the journal (``jobs``, name
``firmware``): location, retrieveDate, retries, retryInterval, its phase and its last
error, so a restart before retrieveDate loses nothing. Each phase change is journaled
together with the FirmwareStatusNotification that tells it (outbox kind ``other``:
delivered after a restart, each exactly once). The phases:

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

GetDiagnostics. The answer names the file; the bundle (``ocppd/system/diagnostics.py``)
is made and uploaded after it, with retries, reported by DiagnosticsStatusNotification.
"""

from __future__ import annotations

import dataclasses
import logging
import shutil
import uuid
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import trio

from ocppd import __version__
from ocppd.features.core.transactions import V16_WORDS
from ocppd.features.profile import Handler, Profile, Services, Site, Task, TypedHandler
from ocppd.model.keys import KeySpec, KeyType
from ocppd.protocol.v16 import messages as m
from ocppd.protocol.v16.enums import DiagnosticsStatus, FirmwareStatus
from ocppd.session import Then
from ocppd.system import diagnostics
from ocppd.system.handover import FAILED, Handover, Request
from ocppd.system.package import PackageInfo, PackageRefused, inspect_package
from ocppd.system.transfer import (
    Limits,
    TransferError,
    download,
    in_thread,
    inline,
    redact_url,
    scheme_of,
    upload,
)

log = logging.getLogger(__name__)

NAME = "FirmwareManagement"
JOB = "firmware"
PROTOCOLS = "HTTP,HTTPS,FTP,FTPS"
RESERVE_BYTES = 64 * 2**20  # what a download leaves free for the journal and the logs
HELD = "a firmware update waits to install"
HELPER_GRACE_S = 600  # beyond twice [firmware] health_timeout_s: apt's own time
FIRMWARE_STATUS = "FirmwareStatusNotification"
DIAGNOSTICS_STATUS = "DiagnosticsStatusNotification"


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


def _wall(services: Services) -> float | None:
    now = services.clock.now()
    return None if now is None else now.timestamp()


def _iso(ts: float | None) -> str | None:
    return None if ts is None else datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds")


class Firmware:
    """The one firmware update and the diagnostics uploads of this charge point."""

    def __init__(self, services: Services, state_dir: Path) -> None:
        assert services.journal is not None and services.settings is not None
        self.services = services
        self.journal = services.journal
        self.settings = services.settings
        self.state_dir = state_dir
        self.handover = Handover(state_dir)
        self.job: dict[str, Any] | None = None
        self.status = FirmwareStatus.IDLE  # the last one reported
        self.diagnostics = DiagnosticsStatus.IDLE
        self.diagnostics_error: str | None = None
        self.last_error: str | None = None
        self._new = trio.Event()
        self.blocking = inline if services.inline else in_thread

    def __repr__(self) -> str:
        phase = None if self.job is None else self.job.get("phase")
        return f"<Firmware status={self.status} phase={phase} diagnostics={self.diagnostics}>"

    def _kept(self, what: str) -> Any:
        """Work an answer promised runs in the charger's nursery (it outlives the link)."""

        def start(work: Any) -> None:
            self.services.charger.spawn(what, work)

        return start

    @property
    def limits(self) -> Limits:
        return Limits(stall_s=self.settings.firmware.stall_timeout_s)

    # --- the journal: a phase and its report, together ---

    async def _save(self, job: dict[str, Any] | None, status: FirmwareStatus | None) -> None:
        report = None if status is None else (FIRMWARE_STATUS, {"status": str(status)})
        await self.journal.put_job(JOB, job, report=report, words=V16_WORDS)
        self.job = job
        if status is not None:
            self.status = status
            self.services.wake_outbox()
            log.info("firmware: %s", status)

    # --- UpdateFirmware ---

    async def update_firmware(self, request: m.UpdateFirmwareRequest) -> Any:
        response = m.UpdateFirmwareResponse()
        try:
            scheme_of(request.location)
        except TransferError as exc:
            # UpdateFirmware.conf has no status: the refusal is DownloadFailed (1.6 §5.14)
            log.warning("UpdateFirmware refused: %s", exc.reason)
            return Then(response, self._refuse, owner=self._kept("firmware"))
        if self.job is not None and self.job.get("phase") == "installing":
            log.warning("UpdateFirmware ignored: an update is being installed")
            return response
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
            _iso(request.retrieve_date.timestamp()),
        )

        async def keep() -> None:
            self._remove_file(self.job)
            await self._save(job, None)
            self._new.set()

        return Then(response, keep, owner=self._kept("firmware"))

    async def _refuse(self) -> None:
        await self._save(self.job, FirmwareStatus.DOWNLOAD_FAILED)

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
        now = _wall(self.services)
        while now is None:  # the time is unknown: wait until the central system tells it
            await trio.sleep(10)
            now = _wall(self.services)
        await trio.sleep(max(0.0, at - now))

    async def _work(self, job: dict[str, Any]) -> None:
        if job["phase"] in ("waiting", "downloading"):
            downloaded = await self._download(job)
            if downloaded is None:
                return
            job = downloaded
        if job["phase"] == "downloaded":
            try:
                info: PackageInfo = await self.blocking(self._check, self._package_path(job))
            except PackageRefused as exc:
                # the transfer worked, the firmware cannot be installed (OCTT TC_044_3)
                await self._failed(job, f"not an acceptable package: {exc.reason}")
                return
            await self._install({**job, "package": info.name, "version": info.version})

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
                    limits=self.limits,
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
                await self._save(None, FirmwareStatus.DOWNLOAD_FAILED)
                return None
            now = _wall(self.services) or 0.0
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

    async def _failed(self, job: dict[str, Any], reason: str) -> None:
        log.error("firmware: installation failed: %s", reason)
        self.last_error = reason
        self._remove_file(job)
        await self._save(None, FirmwareStatus.INSTALLATION_FAILED)
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
        await self._save(None, FirmwareStatus.INSTALLED)

    async def _wait_registered(self) -> None:
        registration = self.services.registration
        link: Any = registration.link
        while not (registration.accepted and link.healthy):
            await link.wait_changed()

    # --- GetDiagnostics ---

    async def get_diagnostics(self, request: m.GetDiagnosticsRequest) -> Any:
        try:
            scheme_of(request.location)
        except TransferError as exc:
            log.warning("GetDiagnostics refused: %s", exc.reason)
            return m.GetDiagnosticsResponse()  # no file name: nothing will be uploaded
        now = self.services.clock.now() or datetime.now(UTC)
        name = f"diagnostics-{self.settings.ocpp.charge_point_id}-{now:%Y%m%dT%H%M%SZ}.tar.gz"

        async def send() -> None:
            await self._upload_diagnostics(request, name)

        return Then(m.GetDiagnosticsResponse(file_name=name), send, owner=self._kept("diagnostics"))

    async def _diagnostics_status(self, status: DiagnosticsStatus) -> None:
        self.diagnostics = status
        await self.journal.add_message(DIAGNOSTICS_STATUS, {"status": str(status)}, words=V16_WORDS)
        self.services.wake_outbox()

    async def bundle(self, path: Path, since: datetime | None, until: datetime | None) -> Path:
        """Make the diagnostics bundle at ``path`` (also for ``ocppctl diagnostics``)."""
        return await diagnostics.make_bundle(
            path,
            settings=self.settings,
            since=since,
            until=until,
            sources=await self._sources(),
            secret_keys=frozenset(s.name for s in self.services.keys.specs.values() if s.secret),
            runner=self.blocking,
        )

    async def _sources(self) -> dict[str, Any]:
        stats = await self.journal.queue_stats()
        charger = self.services.charger
        return {
            "queue": dataclasses.asdict(stats),
            "journal_damage": self.journal.damage_summary(),
            "firmware": self.state(),
            "selftest": await diagnostics.self_test(charger),
        }

    async def _upload_diagnostics(self, request: m.GetDiagnosticsRequest, name: str) -> None:
        work = self.state_dir / "diagnostics"
        path = work / name
        try:
            await self.bundle(path, request.start_time, request.stop_time)
            await self._diagnostics_status(DiagnosticsStatus.UPLOADING)
            retries = max(0, request.retries or 0)
            for attempt in range(retries + 1):
                try:
                    await upload(
                        request.location,
                        path,
                        limits=self.limits,
                        ca_file=self.settings.ocpp.ca_file,
                        runner=self.blocking,
                    )
                except TransferError as exc:
                    self.diagnostics_error = exc.reason
                    log.warning(
                        "diagnostics: upload attempt %d failed: %s", attempt + 1, exc.reason
                    )
                    if attempt < retries:
                        await trio.sleep(max(0, request.retry_interval or 0))
                    continue
                self.diagnostics_error = None
                await self._diagnostics_status(DiagnosticsStatus.UPLOADED)
                return
            await self._diagnostics_status(DiagnosticsStatus.UPLOAD_FAILED)
        finally:
            try:
                path.unlink()
            except FileNotFoundError:
                pass
            self.diagnostics = (
                DiagnosticsStatus.IDLE
                if self.diagnostics is DiagnosticsStatus.UPLOADING
                else self.diagnostics
            )

    # --- Remote Trigger and ocppctl ---

    async def send_firmware_status(self) -> None:
        """FirmwareStatusNotification now (TriggerMessage): Idle unless an update is busy
        (1.6 errata: Idle only when no download or installation is going on)."""
        phase = None if self.job is None else self.job.get("phase")
        status = {
            "downloading": FirmwareStatus.DOWNLOADING,
            "downloaded": FirmwareStatus.DOWNLOADED,
            "installing": FirmwareStatus.INSTALLING,
        }.get(phase or "", FirmwareStatus.IDLE)
        await self._untracked(FIRMWARE_STATUS, {"status": str(status)})

    async def send_diagnostics_status(self) -> None:
        """DiagnosticsStatusNotification now (TriggerMessage): Uploading or Idle."""
        status = (
            DiagnosticsStatus.UPLOADING
            if self.diagnostics is DiagnosticsStatus.UPLOADING
            else DiagnosticsStatus.IDLE
        )
        await self._untracked(DIAGNOSTICS_STATUS, {"status": str(status)})

    async def _untracked(self, action: str, payload: dict[str, Any]) -> None:
        from ocppd.features.link import open_session

        session = open_session(self.services.registration.link)
        await session.call_payload(action, payload)

    def state(self) -> dict[str, Any]:
        """What ``ocppctl firmware`` shows: what, where, next attempt, last error."""
        job = self.job or {}
        return {
            "status": str(self.status),
            "phase": job.get("phase", "idle"),
            "location": redact_url(job["location"]) if "location" in job else None,
            "retrieve_date": _iso(job.get("retrieve_at")),
            "next_attempt": _iso(job.get("next_attempt_at"))
            if job.get("phase") in ("waiting", "downloading")
            else None,
            "attempts": job.get("attempts", 0),
            "retries": job.get("retries"),
            "package": job.get("package"),
            "version": job.get("version"),
            "last_error": job.get("last_error") or self.last_error,
            "sessions_held": self.services.charger.held,
            "diagnostics": str(self.diagnostics),
            "diagnostics_error": self.diagnostics_error,
        }


def _firmware(services: Services) -> Firmware:
    """The one Firmware of this daemon: its handlers, task and verbs share it."""
    found = services.shared.get(NAME)
    if not isinstance(found, Firmware):
        assert services.settings is not None
        found = services.shared[NAME] = Firmware(services, services.settings.storage.state_dir)
    return found


def _handlers(services: Services) -> Mapping[str, Handler]:
    if services.journal is None or services.settings is None:
        return {}
    firmware = _firmware(services)
    return {
        "UpdateFirmware": TypedHandler(m.UpdateFirmwareRequest, firmware.update_firmware),
        "GetDiagnostics": TypedHandler(m.GetDiagnosticsRequest, firmware.get_diagnostics),
    }


def _tasks(services: Services) -> Iterable[Task]:
    if services.journal is None or services.settings is None:
        return ()
    return [_firmware(services).run]


def triggers(services: Services) -> Mapping[str, Task]:
    """What Remote Trigger may ask of this profile: message name -> send-now verb."""
    firmware = _firmware(services)
    return {
        "FirmwareStatusNotification": firmware.send_firmware_status,
        "DiagnosticsStatusNotification": firmware.send_diagnostics_status,
    }


def firmware_of(services: Services) -> Firmware:
    """The Firmware behind ``services`` (for ``ocppctl firmware`` / ``diagnostics``)."""
    return _firmware(services)


profile = Profile(NAME, keys=_keys, handlers=_handlers, tasks=_tasks)
