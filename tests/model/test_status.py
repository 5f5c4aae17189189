"""Status derivation and fault severity: the rule tables of ocppd/model/status.py, row by row."""

from __future__ import annotations

import pytest

from hal.base import Fault, FaultKind
from ocppd.features.core.words import ERROR_CODE
from ocppd.model.status import (
    FAULT_CODES,
    SEVERITY,
    ErrorCode,
    Facts,
    Severity,
    Status,
    charger_status,
    derive_status,
    is_blocking,
    worst,
)

BLOCKING, WARNING, NO_NEW = Severity.BLOCKING, Severity.WARNING, Severity.NO_NEW_SESSIONS

# The decisions, written out independently of the table: changing a row is a decision to
# take on purpose, in both places (and in docs/hardware.md).
DECIDED = [
    (FaultKind.POWER_SWITCH, BLOCKING, "PowerSwitchFailure"),  # welded or not following
    (FaultKind.CONNECTOR_LOCK, BLOCKING, "ConnectorLockFailure"),  # a live, unlocked socket
    (FaultKind.CONNECTOR_UNLOCK, WARNING, "ConnectorLockFailure"),  # the cable is held
    (FaultKind.HIGH_TEMPERATURE, BLOCKING, "HighTemperature"),  # tripped
    (FaultKind.TEMPERATURE_DERATING, WARNING, "HighTemperature"),  # the current is reduced
    (FaultKind.TEMPERATURE_SENSOR, BLOCKING, "OtherError"),  # nothing protects any more
    (FaultKind.GROUND_FAILURE, BLOCKING, "GroundFailure"),
    (FaultKind.OVER_CURRENT, BLOCKING, "OverCurrentFailure"),
    (FaultKind.OVER_VOLTAGE, BLOCKING, "OverVoltage"),
    (FaultKind.UNDER_VOLTAGE, BLOCKING, "UnderVoltage"),
    (FaultKind.EV_COMMUNICATION, WARNING, "EVCommunicationError"),  # a warning (1.6 §4.9)
    (FaultKind.POWER_METER, BLOCKING, "PowerMeterFailure"),  # billing needs the meter
    (FaultKind.CONTROLLER, BLOCKING, "OtherError"),
    (FaultKind.READER, WARNING, "ReaderFailure"),  # charging needs no reader
    (FaultKind.STORAGE, NO_NEW, "OtherError"),  # running sessions go on
    (FaultKind.DISPLAY, WARNING, "OtherError"),  # charging never depends on the screen
    (FaultKind.STORAGE_DAMAGE, WARNING, "OtherError"),  # damage set aside; the journal works
    (FaultKind.OTHER, BLOCKING, "OtherError"),  # unknown: the safe side
]


def test_every_fault_kind_has_a_severity_and_an_error_code():
    assert set(SEVERITY) == set(FaultKind) == set(FAULT_CODES)
    assert {kind for kind, _, _ in DECIDED} == set(FaultKind)


@pytest.mark.parametrize(("kind", "decided", "code"), DECIDED, ids=[k.value for k, _, _ in DECIDED])
def test_severity_row(kind: FaultKind, decided: Severity, code: str) -> None:
    assert SEVERITY[kind] is decided
    assert ERROR_CODE[FAULT_CODES[kind]].value == code
    assert is_blocking(Fault(kind)) is (decided is BLOCKING)


def test_the_fault_reported_is_the_worst_one():
    reader, meter, storage = (
        Fault(FaultKind.READER),
        Fault(FaultKind.POWER_METER),
        Fault(FaultKind.STORAGE),
    )
    assert worst([]) is None
    assert worst([reader]) is reader
    assert worst([reader, storage]) is storage
    assert worst([reader, storage, meter]) is meter


