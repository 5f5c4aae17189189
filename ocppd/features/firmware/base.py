"""What the Firmware Management pieces share: the daemon's parts they use, where blocking
work runs, how long a transfer may wait, and the wall clock in the journal's words."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ocppd.config import Settings
from ocppd.features.link import open_session
from ocppd.features.profile import Services
from ocppd.journal import Journal
from ocppd.journal.records import TxWords
from ocppd.system.transfer import Limits, Runner, in_thread, inline

FIRMWARE_STATUS = "FirmwareStatusNotification"
SIGNED_FIRMWARE_STATUS = "SignedFirmwareStatusNotification"
DIAGNOSTICS_STATUS = "DiagnosticsStatusNotification"
LOG_STATUS = "LogStatusNotification"


@dataclass(frozen=True, slots=True)
class Speech:
    """How one OCPP version reports a job the central system numbered (a requestId): the
    protocol's words for the journal and the action of the report. The payload is the same
    in 1.6's security whitepaper and in 2.0.1 (``status``, ``requestId``); a job keeps the
    version it was asked in and is reported in that version only, as a transaction is."""

    words: TxWords
    action: str
    says_canceled: bool = False
    """The version reports an upload that a newer GetLog canceled (2.0.1's AcceptedCanceled
    LogStatusNotification; 1.6's UploadLogStatus has no such word)."""


@dataclass(frozen=True, slots=True)
class Context:
    services: Services
    journal: Journal
    settings: Settings
    state_dir: Path
    blocking: Runner  # a worker thread; inline under trio's MockClock (tests)

    @classmethod
    def of(cls, services: Services) -> Context:
        assert services.settings is not None
        return cls(
            services,
            services.journal,
            services.settings,
            services.settings.storage.state_dir,
            inline if services.inline else in_thread,
        )

    @property
    def limits(self) -> Limits:
        return Limits(stall_s=self.settings.firmware.stall_timeout_s)

    def kept(self, what: str) -> Callable[[Callable[[], Awaitable[None]]], None]:
        """Where work an answer promised runs: the charger's nursery (it outlives the link)."""

        def start(work: Callable[[], Awaitable[None]]) -> None:
            self.services.charger.spawn(what, work)

        return start

    def wall(self) -> float | None:
        now = self.services.clock.now()
        return None if now is None else now.timestamp()

    async def security_event(self, kind: str, tech_info: str = "") -> None:
        """A security event of the whitepaper (the security log, journald, the outbox)."""
        await self.services.security_event(kind, tech_info)

    async def send_now(self, action: str, payload: dict[str, Any]) -> None:
        """A triggered message, on the open link (SessionClosed without one)."""
        await open_session(self.services.registration.link).call_payload(action, payload)


def iso(ts: float | None) -> str | None:
    return None if ts is None else datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds")
