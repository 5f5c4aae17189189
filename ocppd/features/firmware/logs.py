"""GetLog and LogStatusNotification (security whitepaper edition 3 and OCPP 2.0.1, use case
N01): the diagnostics log (the GetDiagnostics bundle) or the security log, uploaded as
GetDiagnostics uploads, with retries; reported by LogStatusNotification (Uploading,
Uploaded, UploadFailure, or PermissionDenied when the server refused our credentials or
rights at the last attempt) through the outbox, in the version the GetLog came in
(:class:`~ocppd.features.firmware.base.Speech`). The request is judged in neutral words
(:class:`LogOrder`, :meth:`Logs.order`); 1.6 (here) and 2.0.1 (``features/v201/firmware.py``)
say the answer.

A GetLog while an upload runs cancels that upload and is answered AcceptedCanceled
[N01.FR.12]; in 2.0.1 the canceled upload is then reported AcceptedCanceled with its own
requestId (OCTT TC_N_36). A location whose scheme cannot be used is Rejected. The security
log is sent as text, the lines between ``oldestTimestamp`` and ``latestTimestamp`` (all
when absent).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum
from pathlib import Path
from typing import Any

import trio

from ocppd.features.core.transactions import V16_WORDS
from ocppd.features.firmware.base import LOG_STATUS, Context, Speech
from ocppd.features.firmware.diagnostics import Diagnostics
from ocppd.features.security.events import SecurityLog
from ocppd.protocol.v16 import messages as m
from ocppd.protocol.v16.enums import LogStatus, LogType, UploadLogStatus
from ocppd.session import Then
from ocppd.system.transfer import Denied, TransferError, scheme_of, upload

log = logging.getLogger(__name__)

V16_LOGS = Speech(V16_WORDS, LOG_STATUS)
CANCELED = "AcceptedCanceled"  # 2.0.1 UploadLogStatusEnumType


class LogVerdict(Enum):
    """What the charge point answers a GetLog, in its own words."""

    ACCEPTED = "accepted"
    ACCEPTED_CANCELED = "accepted, the upload under way canceled"  # [N01.FR.12]
    REJECTED = "rejected"  # a location it cannot use


@dataclass(frozen=True, slots=True)
class LogOrder:
    """A GetLog in neutral words: which log (``security``: the security log, else the
    diagnostics log), where, the window, the retries and the version that asked."""

    request_id: int
    security: bool
    location: str
    since: datetime | None
    until: datetime | None
    retries: int | None
    retry_interval: int | None
    protocol: str


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
        self.status = UploadLogStatus.IDLE.value
        self.request_id: int | None = None
        self.protocol = V16_WORDS.protocol  # the version the running upload reports in
        self._running: trio.CancelScope | None = None
        self._uploads = 0  # each upload makes its file in a directory of its own
        self.speeches: dict[str, Speech] = {V16_WORDS.protocol: V16_LOGS}

    def __repr__(self) -> str:
        return f"<Logs status={self.status} request={self.request_id}>"

    def speaks(self, speech: Speech) -> None:
        """Report the uploads GetLogs of ``speech.words.protocol`` ask for with ``speech``."""
        self.speeches[speech.words.protocol] = speech

    async def get_log(self, request: m.GetLogRequest) -> Any:
        order = LogOrder(
            request_id=request.request_id,
            security=request.log_type is LogType.SECURITY_LOG,
            location=request.log.remote_location,
            since=request.log.oldest_timestamp,
            until=request.log.latest_timestamp,
            retries=request.retries,
            retry_interval=request.retry_interval,
            protocol=V16_WORDS.protocol,
        )
        verdict, name, work = self.order(order)
        response = m.GetLogResponse(status=V16_VERDICTS[verdict], filename=name)
        if work is None:
            return response
        return Then(response, work, owner=self.context.kept("GetLog"))

    def order(
        self, order: LogOrder
    ) -> tuple[LogVerdict, str | None, Callable[[], Awaitable[None]] | None]:
        """Judge a GetLog now: the verdict, the file's name, and the upload to start once the
        answer is out (None: nothing)."""
        try:
            scheme_of(order.location)
        except TransferError as exc:
            log.warning("GetLog %d refused: %s", order.request_id, exc.reason)
            return LogVerdict.REJECTED, None, None
        now = self.context.services.clock.now() or datetime.now(UTC)
        cp = self.context.settings.ocpp.charge_point_id
        if order.security:
            name = f"security-{cp}-{now:%Y%m%dT%H%M%SZ}.log"
        else:
            name = f"diagnostics-{cp}-{now:%Y%m%dT%H%M%SZ}.tar.gz"
        verdict = LogVerdict.ACCEPTED
        canceled: tuple[int, str] | None = None
        if self._running is not None:
            self._running.cancel()
            verdict = LogVerdict.ACCEPTED_CANCELED
            if self.request_id is not None:
                canceled = (self.request_id, self.protocol)
        log.info("GetLog %d (%s): %s, %s", order.request_id, order.protocol, name, verdict.value)

        async def send() -> None:
            if canceled is not None and self.speeches[canceled[1]].says_canceled:
                await self._status(CANCELED, *canceled)
            await self._upload(order, name)

        return verdict, name, send

    async def _status(self, status: str, request_id: int, protocol: str) -> None:
        speech = self.speeches[protocol]
        self.status = status
        payload = {"status": str(status), "requestId": request_id}
        await self.context.journal.add_message(speech.action, payload, words=speech.words)
        self.context.services.wake_outbox()

    async def _make(self, order: LogOrder, path: Path) -> None:
        if order.security:
            text = security_lines(self.security_log.read(), order.since, order.until)
            await self.context.blocking(_write_private, path, text.encode())
        else:
            await self.diagnostics.bundle(path, order.since, order.until)

    async def _upload(self, order: LogOrder, name: str) -> None:
        # Its own directory: two GetLogs in one second name the same file (the name is what
        # the server receives), and the cancelled one's clean-up must not take the new one's
        # file (OCTT TC_N_36_CS sends the second at once).
        self._uploads += 1
        work = self.context.state_dir / "diagnostics" / f"upload-{self._uploads}"
        path = work / name
        rid, protocol = order.request_id, order.protocol
        with trio.CancelScope() as scope:
            self._running = scope
            # a trigger meanwhile names this upload; a newer GetLog cancels it as this one
            self.request_id, self.protocol = rid, protocol
            try:
                await self._make(order, path)
                await self._status(UploadLogStatus.UPLOADING, rid, protocol)
                retries = max(0, order.retries or 0)
                denied = False
                for attempt in range(retries + 1):
                    try:
                        await upload(
                            order.location,
                            path,
                            limits=self.context.limits,
                            ca_file=self.context.settings.ocpp.ca_file,
                            runner=self.context.blocking,
                        )
                    except TransferError as exc:
                        log.warning("GetLog: upload attempt %d failed: %s", attempt + 1, exc.reason)
                        denied = isinstance(exc, Denied)
                        if attempt < retries:
                            await trio.sleep(max(0, order.retry_interval or 0))
                        continue
                    await self._status(UploadLogStatus.UPLOADED, rid, protocol)
                    return
                # the server refused us (credentials, rights): PermissionDenied says why
                failed = (
                    UploadLogStatus.PERMISSION_DENIED if denied else UploadLogStatus.UPLOAD_FAILURE
                )
                await self._status(failed, rid, protocol)
            finally:
                if self._running is scope:
                    self._running = None
                path.unlink(missing_ok=True)
                with contextlib.suppress(OSError):  # a file of a killed daemon's life stays
                    work.rmdir()

    async def send_log_status(self) -> None:
        """LogStatusNotification now (ExtendedTriggerMessage, 2.0.1 TriggerMessage):
        Uploading with the requestId of the upload that runs (its file still being made
        counts), or Idle without one [N01.FR.12; UploadLogStatusEnumType: Idle only when
        triggered]. The message is the same in both versions."""
        uploading = self._running is not None
        payload: dict[str, Any] = {
            "status": str(UploadLogStatus.UPLOADING if uploading else UploadLogStatus.IDLE)
        }
        if uploading and self.request_id is not None:
            payload["requestId"] = self.request_id
        await self.context.send_now(LOG_STATUS, payload)


V16_VERDICTS: dict[LogVerdict, LogStatus] = {
    LogVerdict.ACCEPTED: LogStatus.ACCEPTED,
    LogVerdict.ACCEPTED_CANCELED: LogStatus.ACCEPTED_CANCELED,
    LogVerdict.REJECTED: LogStatus.REJECTED,
}
"""GetLog.conf's status for each verdict (a total map)."""


def _write_private(path: Path, data: bytes) -> None:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    path.touch(mode=0o600)
    path.write_bytes(data)
