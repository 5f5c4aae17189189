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
"""

from __future__ import annotations

import logging
import shutil
import uuid
from pathlib import Path
from typing import Any

import trio

from ocppd import __version__
from ocppd.features.core.transactions import V16_WORDS
from ocppd.features.firmware.base import FIRMWARE_STATUS, Context, iso
from ocppd.protocol.v16 import messages as m
from ocppd.protocol.v16.enums import FirmwareStatus
from ocppd.session import Then
from ocppd.system.handover import FAILED, Handover, Request
from ocppd.system.package import PackageInfo, PackageRefused, inspect_package
from ocppd.system.transfer import TransferError, download, redact_url, scheme_of

log = logging.getLogger(__name__)

JOB = "firmware"
RESERVE_BYTES = 64 * 2**20  # what a download leaves free for the journal and the logs
HELD = "a firmware update waits to install"
HELPER_GRACE_S = 600  # beyond twice [firmware] health_timeout_s: apt's own time


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
        self.status = FirmwareStatus.IDLE  # the last one reported
        self.last_error: str | None = None
        self._new = trio.Event()

    def __repr__(self) -> str:
        phase = None if self.job is None else self.job.get("phase")
        return f"<Updater status={self.status} phase={phase}>"

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
            return Then(response, self._refuse, owner=self.context.kept("firmware"))
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
            iso(request.retrieve_date.timestamp()),
        )

        async def keep() -> None:
            self._remove_file(self.job)
            await self._save(job, None)
            self._new.set()

        return Then(response, keep, owner=self.context.kept("firmware"))

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
                await self._save(None, FirmwareStatus.DOWNLOAD_FAILED)
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

    async def send_firmware_status(self) -> None:
        """FirmwareStatusNotification now (TriggerMessage): Idle unless an update is busy
        (1.6 errata: Idle only when no download or installation is going on)."""
        phase = None if self.job is None else self.job.get("phase")
        status = {
            "downloading": FirmwareStatus.DOWNLOADING,
            "downloaded": FirmwareStatus.DOWNLOADED,
            "installing": FirmwareStatus.INSTALLING,
        }.get(phase or "", FirmwareStatus.IDLE)
        await self.context.send_now(FIRMWARE_STATUS, {"status": str(status)})

    def state(self) -> dict[str, Any]:
        """What ``ocppctl firmware`` shows: what, where, next attempt, last error."""
        job = self.job or {}
        return {
            "status": str(self.status),
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
