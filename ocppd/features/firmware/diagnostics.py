"""GetDiagnostics (OCPP 1.6 §4.4, §5.8): the answer names the file; the bundle
(``ocppd/system/diagnostics.py``) is made and uploaded after it, with retries, and
reported by DiagnosticsStatusNotification (Uploading, Uploaded, UploadFailed; Idle when
triggered and nothing is uploading)."""

from __future__ import annotations

import contextlib
import dataclasses
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import trio

from ocppd.features.core.transactions import V16_WORDS
from ocppd.features.firmware.base import DIAGNOSTICS_STATUS, Context
from ocppd.protocol.v16 import messages as m
from ocppd.protocol.v16.enums import DiagnosticsStatus
from ocppd.session import Then
from ocppd.system.transfer import TransferError, scheme_of, upload

log = logging.getLogger(__name__)


class Diagnostics:
    """GetDiagnostics uploads and the bundle ``ocppctl diagnostics`` makes."""

    def __init__(self, context: Context, firmware_state: Callable[[], dict[str, Any]]) -> None:
        self.context = context
        self.services = context.services
        self.journal = context.journal
        self.settings = context.settings
        self.state_dir = context.state_dir
        self.blocking = context.blocking
        self.firmware_state = firmware_state  # the update's state, for the bundle
        self.diagnostics = DiagnosticsStatus.IDLE
        self.diagnostics_error: str | None = None
        self._uploads = 0  # each upload makes its bundle in a directory of its own

    def __repr__(self) -> str:
        return f"<Diagnostics status={self.diagnostics} error={self.diagnostics_error!r}>"

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

        return Then(
            m.GetDiagnosticsResponse(file_name=name), send, owner=self.context.kept("diagnostics")
        )

    async def _diagnostics_status(self, status: DiagnosticsStatus) -> None:
        self.diagnostics = status
        await self.journal.add_message(DIAGNOSTICS_STATUS, {"status": str(status)}, words=V16_WORDS)
        self.services.wake_outbox()

    async def bundle(self, path: Path, since: datetime | None, until: datetime | None) -> Path:
        """Make the diagnostics bundle at ``path`` (also for ``ocppctl diagnostics``)."""
        # the bundle's module (tarfile, platform) only when a bundle is made: a rare path,
        # and the daemon's idle memory is a feature (docs/performance.md)
        from ocppd.system import diagnostics

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
        from ocppd.system import diagnostics  # a rare path: see bundle()

        stats = await self.journal.queue_stats()
        charger = self.services.charger
        return {
            "queue": dataclasses.asdict(stats),
            "journal_damage": self.journal.damage_summary(),
            "firmware": self.firmware_state(),
            "selftest": await diagnostics.self_test(charger),
        }

    async def _upload_diagnostics(self, request: m.GetDiagnosticsRequest, name: str) -> None:
        # Its own directory: two GetDiagnostics in one second name the same file (the name is
        # what the server receives); one's clean-up must not take the other's file.
        self._uploads += 1
        work = self.state_dir / "diagnostics" / f"upload-{self._uploads}"
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
                        limits=self.context.limits,
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
            path.unlink(missing_ok=True)
            with contextlib.suppress(OSError):  # a file of a killed daemon's life stays
                work.rmdir()
            self.diagnostics = (
                DiagnosticsStatus.IDLE
                if self.diagnostics is DiagnosticsStatus.UPLOADING
                else self.diagnostics
            )

    async def send_diagnostics_status(self) -> None:
        """DiagnosticsStatusNotification now (TriggerMessage): Uploading or Idle."""
        status = (
            DiagnosticsStatus.UPLOADING
            if self.diagnostics is DiagnosticsStatus.UPLOADING
            else DiagnosticsStatus.IDLE
        )
        await self.context.send_now(DIAGNOSTICS_STATUS, {"status": str(status)})

    def state(self) -> dict[str, Any]:
        return {"diagnostics": str(self.diagnostics), "diagnostics_error": self.diagnostics_error}
