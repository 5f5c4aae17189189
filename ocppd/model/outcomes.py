"""What the charger's verbs answer, in the model's words.

Each OCPP version maps these to its wire words in one place (1.6:
``ocppd/features/core/words.py``); the model never spells an answer of the wire.
"""

from __future__ import annotations

from enum import StrEnum


class AvailabilityResult(StrEnum):
    """What became of a request to take a connector (or the charge point) in or out of
    service."""

    APPLIED = "applied"  # in force now (also when it already was)
    SCHEDULED = "scheduled"  # persisted; in force once the running transaction ends (1.6 §5.2)
    REJECTED = "rejected"  # unknown connector, or the change cannot be persisted


class UnlockResult(StrEnum):
    """What became of a request to release the cable."""

    UNLOCKED = "unlocked"
    FAILED = "failed"  # the lock was tried and did not release
    NO_LOCK = "no lock"  # no such connector, or it has no lock to release


class ResetKind(StrEnum):
    """How ocppd restarts when the central system asks it to."""

    SOFT = "soft"  # the process restarts in place
    HARD = "hard"  # the configured command (a reboot of the computer)


class ReserveResult(StrEnum):
    """What became of a request to reserve a connector (1.6 §5.13)."""

    ACCEPTED = "accepted"  # persisted and in force
    FAULTED = "faulted"  # the connector (every connector, for connector 0) is faulted
    OCCUPIED = "occupied"  # in use, or reserved for someone else
    REJECTED = "rejected"  # no such connector, connector 0 not offered, expired, not storable
    UNAVAILABLE = "unavailable"  # out of service
