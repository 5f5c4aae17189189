"""How one OCPP version says the messages every connection sends of its own: the
BootNotification, the Heartbeat and the StatusNotification.

Registration, heartbeat and status reporting (``registration.py``, ``heartbeat.py``,
``status_report.py``) are the same in 1.6 and 2.0.1: the same state, timers and order,
the same answers to read (``status``, ``interval``, ``currentTime`` are spelled alike in
both). Only the requests differ. A :class:`Speech` is that difference as data: one per
version, chosen per session by the subprotocol it speaks (:func:`speech_of`).
:data:`V16_SPEECH` is 1.6's; 2.0.1's is in ``features/v201/``.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from types import MappingProxyType
from typing import Any

from ocppd.config import ChargePointInfo
from ocppd.features.core.words import ERROR_CODE, STATUS
from ocppd.model.status import ErrorCode, Status
from ocppd.protocol.v16 import messages as m
from ocppd.session import Session


class BootReason(Enum):
    """Why a BootNotification is sent, in the charger's words (2.0.1 says it; 1.6 does not)."""

    POWER_UP = "power-up"  # the daemon started (after a power cut, an update, a restart)
    TRIGGERED = "triggered"  # the central system asked for it (TriggerMessage)
    REMOTE_RESET = "remote-reset"  # the central system's Reset restarted the daemon


@dataclass(frozen=True, slots=True)
class StatusReport:
    """One connector's status as the reporter sends it (0: the charge point as a whole)."""

    connector_id: int
    status: Status
    error_code: ErrorCode
    info: str | None
    vendor_error_code: str | None
    at: datetime | None  # when it began (None: the time is not known yet)
    plugged: bool = False  # a cable is in (2.0.1's Occupied; 1.6 does not say it apart)


@dataclass(frozen=True, slots=True)
class Speech:
    """One OCPP version's requests for the Core's own messages.

    - ``boot(info, firmware_version, reason)``: the BootNotification request;
    - ``heartbeat()``: the Heartbeat request;
    - ``status(report)``: the StatusNotification request, or None when this version does
      not report that connector (2.0.1 has no station-wide status);
    - ``heard(status, error_code, info, plugged)``: what the central system hears of a
      status; two statuses it hears alike are one (2.0.1's Occupied covers Charging and
      SuspendedEV; a driver's tag without a cable is Preparing in 1.6, Available in 2.0.1).
    """

    boot: Callable[[ChargePointInfo, str | None, BootReason], Any]
    heartbeat: Callable[[], Any]
    status: Callable[[StatusReport], Any | None]
    heard: Callable[[Status, ErrorCode, str | None, bool], Hashable]


def _v16_boot(info: ChargePointInfo, firmware_version: str | None, _reason: BootReason) -> Any:
    return m.BootNotificationRequest(
        charge_point_vendor=info.vendor,
        charge_point_model=info.model,
        charge_point_serial_number=info.serial_number,
        charge_box_serial_number=info.charge_box_serial_number,
        firmware_version=info.firmware_version or firmware_version,
        iccid=info.iccid,
        imsi=info.imsi,
        meter_type=info.meter_type,
        meter_serial_number=info.meter_serial_number,
    )


def _v16_status(report: StatusReport) -> Any:
    return m.StatusNotificationRequest(
        connector_id=report.connector_id,
        error_code=ERROR_CODE[report.error_code],
        status=STATUS[report.status],
        info=report.info,
        timestamp=report.at,  # when it changed, not now (None: left out, 1.6 §6.47)
        vendor_error_code=report.vendor_error_code,
    )


V16_SPEECH = Speech(
    boot=_v16_boot,
    heartbeat=m.HeartbeatRequest,
    status=_v16_status,
    heard=lambda status, code, info, _plugged: (status, code, info),
)
"""OCPP 1.6's BootNotification, Heartbeat and StatusNotification."""

V16_ONLY: Mapping[str, Speech] = MappingProxyType({"ocpp1.6": V16_SPEECH})
"""The speeches of a daemon that speaks 1.6 alone (the pieces' default)."""


def speech_of(speeches: Mapping[str, Speech], session: Session) -> Speech:
    """The speech of the version ``session`` speaks (a version without one is a wiring
    mistake: KeyError)."""
    return speeches[session.rpc.dialect.subprotocol]
