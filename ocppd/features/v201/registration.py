"""Registration in OCPP 2.0.1 (B01-B03): the BootNotification request, and the one call the
central system may make while it has Rejected us.

The rules are the same as 1.6's and live in ``features/core/registration.py``: boot on
every process start until Accepted (B01); Pending: answer the CSMS, send nothing of our
own but what it triggers, ask again after ``interval`` (B02.FR.01-02); Rejected: send
nothing until ``interval`` has passed (B03.FR.04) and answer nothing, since the CSMS
shall send nothing then but a TriggerMessage for a BootNotification (B03.FR.08), which
is answered.
"""

from __future__ import annotations

from typing import Any

from ocppd.config import ChargePointInfo
from ocppd.features.core.speech import BootReason
from ocppd.features.v201.words import BOOT_REASON
from ocppd.protocol.rpc import IncomingCall
from ocppd.protocol.v201 import messages as m
from ocppd.protocol.v201.enums import MessageTriggerEnumType


def boot_request(
    info: ChargePointInfo, firmware_version: str | None, reason: BootReason
) -> m.BootNotificationRequest:
    """B01: who we are. 2.0.1 has one serial number (the charge point's, else the charge
    box's) and no meter fields; the modem's ICCID and IMSI go in ``modem``."""
    modem = m.ModemType(iccid=info.iccid, imsi=info.imsi) if info.iccid or info.imsi else None
    return m.BootNotificationRequest(
        charging_station=m.ChargingStationType(
            model=info.model,
            vendor_name=info.vendor,
            serial_number=info.serial_number or info.charge_box_serial_number,
            modem=modem,
            firmware_version=info.firmware_version or firmware_version,
        ),
        reason=BOOT_REASON[reason],
    )


def answered_while_rejected(call: IncomingCall) -> bool:
    """B03.FR.08: while Rejected the CSMS may ask for a BootNotification, and nothing else."""
    request: Any = call.request
    return (
        isinstance(request, m.TriggerMessageRequest)
        and request.requested_message is MessageTriggerEnumType.BOOT_NOTIFICATION
    )
