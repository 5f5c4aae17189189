"""The model's words as OCPP 1.6 says them: one table per model enum, total, in one place.

The model speaks its own language (``ocppd/model/status.py``, ``transaction.py``,
``outcomes.py``); this module turns it into 1.6 wire words and, where the wire asks the
model something (a Reset's type, an error code typed into ``ocppctl sim fault``), back.

Why here and not beside the 1.6 dialect in ``protocol/v16``: ``protocol/`` lies below the
model and knows none of its enums (tests/test_import_graph.py keeps that wall), so the
lowest layer that sees both the model's words and the 1.6 enums is ``features/``. A
second OCPP version brings its own words module beside its features; nothing in the
model changes. Every table is total (tests/test_words.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum
from types import MappingProxyType
from typing import TypeVar

from ocppd.model.outcomes import AvailabilityResult, ReserveResult, ResetKind, UnlockResult
from ocppd.model.status import ErrorCode, Status
from ocppd.model.transaction import StopReason
from ocppd.protocol.v16.enums import (
    AvailabilityStatus,
    ChargePointErrorCode,
    ChargePointStatus,
    Reason,
    ReservationStatus,
    ResetType,
    UnlockStatus,
)

K = TypeVar("K", bound=Enum)
V = TypeVar("V", bound=Enum)


def _invert(table: Mapping[K, V]) -> Mapping[V, K]:
    inverse = {wire: word for word, wire in table.items()}
    assert len(inverse) == len(table), "two model words share a wire word"
    return MappingProxyType(inverse)


STATUS: Mapping[Status, ChargePointStatus] = MappingProxyType(
    {
        Status.AVAILABLE: ChargePointStatus.AVAILABLE,
        Status.PREPARING: ChargePointStatus.PREPARING,
        Status.CHARGING: ChargePointStatus.CHARGING,
        Status.SUSPENDED_EVSE: ChargePointStatus.SUSPENDED_EVSE,
        Status.SUSPENDED_EV: ChargePointStatus.SUSPENDED_EV,
        Status.FINISHING: ChargePointStatus.FINISHING,
        Status.RESERVED: ChargePointStatus.RESERVED,
        Status.UNAVAILABLE: ChargePointStatus.UNAVAILABLE,
        Status.FAULTED: ChargePointStatus.FAULTED,
    }
)
"""StatusNotification.status (a ChargePointStatus)."""

ERROR_CODE: Mapping[ErrorCode, ChargePointErrorCode] = MappingProxyType(
    {
        ErrorCode.CONNECTOR_LOCK_FAILURE: ChargePointErrorCode.CONNECTOR_LOCK_FAILURE,
        ErrorCode.EV_COMMUNICATION_ERROR: ChargePointErrorCode.EV_COMMUNICATION_ERROR,
        ErrorCode.GROUND_FAILURE: ChargePointErrorCode.GROUND_FAILURE,
        ErrorCode.HIGH_TEMPERATURE: ChargePointErrorCode.HIGH_TEMPERATURE,
        ErrorCode.INTERNAL_ERROR: ChargePointErrorCode.INTERNAL_ERROR,
        ErrorCode.LOCAL_LIST_CONFLICT: ChargePointErrorCode.LOCAL_LIST_CONFLICT,
        ErrorCode.NO_ERROR: ChargePointErrorCode.NO_ERROR,
        ErrorCode.OTHER_ERROR: ChargePointErrorCode.OTHER_ERROR,
        ErrorCode.OVER_CURRENT_FAILURE: ChargePointErrorCode.OVER_CURRENT_FAILURE,
        ErrorCode.OVER_VOLTAGE: ChargePointErrorCode.OVER_VOLTAGE,
        ErrorCode.POWER_METER_FAILURE: ChargePointErrorCode.POWER_METER_FAILURE,
        ErrorCode.POWER_SWITCH_FAILURE: ChargePointErrorCode.POWER_SWITCH_FAILURE,
        ErrorCode.READER_FAILURE: ChargePointErrorCode.READER_FAILURE,
        ErrorCode.RESET_FAILURE: ChargePointErrorCode.RESET_FAILURE,
        ErrorCode.UNDER_VOLTAGE: ChargePointErrorCode.UNDER_VOLTAGE,
        ErrorCode.WEAK_SIGNAL: ChargePointErrorCode.WEAK_SIGNAL,
    }
)
"""StatusNotification.errorCode (a ChargePointErrorCode)."""

ERROR_CODE_OF: Mapping[ChargePointErrorCode, ErrorCode] = _invert(ERROR_CODE)
"""The model's error code of a 1.6 one (``ocppctl sim fault CODE`` takes 1.6 words)."""