# derive_status: the first rule that matches wins (1.6 §4.9)
IDLE = Facts()
PLUGGED = Facts(plugged=True, ev_requesting=True)
TX = Facts(plugged=True, ev_requesting=True, authorized=False, transaction=True)
ROWS = [
    ("idle", IDLE, Status.AVAILABLE),
    ("cable in, no driver yet", Facts(plugged=True), Status.PREPARING),
    ("driver authorised, no cable yet", Facts(authorized=True), Status.PREPARING),
    ("reserved", Facts(reserved=True), Status.RESERVED),
    ("a cable alone leaves it reserved (E2)", Facts(plugged=True, reserved=True), Status.RESERVED),
    (
        "the reserved driver authorised (E2)",
        Facts(authorized=True, reserved=True),
        Status.PREPARING,
    ),
    ("held for the charge point's reservation (connector 0)", Facts(held=True), Status.RESERVED),
    ("a cable alone leaves a held one reserved", Facts(plugged=True, held=True), Status.RESERVED),
    (
        "the reserved driver authorised on a held one",
        Facts(authorized=True, held=True),
        Status.PREPARING,
    ),
    ("a held one inoperative", Facts(operative=False, held=True), Status.UNAVAILABLE),
    ("a held one faulted", Facts(faulted=True, held=True), Status.FAULTED),
    ("a held one finishing", Facts(plugged=True, finishing=True, held=True), Status.FINISHING),
    ("charging", TX, Status.CHARGING),
    ("the EV pauses", Facts(plugged=True, transaction=True), Status.SUSPENDED_EV),
    (
        "the charger does not permit energy",
        Facts(plugged=True, ev_requesting=True, transaction=True, evse_permits=False),
        Status.SUSPENDED_EVSE,
    ),
    (
        "SuspendedEVSE beats SuspendedEV (1.6 §4.9)",
        Facts(plugged=True, transaction=True, evse_permits=False),
        Status.SUSPENDED_EVSE,
    ),
    (
        "unplugged, transaction kept (StopTransactionOnEVSideDisconnect false)",
        Facts(transaction=True),
        Status.SUSPENDED_EV,
    ),
    ("transaction over, cable still in", Facts(plugged=True, finishing=True), Status.FINISHING),
    ("inoperative", Facts(operative=False), Status.UNAVAILABLE),
    ("inoperative beats a cable", Facts(operative=False, plugged=True), Status.UNAVAILABLE),
    (
        "inoperative scheduled: the transaction goes on",
        Facts(operative=False, plugged=True, ev_requesting=True, transaction=True),
        Status.CHARGING,
    ),
    (
        "the transaction ended on an inoperative connector (C8)",
        Facts(operative=False, plugged=True, finishing=True),
        Status.UNAVAILABLE,
    ),
    ("a blocking fault", Facts(faulted=True), Status.FAULTED),
    (
        "a blocking fault during a transaction",
        Facts(faulted=True, plugged=True, ev_requesting=True, transaction=True),
        Status.FAULTED,
    ),
    ("faulted beats inoperative", Facts(faulted=True, operative=False), Status.FAULTED),
]


@pytest.mark.parametrize(("facts", "status"), [r[1:] for r in ROWS], ids=[r[0] for r in ROWS])
def test_derive_status_row(facts: Facts, status: Status) -> None:
    assert derive_status(facts) is status


CHARGE_POINT_ROWS = [
    ("ready", dict(ready=True, charging=False, faulted=False), Status.AVAILABLE),
    ("charging", dict(ready=True, charging=True, faulted=False), Status.AVAILABLE),
    ("inoperative, idle", dict(ready=False, charging=False, faulted=False), Status.UNAVAILABLE),
    (
        "inoperative scheduled: still charging (1.6 §5.2)",
        dict(ready=False, charging=True, faulted=False),
        Status.AVAILABLE,
    ),
    (
        "a charger-wide blocking fault",
        dict(ready=True, charging=True, faulted=True),
        Status.FAULTED,
    ),
]


@pytest.mark.parametrize(
    ("facts", "status"), [r[1:] for r in CHARGE_POINT_ROWS], ids=[r[0] for r in CHARGE_POINT_ROWS]
)
def test_charge_point_status_row(facts: dict[str, bool], status: Status) -> None:
    assert charger_status(**facts) is status


def test_error_codes_are_the_1_6_spellings():
    assert {ERROR_CODE[c].value for c in FAULT_CODES.values()} <= {
        ERROR_CODE[c].value for c in ErrorCode
    }
