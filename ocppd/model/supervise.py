"""Work the model starts, and what its errors mean.

In the manner of trio's ``serve_listeners``: whoever starts work names the nursery it lives
in (and so how long it may live), and one wrapper decides what an error of that work means.

Error handling: an expected refusal (:class:`Refused`: a tag that may not charge, no free
connector, a start that cannot happen) is a log line at INFO; a journal that cannot be
written (:class:`~ocppd.model.transaction.StorageUnavailable`) is one at ERROR; anything
else is a bug, logged with its traceback. Neither ends the daemon: the running sessions
would end with PowerLoss, which is worse than the bug. Cancellation, KeyboardInterrupt and
SystemExit pass through untouched (they are not ``Exception``).

What a refusal means to people (the LEDs, ``ocppctl status``) is decided where it is
raised or caught on purpose; this wrapper is the last line, for everything else.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from enum import StrEnum
from typing import Any

import trio

from ocppd.model.transaction import StorageUnavailable

log = logging.getLogger(__name__)


class Why(StrEnum):
    """Why a start was refused, in a word a screen can translate (the message says more)."""

    UNKNOWN_TAG = "unknown-tag"  # the central system (or the offline rules) does not know it
    BLOCKED = "blocked"
    EXPIRED = "expired"
    IN_USE = "in-use"  # the tag charges elsewhere already (ConcurrentTx)
    BUSY = "busy"  # no free connector, or it was taken by another driver
    RESERVED = "reserved"  # the connector (or the last free one) is reserved for another driver
    UNAVAILABLE = "unavailable"  # out of service, or ocppd is stopping
    FAULTED = "faulted"
    OTHER = "other"  # the journal, the meter, an answer that makes no sense


class Refused(Exception):
    """A request the charger cannot carry out now (the reason is for people: it never names
    a tag). ``why`` is the reason in one word (:class:`Why`)."""

    def __init__(self, reason: str, why: Why = Why.OTHER) -> None:
        super().__init__(reason)
        self.why = why


async def supervised(what: str, fn: Callable[..., Awaitable[Any]], *args: Any) -> None:
    """Run ``fn(*args)``; turn its errors into log lines (see the module docstring).

    Raises: only what is not an ``Exception`` (trio.Cancelled above all).
    """
    try:
        await fn(*args)
    except Refused as exc:
        log.info("%s: not done: %s", what, exc)
    except StorageUnavailable as exc:
        log.error("%s: not done: the journal cannot be written (%s)", what, exc)
    except Exception:
        log.exception("%s failed (a bug; ocppd carries on)", what)


def start_supervised(
    nursery: trio.Nursery, what: str, fn: Callable[..., Awaitable[Any]], *args: Any
) -> None:
    """Start ``fn(*args)`` in ``nursery`` under :func:`supervised`; ``what`` names it in logs."""
    nursery.start_soon(supervised, what, fn, *args, name=what)
