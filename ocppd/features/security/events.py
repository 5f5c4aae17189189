"""Security events (security whitepaper edition 3, use case A04 and §8): the security log,
journald, and SecurityEventNotification.

Every event is written to the rolling security log under the state directory
(:class:`SecurityLog`: ``security.log`` and at most one older file, each at most
``max_bytes``) and logged as one structured journald entry (``SECURITY_EVENT``,
``OCPP_ACTION``). Then it is queued in the journal's outbox (kind other), so that it
reaches the central system in order and once, across outages and restarts:

- a critical event (:data:`EVENT_TYPES`) always [A04.FR.02: queued with guaranteed
  delivery];
- a non-critical one once per type between two links that reached their steady state:
  a charger refused by a stranger's certificate every few seconds tells the central
  system once, when it is back, and keeps every attempt in the security log.

The ``techInfo`` is at most 255 characters (the message's limit) and never holds a
secret: callers pass reasons, not credentials.
"""

from __future__ import annotations

import logging
import os
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

import trio

from ocppd.clock import Clock
from ocppd.logs import fields

log = logging.getLogger(__name__)

ACTION = "SecurityEventNotification"
TECH_INFO_MAX = 255

EVENT_TYPES: Mapping[str, bool] = MappingProxyType(
    {
        # type: critical [SEC §8, edition 3]
        "FirmwareUpdated": True,
        "FailedToAuthenticateAtCentralSystem": False,
        "CentralSystemFailedToAuthenticate": False,
        "SettingSystemTime": True,
        "StartupOfTheDevice": True,
        "ResetOrReboot": True,
        "SecurityLogWasCleared": True,
        "ReconfigurationOfSecurityParameters": False,
        "MemoryExhaustion": True,
        "InvalidMessages": False,
        "AttemptedReplayAttacks": False,
        "TamperDetectionActivated": True,
        "InvalidFirmwareSignature": False,
        "InvalidFirmwareSigningCertificate": False,
        "InvalidCentralSystemCertificate": False,
        "InvalidChargePointCertificate": False,
        "InvalidTLSVersion": False,
        "InvalidTLSCipherSuite": False,
    }
)
"""The whitepaper's security events, and whether each is critical."""

LOG_NAME = "security.log"
UNQUEUED_MAX = 64  # critical events kept in memory while the journal refuses to queue them


class SecurityLog:
    """A rolling, size-capped text file of security events: ``security.log`` and, once it
    is full, ``security.log.1`` (the older half). Lines are ``<time> <type> <techInfo>``.
    Appending is a small synchronous write (no fsync: the critical events are in the
    journal too)."""

    def __init__(self, directory: Path, *, max_bytes: int = 512 * 1024) -> None:
        self.path = directory / LOG_NAME
        self.older = directory / f"{LOG_NAME}.1"
        self.max_bytes = max_bytes

    def __repr__(self) -> str:
        return f"<SecurityLog {self.path} max_bytes={self.max_bytes}>"

    def append(self, line: str) -> None:
        """Add one line; OSError when the disk refuses (the caller logs it)."""
        data = (line.replace("\n", " ") + "\n").encode()
        try:
            size = self.path.stat().st_size
        except FileNotFoundError:
            size = 0
        if size and size + len(data) > self.max_bytes:
            os.replace(self.path, self.older)
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, data)
        finally:
            os.close(fd)

    def files(self) -> list[Path]:
        """The files that exist, oldest first (what GetLog uploads)."""
        return [p for p in (self.older, self.path) if p.exists()]

    def read(self) -> str:
        return "".join(p.read_text(errors="replace") for p in self.files())

    def clear(self) -> None:
        for p in (self.older, self.path):
            p.unlink(missing_ok=True)


Queue = Callable[[str, dict[str, Any]], Awaitable[None]]
"""Queues a message durably in the outbox and wakes its courier."""