STOP_REASON: Mapping[StopReason, Reason] = MappingProxyType(
    {
        StopReason.EMERGENCY_STOP: Reason.EMERGENCY_STOP,
        StopReason.EV_DISCONNECTED: Reason.EV_DISCONNECTED,
        StopReason.HARD_RESET: Reason.HARD_RESET,
        StopReason.LOCAL: Reason.LOCAL,
        StopReason.OTHER: Reason.OTHER,
        StopReason.POWER_LOSS: Reason.POWER_LOSS,
        StopReason.REBOOT: Reason.REBOOT,
        StopReason.REMOTE: Reason.REMOTE,
        StopReason.SOFT_RESET: Reason.SOFT_RESET,
        StopReason.UNLOCK_COMMAND: Reason.UNLOCK_COMMAND,
        StopReason.DE_AUTHORIZED: Reason.DE_AUTHORIZED,
        # never in a 1.6 transaction (1.6 has no TxStartPoint/TxStopPoint: follows_points)
        StopReason.TIMEOUT: Reason.OTHER,
        StopReason.EV_STOPPED: Reason.OTHER,
    }
)
"""StopTransaction.reason (a Reason); the journal keeps this word in the stop's row."""

NEVER_IN_16 = frozenset({StopReason.TIMEOUT, StopReason.EV_STOPPED})
"""Reasons that end only transactions which begin or end at 2.0.1's points (a 1.6 transaction
follows 1.6's rule: ``TransactionLog.follows_points``): said Other, should one reach 1.6,
and never read back from a 1.6 word."""

STOP_REASON_OF: Mapping[Reason, StopReason] = _invert(
    {word: wire for word, wire in STOP_REASON.items() if word not in NEVER_IN_16}
)
"""The model's reason of a 1.6 one (a stop row the journal kept)."""

AVAILABILITY: Mapping[AvailabilityResult, AvailabilityStatus] = MappingProxyType(
    {
        AvailabilityResult.APPLIED: AvailabilityStatus.ACCEPTED,
        AvailabilityResult.SCHEDULED: AvailabilityStatus.SCHEDULED,
        AvailabilityResult.REJECTED: AvailabilityStatus.REJECTED,
    }
)
"""ChangeAvailability.conf status."""

UNLOCK: Mapping[UnlockResult, UnlockStatus] = MappingProxyType(
    {
        UnlockResult.UNLOCKED: UnlockStatus.UNLOCKED,
        UnlockResult.FAILED: UnlockStatus.UNLOCK_FAILED,
        UnlockResult.NO_LOCK: UnlockStatus.NOT_SUPPORTED,
    }
)
"""UnlockConnector.conf status."""

RESET_KIND: Mapping[ResetType, ResetKind] = MappingProxyType(
    {ResetType.SOFT: ResetKind.SOFT, ResetType.HARD: ResetKind.HARD}
)
"""Reset.req type, as the model's kind of restart."""

RESERVATION: Mapping[ReserveResult, ReservationStatus] = MappingProxyType(
    {
        ReserveResult.ACCEPTED: ReservationStatus.ACCEPTED,
        ReserveResult.FAULTED: ReservationStatus.FAULTED,
        ReserveResult.OCCUPIED: ReservationStatus.OCCUPIED,
        ReserveResult.REJECTED: ReservationStatus.REJECTED,
        ReserveResult.UNAVAILABLE: ReservationStatus.UNAVAILABLE,
    }
)
"""ReserveNow.conf status."""
