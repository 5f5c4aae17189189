"""GetLog and LogStatusNotification (security whitepaper edition 3, use case N01): the
diagnostics log (the GetDiagnostics bundle) or the security log, uploaded as
GetDiagnostics uploads, with retries; reported by LogStatusNotification (Uploading,
Uploaded, UploadFailure) through the outbox.

A GetLog while an upload runs cancels that upload and is answered AcceptedCanceled.
A location whose scheme cannot be used is Rejected. The security log is sent as text,
the lines between ``oldestTimestamp`` and ``latestTimestamp`` (all when absent).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import trio

from ocppd.features.core.transactions import V16_WORDS
from ocppd.features.firmware.base import Context
from ocppd.features.firmware.diagnostics import Diagnostics
from ocppd.features.security.events import SecurityLog
from ocppd.protocol.v16 import messages as m
from ocppd.protocol.v16.enums import LogStatus, LogType, UploadLogStatus
from ocppd.session import Then
from ocppd.system.transfer import TransferError, scheme_of, upload

log = logging.getLogger(__name__)

LOG_STATUS = "LogStatusNotification"


def security_lines(text: str, since: datetime | None, until: datetime | None) -> str:
    """The security log's lines whose time is in [since, until] (a bound may be None)."""
    kept = []
    for line in text.splitlines():
        stamp = line.split(" ", 1)[0]
        try:
            when = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
        except ValueError:
            when = None  # a time not known when written: kept unless a bound asks
        if when is None and (since or until):
            continue
        if when is not None and (
            (since and when < since.astimezone(UTC)) or (until and when > until.astimezone(UTC))
        ):
            continue
        kept.append(line + "\n")
    return "".join(kept)


class Logs:
    """GetLog's uploads: one at a time, the newest request wins."""

    def __init__(self, context: Context, diagnostics: Diagnostics) -> None:
        self.context = context
        self.diagnostics = diagnostics
        self.security_log = SecurityLog(context.state_dir)
        self.status = UploadLogStatus.IDLE
        self.request_id: int | None = None
        self._running: trio.CancelScope | None = None

    def __repr__(self) -> str:
        return f"<Logs status={self.status} request={self.request_id}>"

    async def get_log(self, request: m.GetLogRequest) -> Any:
        location = request.log.remote_location
        try:
            scheme_of(location)
        except TransferError as exc:
            log.warning("GetLog refused: %s", exc.reason)
            return m.GetLogResponse(status=LogStatus.REJECTED)
        now = self.context.services.clock.now() or datetime.now(UTC)
        cp = self.context.settings.ocpp.charge_point_id
        if request.log_type is LogType.SECURITY_LOG:
            name = f"security-{cp}-{now:%Y%m%dT%H%M%SZ}.log"
        else:
            name = f"diagnostics-{cp}-{now:%Y%m%dT%H%M%SZ}.tar.gz"
        status = LogStatus.ACCEPTED
        if self._running is not None:
            self._running.cancel()
            status = LogStatus.ACCEPTED_CANCELED

        async def send() -> None:
            await self._upload(request, name)

        return Then(
            m.GetLogResponse(status=status, filename=name), send, owner=self.context.kept("GetLog")
        )

    async def _status(self, status: UploadLogStatus, request_id: int) -> None:
        self.status, self.request_id = status, request_id
        payload = {"status": str(status), "requestId": request_id}
        await self.context.journal.add_message(LOG_STATUS, payload, words=V16_WORDS)
        self.context.services.wake_outbox()

    async def _make(self, request: m.GetLogRequest, path: Path) -> None:
        since, until = request.log.oldest_timestamp, request.log.latest_timestamp
        if request.log_type is LogType.SECURITY_LOG:
            text = security_lines(self.security_log.read(), since, until)
            await self.context.blocking(_write_private, path, text.encode())
        else:
            await self.diagnostics.bundle(path, since, until)

    async def _upload(self, request: m.GetLogRequest, name: str) -> None:
        path = self.context.state_dir / "diagnostics" / name
        with trio.CancelScope() as scope:
            self._running = scope
            self.request_id = request.request_id  # a trigger meanwhile names this upload
            try:
                await self._make(request, path)
                await self._status(UploadLogStatus.UPLOADING, request.request_id)
                retries = max(0, request.retries or 0)
                for attempt in range(retries + 1):
                    try:
                        await upload(
                            request.log.remote_location,
                            path,
                            limits=self.context.limits,
                            ca_file=self.context.settings.ocpp.ca_file,
                            runner=self.context.blocking,
                        )
                    except TransferError as exc:
                        log.warning("GetLog: upload attempt %d failed: %s", attempt + 1, exc.reason)
                        if attempt < retries:
                            await trio.sleep(max(0, request.retry_interval or 0))
                        continue
                    await self._status(UploadLogStatus.UPLOADED, request.request_id)
                    return
                await self._status(UploadLogStatus.UPLOAD_FAILURE, request.request_id)
            finally:
                if self._running is scope:
                    self._running = None
                path.unlink(missing_ok=True)

    async def send_log_status(self) -> None:
        """LogStatusNotification now (ExtendedTriggerMessage): Uploading with the requestId of
        the upload that runs (its file still being made counts), or Idle without one
        [N01.FR.12; UploadLogStatusEnumType: Idle only when triggered]."""
        uploading = self._running is not None
        payload: dict[str, Any] = {
            "status": str(UploadLogStatus.UPLOADING if uploading else UploadLogStatus.IDLE)
        }
        if uploading and self.request_id is not None:
            payload["requestId"] = self.request_id
        await self.context.send_now(LOG_STATUS, payload)


def _write_private(path: Path, data: bytes) -> None:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    path.touch(mode=0o600)
    path.write_bytes(data)
