"""The model's words as OCPP 2.0.1 says them: one table per model enum, total, in one place.

The 2.0.1 twin of ``features/core/words.py`` (1.6). The model's words do not change with
the version; only how they are said does. Every table is total
(tests/v201/test_words.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from ocppd.features.core.speech import BootReason
from ocppd.journal.records import TxWords
from ocppd.model.outcomes import AvailabilityResult, ReserveResult, UnlockResult
from ocppd.model.status import Status
from ocppd.model.txpoints import TxPoint
from ocppd.protocol.v201.enums import (
    BootReasonEnumType,
    ChangeAvailabilityStatusEnumType,
    ConnectorStatusEnumType,
    ReserveNowStatusEnumType,
    UnlockStatusEnumType,
)

CONNECTOR_STATUS: Mapping[Status, ConnectorStatusEnumType] = MappingProxyType(
    {
        Status.AVAILABLE: ConnectorStatusEnumType.AVAILABLE,
        # 2.0.1 says whether the connector is in use, not how far the session is (G01: a
        # cable plugged in, a transaction, an EV that pauses are all Occupied)
        Status.PREPARING: ConnectorStatusEnumType.OCCUPIED,
        Status.CHARGING: ConnectorStatusEnumType.OCCUPIED,
        Status.SUSPENDED_EVSE: ConnectorStatusEnumType.OCCUPIED,
        Status.SUSPENDED_EV: ConnectorStatusEnumType.OCCUPIED,
        Status.FINISHING: ConnectorStatusEnumType.OCCUPIED,
        Status.RESERVED: ConnectorStatusEnumType.RESERVED,
        Status.UNAVAILABLE: ConnectorStatusEnumType.UNAVAILABLE,
        Status.FAULTED: ConnectorStatusEnumType.FAULTED,
    }
)
"""StatusNotification.connectorStatus."""

BOOT_REASON: Mapping[BootReason, BootReasonEnumType] = MappingProxyType(
    {
        BootReason.POWER_UP: BootReasonEnumType.POWER_UP,
        BootReason.TRIGGERED: BootReasonEnumType.TRIGGERED,
        BootReason.REMOTE_RESET: BootReasonEnumType.REMOTE_RESET,
    }
)
"""BootNotification.reason."""

AVAILABILITY: Mapping[AvailabilityResult, ChangeAvailabilityStatusEnumType] = MappingProxyType(
    {
        AvailabilityResult.APPLIED: ChangeAvailabilityStatusEnumType.ACCEPTED,
        AvailabilityResult.SCHEDULED: ChangeAvailabilityStatusEnumType.SCHEDULED,
        AvailabilityResult.REJECTED: ChangeAvailabilityStatusEnumType.REJECTED,
    }
)
"""ChangeAvailabilityResponse.status."""

UNLOCK: Mapping[UnlockResult, UnlockStatusEnumType] = MappingProxyType(
    {
        UnlockResult.UNLOCKED: UnlockStatusEnumType.UNLOCKED,
        UnlockResult.FAILED: UnlockStatusEnumType.UNLOCK_FAILED,
        # 2.0.1 has no "not supported": a connector without a lock cannot free the cable
        # either, and the CSMS learns that it did not come free
        UnlockResult.NO_LOCK: UnlockStatusEnumType.UNLOCK_FAILED,
    }
)
"""UnlockConnectorResponse.status, for a connector that exists and runs no transaction
(the two other words are the handler's: UnknownConnector, OngoingAuthorizedTransaction)."""

TX_POINT: Mapping[TxPoint, str] = MappingProxyType(
    {
        TxPoint.EV_CONNECTED: "EVConnected",
        TxPoint.AUTHORIZED: "Authorized",
        TxPoint.POWER_PATH_CLOSED: "PowerPathClosed",
        TxPoint.ENERGY_TRANSFER: "EnergyTransfer",
    }
)
"""TxCtrlr.TxStartPoint / TxStopPoint members (2.0.1 Part 2, TxStartStopPointEnumType). The
two others, ParkingBayOccupancy and DataSigned, need a bay sensor and a signing meter this
charger does not have: SetVariables with them is Rejected."""

TX_POINT_BY_WORD: Mapping[str, TxPoint] = MappingProxyType(
    {word: point for point, word in TX_POINT.items()}
)

V201_WORDS = TxWords("ocpp2.0.1", "TransactionEvent", "TransactionEvent", "TransactionEvent")
"""What the journal stores with each 2.0.1 message: its protocol, and TransactionEvent as
the action of every row of a transaction's life (Started, Updated, Ended)."""

RESERVATION: Mapping[ReserveResult, ReserveNowStatusEnumType] = MappingProxyType(
    {
        ReserveResult.ACCEPTED: ReserveNowStatusEnumType.ACCEPTED,
        ReserveResult.FAULTED: ReserveNowStatusEnumType.FAULTED,  # H01.FR.12
        ReserveResult.OCCUPIED: ReserveNowStatusEnumType.OCCUPIED,  # H01.FR.11
        ReserveResult.REJECTED: ReserveNowStatusEnumType.REJECTED,
        ReserveResult.UNAVAILABLE: ReserveNowStatusEnumType.UNAVAILABLE,  # H01.FR.14
    }
)
"""ReserveNowResponse.status (H01)."""
