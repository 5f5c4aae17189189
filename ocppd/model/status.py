"""Connector status, derived from facts rather than assigned.

:func:`derive_status` is a pure function of :class:`Facts` (what the hardware and
the transaction logic know), written as an ordered rule table in the manner of
MicroOcpp's ``getStatus``: the first rule that matches wins.

The words are the model's own (:class:`Status`, :class:`ErrorCode`): each OCPP version
maps them to its wire words in one place (OCPP 1.6: ``ocppd/features/core/words.py``;
2.0.1 would fold Preparing, Charging, the suspended states and Finishing into Occupied
there, as MicroOcpp does).

What a fault means for charging is decided here too, in one table (:data:`SEVERITY`):
devices report what they see (``hal.base.FaultKind``), never whether energy may flow.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from hal.base import Fault, FaultKind


class Status(StrEnum):
    """What a connector is doing, as people and the logs say it."""

    AVAILABLE = "available"
    PREPARING = "preparing"  # a driver or a cable is there, no transaction yet
    CHARGING = "charging"
    SUSPENDED_EVSE = "suspended by the charger"  # a transaction, the charger gives no energy
    SUSPENDED_EV = "suspended by the EV"  # a transaction, the EV takes no energy
    FINISHING = "finishing"  # the transaction ended; the cable or the EV is still there
    RESERVED = "reserved"
    UNAVAILABLE = "unavailable"
    FAULTED = "faulted"


class ErrorCode(StrEnum):
    """What is wrong, as a connector (or the charger, connector 0) reports it."""

    CONNECTOR_LOCK_FAILURE = "connector lock failure"
    EV_COMMUNICATION_ERROR = "EV communication error"
    GROUND_FAILURE = "ground failure"
    HIGH_TEMPERATURE = "high temperature"
    INTERNAL_ERROR = "internal error"
    LOCAL_LIST_CONFLICT = "local list conflict"
    NO_ERROR = "no error"
    OTHER_ERROR = "other error"
    OVER_CURRENT_FAILURE = "over-current failure"
    OVER_VOLTAGE = "over-voltage"
    POWER_METER_FAILURE = "power meter failure"
    POWER_SWITCH_FAILURE = "power switch failure"
    READER_FAILURE = "reader failure"
    RESET_FAILURE = "reset failure"
    UNDER_VOLTAGE = "under-voltage"
    WEAK_SIGNAL = "weak signal"


# What each fault is reported as.
FAULT_CODES: dict[FaultKind, ErrorCode] = {
    FaultKind.POWER_METER: ErrorCode.POWER_METER_FAILURE,
    FaultKind.READER: ErrorCode.READER_FAILURE,
    FaultKind.POWER_SWITCH: ErrorCode.POWER_SWITCH_FAILURE,
    FaultKind.CONNECTOR_LOCK: ErrorCode.CONNECTOR_LOCK_FAILURE,
    FaultKind.CONNECTOR_UNLOCK: ErrorCode.CONNECTOR_LOCK_FAILURE,
    FaultKind.HIGH_TEMPERATURE: ErrorCode.HIGH_TEMPERATURE,
    FaultKind.TEMPERATURE_DERATING: ErrorCode.HIGH_TEMPERATURE,
    FaultKind.TEMPERATURE_SENSOR: ErrorCode.OTHER_ERROR,
    FaultKind.GROUND_FAILURE: ErrorCode.GROUND_FAILURE,
    FaultKind.OVER_CURRENT: ErrorCode.OVER_CURRENT_FAILURE,
    FaultKind.OVER_VOLTAGE: ErrorCode.OVER_VOLTAGE,
    FaultKind.UNDER_VOLTAGE: ErrorCode.UNDER_VOLTAGE,
    FaultKind.EV_COMMUNICATION: ErrorCode.EV_COMMUNICATION_ERROR,
    FaultKind.CONTROLLER: ErrorCode.OTHER_ERROR,
    FaultKind.STORAGE: ErrorCode.OTHER_ERROR,
    FaultKind.DISPLAY: ErrorCode.OTHER_ERROR,
    FaultKind.STORAGE_DAMAGE: ErrorCode.OTHER_ERROR,
    FaultKind.OTHER: ErrorCode.OTHER_ERROR,
}

# The fault `ocppctl sim fault CONNECTOR CODE` raises for each error code.
CODE_FAULTS: dict[ErrorCode, FaultKind] = {
    ErrorCode.CONNECTOR_LOCK_FAILURE: FaultKind.CONNECTOR_LOCK,
    ErrorCode.EV_COMMUNICATION_ERROR: FaultKind.EV_COMMUNICATION,
    ErrorCode.GROUND_FAILURE: FaultKind.GROUND_FAILURE,
    ErrorCode.HIGH_TEMPERATURE: FaultKind.HIGH_TEMPERATURE,
    ErrorCode.INTERNAL_ERROR: FaultKind.OTHER,
    ErrorCode.OTHER_ERROR: FaultKind.OTHER,
    ErrorCode.OVER_CURRENT_FAILURE: FaultKind.OVER_CURRENT,
    ErrorCode.OVER_VOLTAGE: FaultKind.OVER_VOLTAGE,
    ErrorCode.POWER_METER_FAILURE: FaultKind.POWER_METER,
    ErrorCode.POWER_SWITCH_FAILURE: FaultKind.POWER_SWITCH,
    ErrorCode.READER_FAILURE: FaultKind.READER,
    ErrorCode.RESET_FAILURE: FaultKind.OTHER,
    ErrorCode.UNDER_VOLTAGE: FaultKind.UNDER_VOLTAGE,
    ErrorCode.WEAK_SIGNAL: FaultKind.OTHER,
}


class Severity(StrEnum):
    """What a fault does to charging. Every fault is reported (its errorCode); the severity
    decides what else happens."""

    WARNING = "warning"
    """Reported beside the status the connector really has; charging goes on (1.6 §4.9: a
    status other than Faulted with an errorCode is a warning)."""

    NO_NEW_SESSIONS = "no-new-sessions"
    """Running transactions go on; no new one may start (idle connectors: Unavailable)."""

    BLOCKING = "blocking"
    """No energy may flow: the connector is Faulted with the fault's errorCode, its contactor
    opens and no session starts. A running transaction is kept, without energy, and resumes
    when the fault clears; the driver can still end it (tag, RemoteStop, unplugging)."""


# Severity is the charger logic's decision, not the drivers' (they report what they see).
# One row per fault kind, tested row by row (tests/model/test_status.py); docs/hardware.md
# shows the same table to installers.
SEVERITY: dict[FaultKind, Severity] = {
    # the contactor does not follow its command, or is welded: energy cannot be controlled
    FaultKind.POWER_SWITCH: Severity.BLOCKING,
    # the cable lock did not lock: a socket outlet must not be live while the plug can be
    # pulled (IEC 61851-1, case B)
    FaultKind.CONNECTOR_LOCK: Severity.BLOCKING,
    # the cable lock did not release: the cable is held, charging itself is safe
    FaultKind.CONNECTOR_UNLOCK: Severity.WARNING,
    # at or above the trip temperature
    FaultKind.HIGH_TEMPERATURE: Severity.BLOCKING,
    # hot, current reduced (the sensor's CurrentAvailable does the derating)
    FaultKind.TEMPERATURE_DERATING: Severity.WARNING,
    # without the sensor nothing protects against overheating
    FaultKind.TEMPERATURE_SENSOR: Severity.BLOCKING,
    FaultKind.GROUND_FAILURE: Severity.BLOCKING,
    FaultKind.OVER_CURRENT: Severity.BLOCKING,
    FaultKind.OVER_VOLTAGE: Severity.BLOCKING,
    FaultKind.UNDER_VOLTAGE: Severity.BLOCKING,
    # a warning by definition: only with Preparing, SuspendedEV/EVSE or Finishing (1.6 §4.9)
    FaultKind.EV_COMMUNICATION: Severity.WARNING,
    # billing needs the meter: energy that flows while the meter cannot be read has no
    # meterStop to bill it by. Energy stops and the transaction waits; the fault clears by
    # itself within a poll of the meter answering again, and charging resumes
    FaultKind.POWER_METER: Severity.BLOCKING,
    # an EVSE controller board that failed or stopped answering
    FaultKind.CONTROLLER: Severity.BLOCKING,
    # charging needs no reader (remote starts, running sessions); report it on connector 0
    FaultKind.READER: Severity.WARNING,
    # the journal cannot be written: a stop is retried until it lands, but a session that
    # starts now could not be journaled
    FaultKind.STORAGE: Severity.NO_NEW_SESSIONS,
    # the local display tells the driver what happens; charging never depends on it
    FaultKind.DISPLAY: Severity.WARNING,
    # damaged journal records or files were set aside (docs/journal.md); the journal works,
    # so charging goes on: the owner is told (connector 0) and acts
    FaultKind.STORAGE_DAMAGE: Severity.WARNING,
    # unknown: the safe side
    FaultKind.OTHER: Severity.BLOCKING,
}


def severity(fault: Fault) -> Severity:
    return SEVERITY[fault.kind]


def is_blocking(fault: Fault) -> bool:
    return SEVERITY[fault.kind] is Severity.BLOCKING


def worst(faults: Iterable[Fault]) -> Fault | None:
    """The fault to report: the first blocking one, else the first that stops new sessions,
    else the first warning (None without faults)."""
    order = (Severity.BLOCKING, Severity.NO_NEW_SESSIONS, Severity.WARNING)
    found = sorted(faults, key=lambda f: order.index(SEVERITY[f.kind]))
    return found[0] if found else None


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
    reserved: bool = False  # a reservation keeps the connector for one driver (§3.11)
    # the charge point's reservation (connector 0) keeps this connector: it is the last free
    # one (model/reservation.py, Reservations.held; the Charger keeps it current)
    held: bool = False


@dataclass(frozen=True, slots=True)
class Reported:
    """What the central system should know about a connector, or (connector 0) about the
    charge point as a whole."""

    status: Status
    error_code: ErrorCode
    info: str | None
    vendor_error_code: str | None
    # a cable is in the connector (the EV's, or one held locked in the socket after the EV
    # left): 1.6's statuses do not always say it (Preparing is a cable or a driver, Finishing
    # a cable or not); OCPP 2.0.1's Occupied is the cable
    plugged: bool = False


def derive_status(f: Facts) -> Status:
    """The status of a connector (the rules of 1.6 §4.9 and its transition table)."""
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
    if f.authorized:
        return Status.PREPARING
    if f.reserved or f.held:
        # a cable alone leaves a reserved connector Reserved: only the reserved identity
        # makes it Preparing (1.6 §4.9, transition E2). The last free connector under a
        # connector-0 reservation is as reserved as one named by its own (OCTT TC_049)
        return Status.RESERVED
    if f.plugged:
        return Status.PREPARING
    return Status.AVAILABLE


def charger_status(*, ready: bool, charging: bool, faulted: bool) -> Status:
    """Connector 0, the charge point as a whole: only Available, Unavailable or Faulted.

    1.6 §5.2: a charge point is available ("operative") when it is charging or ready for
    charging, unavailable when it does not allow any charging. So after a ChangeAvailability(0,
    Inoperative) answered Scheduled, connector 0 stays Available until the last transaction
    has ended (the connectors themselves take no new session from the moment it was asked).
    """
    if faulted:
        return Status.FAULTED
    return Status.AVAILABLE if ready or charging else Status.UNAVAILABLE