class SecurityEvents:
    """Raises security events: the log file, journald, and the outbox (see the module)."""

    def __init__(self, *, security_log: SecurityLog, clock: Clock, queue: Queue) -> None:
        self.log = security_log
        self._clock = clock
        self._queue = queue
        self._told: set[str] = set()  # non-critical types queued since the last steady link
        self.raised = 0
        # critical events the journal refused (a full disk): queued again once it works
        self.unqueued: deque[dict[str, Any]] = deque(maxlen=UNQUEUED_MAX)

    def __repr__(self) -> str:
        return f"<SecurityEvents raised={self.raised} told={sorted(self._told)}>"

    def steady(self) -> None:
        """A link reached its steady state: the next non-critical event of a type is told."""
        self._told.clear()

    async def occurred(self, kind: str, tech_info: str = "") -> None:
        """Record and report one event of the whitepaper's ``kind``. Never raises: a disk or
        a journal that refuses is a log line."""
        critical = EVENT_TYPES[kind]  # KeyError: a caller's typo, a bug
        tech_info = tech_info[:TECH_INFO_MAX]
        timestamp = self._clock.timestamp()
        self.raised += 1
        log.info(
            "security event %s%s",
            kind,
            f": {tech_info}" if tech_info else "",
            extra={"SECURITY_EVENT": kind, **fields(action=ACTION)},
        )
        try:
            shown = self._clock.resolve_text(timestamp) or timestamp
            self.log.append(f"{shown} {kind} {tech_info}".rstrip())
        except OSError as exc:
            log.error("cannot write the security log %s: %s", self.log.path, exc)
        if not critical:
            if kind in self._told:
                return
            self._told.add(kind)
        payload: dict[str, Any] = {"type": kind, "timestamp": timestamp}
        if tech_info:
            payload["techInfo"] = tech_info
        try:
            await self._queue(ACTION, payload)
        except Exception as exc:  # the journal refuses: the log file and journald still have it
            log.error("cannot queue the security event %s: %s", kind, exc)
            if critical:  # [A04.FR.02] guaranteed delivery: again once the journal works
                self.unqueued.append(payload)

    async def requeue(self) -> None:
        """Queue the critical events the journal refused, oldest first, with their own
        timestamps; stops at the first refusal (the journal is still unwell)."""
        while self.unqueued:
            payload = self.unqueued[0]
            try:
                await self._queue(ACTION, payload)
            except Exception as exc:
                log.warning("security events wait for the journal: %s", exc)
                return
            self.unqueued.popleft()
            log.info("security event %s queued after the journal came back", payload["type"])

    async def clear(self, by: str) -> None:
        """Empty the security log (an operator's ``ocppctl security-log clear``); the
        SecurityLogWasCleared event (critical) is the new log's first line."""
        try:
            self.log.clear()
        except OSError as exc:
            log.error("cannot clear the security log %s: %s", self.log.path, exc)
            raise
        await self.occurred("SecurityLogWasCleared", f"cleared by {by}")


INVALID_WINDOW_S = 600.0
"""At most one InvalidMessages event per kind of fault in this many seconds."""


class InvalidMessages:
    """InvalidMessages [SEC §8: "messages that are not valid OCPP"], bounded so that a
    central system sending garbage cannot flood the security log, journald or the outbox.

    The session reports each frame that is not valid OCPP with its kind: the violation
    of a CALL it answered with a CALLERROR (``FORMATION``..., ``UNKNOWN_ACTION``,
    ``SCHEMA`` for a payload that breaks its action's schema; an action of the protocol
    this charger does not handle is valid OCPP and is not counted), ``FRAME`` for text
    that is no frame, ``RESULT`` for an answer to our call that breaks its schema. Each
    kind raises at most one event per :data:`INVALID_WINDOW_S`; the next one says how
    many were left out. The kinds are a fixed, small set (about 25), so the events are
    at most that many per window, and the queue to the event writer never holds more:
    :meth:`saw` never blocks the session's reader."""

    def __init__(self, events: SecurityEvents, *, window_s: float = INVALID_WINDOW_S) -> None:
        self._events = events
        self.window_s = window_s
        self._last: dict[str, float] = {}  # kind -> trio time of its last event
        self._missed: dict[str, int] = {}  # kind -> frames left out since
        self._send, self._receive = trio.open_memory_channel[str](64)

    def __repr__(self) -> str:
        return f"<InvalidMessages kinds={sorted(self._last)} missed={sum(self._missed.values())}>"

    def saw(self, kind: str, reason: str) -> None:
        """One frame that is not valid OCPP (called by the session's reader; never blocks)."""
        now = trio.current_time()
        last = self._last.get(kind)
        if last is not None and now - last < self.window_s:
            self._missed[kind] = self._missed.get(kind, 0) + 1
            return
        missed = self._missed.pop(kind, 0)
        text = f"{kind}: {reason}"
        if missed:
            text = f"{kind} ({missed} more since the last event): {reason}"
        try:
            self._send.send_nowait(text)
        except trio.WouldBlock:  # the writer is behind: count it for the next one
            self._missed[kind] = missed + 1
            return
        self._last[kind] = now

    async def run(self) -> None:
        """The writer: each event to the log file, journald and the outbox, in order."""
        async for text in self._receive:
            await self._events.occurred("InvalidMessages", text)
