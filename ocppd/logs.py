"""Logging: journald-native under systemd, readable lines on a terminal, secrets never.

Under systemd (stderr is the journal stream named by ``$JOURNAL_STREAM``) records go
to journald with structured fields (``OCPP_ACTION``, ``OCPP_MESSAGE_ID``,
``CONNECTOR_ID``, ``TRANSACTION_ID``) through python3-systemd's JournalHandler, or,
without that library, as ``<N>``-prefixed lines that journald files at level N.
Elsewhere: ``time level logger: message`` on stderr.

Pass fields as ``log.info("...", extra=fields(action="Heartbeat", connector=1))``.
"""

from __future__ import annotations

import logging
import os
import sys
from typing import Any

_PRIORITY = {
    logging.CRITICAL: 2,
    logging.ERROR: 3,
    logging.WARNING: 4,
    logging.INFO: 6,
    logging.DEBUG: 7,
}

LEVELS = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warning": logging.WARNING,
    "error": logging.ERROR,
}


def fields(
    *,
    action: str | None = None,
    message_id: str | None = None,
    connector: int | None = None,
    transaction: int | str | None = None,
) -> dict[str, Any]:
    """Structured journal fields (upper case, as journald requires) for ``extra=``."""
    out: dict[str, Any] = {}
    if action is not None:
        out["OCPP_ACTION"] = action
    if message_id is not None:
        out["OCPP_MESSAGE_ID"] = message_id
    if connector is not None:
        out["CONNECTOR_ID"] = connector
    if transaction is not None:
        out["TRANSACTION_ID"] = transaction
    return out


def stderr_is_journal() -> bool:
    """True when stderr is the journal stream systemd gave us (not merely inherited env)."""
    try:
        dev, ino = (int(x) for x in os.environ.get("JOURNAL_STREAM", "").split(":"))
        st = os.fstat(sys.stderr.fileno())
    except (ValueError, OSError):
        return False
    return (st.st_dev, st.st_ino) == (dev, ino)


class PrefixFormatter(logging.Formatter):
    """``<N>`` on every line (tracebacks included) so journald keeps the level."""

    def format(self, record: logging.LogRecord) -> str:
        prio = _PRIORITY.get(record.levelno, 6)
        return "\n".join(f"<{prio}>{line}" for line in super().format(record).splitlines())


def _journal_handler() -> logging.Handler | None:
    if not os.path.exists("/run/systemd/journal/socket"):
        return None  # JournalHandler would silently drop everything
    try:
        from systemd.journal import JournalHandler  # type: ignore[import-not-found]
    except ImportError:
        return None
    handler: logging.Handler = JournalHandler(SYSLOG_IDENTIFIER="ocppd")
    return handler


def setup(level: str = "info", *, stream: Any = None) -> None:
    """Configure the root logger once per process (and again after SIGHUP changes the level)."""
    handler: logging.Handler | None = None
    if stream is None and stderr_is_journal():
        handler = _journal_handler()
        if handler is None:
            handler = logging.StreamHandler(sys.stderr)
            handler.setFormatter(PrefixFormatter("%(name)s: %(message)s"))
    if handler is None:
        handler = logging.StreamHandler(stream or sys.stderr)
        handler.setFormatter(
            logging.Formatter(
                "%(asctime)s %(levelname)-7s %(name)s: %(message)s", "%Y-%m-%d %H:%M:%S"
            )
        )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    set_level(level)


def set_level(level: str) -> None:
    logging.getLogger().setLevel(LEVELS.get(level, logging.INFO))
    # device libraries are chatty at debug; keep them at warning unless asked for
    for noisy in ("pymodbus", "trio-websocket", "gpiozero"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
