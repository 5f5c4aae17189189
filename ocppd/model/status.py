"""Connector status, derived from facts rather than assigned.

:func:`derive_status` is a pure function of :class:`Facts` (what the hardware and
the transaction logic know), written as an ordered rule table in the manner of
MicroOcpp's ``getStatus``: the first rule that matches wins. The values are the
OCPP 1.6 ChargePointStatus strings; a later dialect maps them to its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from hal.base import Fault, FaultKind


class Status(StrEnum):
    AVAILABLE = "Available"
    PREPARING = "Preparing"
    CHARGING = "Charging"
    SUSPENDED_EVSE = "SuspendedEVSE"
    SUSPENDED_EV = "SuspendedEV"
    FINISHING = "Finishing"
    RESERVED = "Reserved"
    UNAVAILABLE = "Unavailable"
    FAULTED = "Faulted"


class ErrorCode(StrEnum):
    """ChargePointErrorCode values."""

    CONNECTOR_LOCK_FAILURE = "ConnectorLockFailure"
    EV_COMMUNICATION_ERROR = "EVCommunicationError"
    GROUND_FAILURE = "GroundFailure"
    HIGH_TEMPERATURE = "HighTemperature"
    INTERNAL_ERROR = "InternalError"
    LOCAL_LIST_CONFLICT = "LocalListConflict"
    NO_ERROR = "NoError"
    OTHER_ERROR = "OtherError"
    OVER_CURRENT_FAILURE = "OverCurrentFailure"
    OVER_VOLTAGE = "OverVoltage"
    POWER_METER_FAILURE = "PowerMeterFailure"
    POWER_SWITCH_FAILURE = "PowerSwitchFailure"
    READER_FAILURE = "ReaderFailure"
    RESET_FAILURE = "ResetFailure"
    UNDER_VOLTAGE = "UnderVoltage"
    WEAK_SIGNAL = "WeakSignal"


# What each hardware fault is called on the wire.
FAULT_CODES: dict[FaultKind, ErrorCode] = {
    FaultKind.POWER_METER: ErrorCode.POWER_METER_FAILURE,
    FaultKind.READER: ErrorCode.READER_FAILURE,
    FaultKind.POWER_SWITCH: ErrorCode.POWER_SWITCH_FAILURE,
    FaultKind.CONNECTOR_LOCK: ErrorCode.CONNECTOR_LOCK_FAILURE,
    FaultKind.HIGH_TEMPERATURE: ErrorCode.HIGH_TEMPERATURE,
    FaultKind.GROUND_FAILURE: ErrorCode.GROUND_FAILURE,
    FaultKind.OVER_CURRENT: ErrorCode.OVER_CURRENT_FAILURE,
    FaultKind.OVER_VOLTAGE: ErrorCode.OVER_VOLTAGE,
    FaultKind.UNDER_VOLTAGE: ErrorCode.UNDER_VOLTAGE,
    FaultKind.EV_COMMUNICATION: ErrorCode.EV_COMMUNICATION_ERROR,
    FaultKind.CONTROLLER: ErrorCode.OTHER_ERROR,
    FaultKind.OTHER: ErrorCode.OTHER_ERROR,
}

# The reverse, for `ocppctl sim fault CONNECTOR CODE`.
CODE_FAULTS: dict[ErrorCode, FaultKind] = {
    ErrorCode.INTERNAL_ERROR: FaultKind.OTHER,
    ErrorCode.WEAK_SIGNAL: FaultKind.OTHER,
    ErrorCode.RESET_FAILURE: FaultKind.OTHER,
    **{code: kind for kind, code in FAULT_CODES.items() if kind is not FaultKind.CONTROLLER},
}

# Severity: which faults make a connector Faulted (no energy may flow). The others are
# reported as an errorCode beside a normal status. EVCommunicationError is a warning by
# definition (1.6 §4.9, only with Preparing, SuspendedEV/EVSE or Finishing).
WARNING_ONLY = frozenset({FaultKind.EV_COMMUNICATION})


def is_blocking(fault: Fault) -> bool:
    return fault.blocks_charging and fault.kind not in WARNING_ONLY


@dataclass(frozen=True, slots=True)
class Facts:
    """Everything the status of one connector depends on."""

    operative: bool = True  # ChangeAvailability (Inoperative -> False), applied
    plugged: bool = False
    ev_requesting: bool = False
    faulted: bool = False  # a blocking fault is active
    authorized: bool = False  # a driver is authorised and a transaction is about to start
    transaction: bool = False  # a transaction runs
    evse_permits: bool = True  # the charger allows energy (False: invalid id, limit 0, ...)
    finishing: bool = False  # the transaction ended; the cable or the EV is still there
    reserved: bool = False


def derive_status(f: Facts) -> Status:
    """The OCPP 1.6 status of a connector (1.6 §4.9 and the transition table)."""
    if f.faulted:
        return Status.FAULTED
    if f.transaction:
        if not f.evse_permits:
            return Status.SUSPENDED_EVSE
        if not f.ev_requesting:
            return Status.SUSPENDED_EV
        return Status.CHARGING
    if not f.operative:
        return Status.UNAVAILABLE
    if f.finishing:
        return Status.FINISHING
    if f.plugged or f.authorized:
        return Status.PREPARING
    if f.reserved:
        return Status.RESERVED
    return Status.AVAILABLE


def charger_status(operative: bool, faulted: bool) -> Status:
    """Connector 0 (the charge point as a whole) only takes Available, Unavailable, Faulted."""
    if faulted:
        return Status.FAULTED
    return Status.AVAILABLE if operative else Status.UNAVAILABLE
