"""StatusNotification in OCPP 2.0.1 (G01): a connector's status as 2.0.1 says it.

The reporting itself (every change in order, MinimumStatusDuration, the hold behind a
transaction message, every connector's status on each new connection, which is B04.FR.02)
is the Core's (``features/core/status_report.py``). 2.0.1 differs in the words:

- each 1.6 connector N is EVSE N with one connector, connectorId 1 (the design's
  decision 6); the charge point as a whole (1.6's connector 0) has no StatusNotification
  in 2.0.1 and is not reported;
- the status is one of five (``words.CONNECTOR_STATUS``); the error code and info do
  not travel (a fault is Faulted; its detail is a NotifyEvent, ``faults.py``);
- Occupied is a cable in the connector (G01: the connector status tells whether an EV is
  connected, the session's state travels in TransactionEvent's chargingState). 1.6's
  Preparing is also a driver who showed a tag or a remote start waiting for the cable,
  and its Finishing may outlast the cable: without a cable these are Available
  (H03.FR.10: a reserved EVSE whose driver showed the tag first stays Available until the
  cable; E03, authorization first). A transaction that waits for its cable (TxStartPoint
  Authorized) or goes on after it (StopTxOnEVSideDisconnect false) is Available too;
- the timestamp is required: when the time is not known yet the system clock is the
  best guess there is.
"""

from __future__ import annotations

from collections.abc import Hashable
from datetime import UTC, datetime

from ocppd.features.core.speech import StatusReport
from ocppd.features.v201.words import CONNECTOR_STATUS
from ocppd.model.status import ErrorCode, Status
from ocppd.protocol.v201 import messages as m
from ocppd.protocol.v201.enums import ConnectorStatusEnumType

CONNECTOR_ID = 1  # the one connector of each EVSE


def status_request(report: StatusReport) -> m.StatusNotificationRequest | None:
    if report.connector_id == 0:
        return None
    return m.StatusNotificationRequest(
        timestamp=report.at or datetime.now(UTC),
        connector_status=connector_status(report.status, report.plugged),
        evse_id=report.connector_id,
        connector_id=CONNECTOR_ID,
    )


def connector_status(status: Status, plugged: bool) -> ConnectorStatusEnumType:
    """The connector status word of a status, with or without a cable (module docstring)."""
    word = CONNECTOR_STATUS[status]
    if word is ConnectorStatusEnumType.OCCUPIED and not plugged:
        return ConnectorStatusEnumType.AVAILABLE
    return word


def heard(status: Status, _code: ErrorCode, _info: str | None, plugged: bool) -> Hashable:
    """What a 2.0.1 central system hears: the connector status word alone."""
    return connector_status(status, plugged)
