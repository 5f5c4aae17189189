"""Remote control in OCPP 2.0.1 (F): UnlockConnector (F05) and TriggerMessage (F06).

TriggerMessage works as 1.6's RemoteTrigger profile does: the answer goes out first
(F06.FR.04), the message after it, in the session (``Then``; the work belongs to this
link). The messages that can be asked for are data: every 2.0.1 block lists its own in
``Profile.triggers`` (message -> :data:`~ocppd.features.profile.Trigger`, given the
EVSE id asked for, or None), ``app.py`` joins them into the 2.0.1 services' triggers,
and a message nobody lists is NotImplemented. This module offers the four of
registration, heartbeat, status and meter values (:data:`TRIGGERS`); the transactions
block adds TransactionEvent, the security block the certificate signing.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from ocppd.features.link import open_session
from ocppd.features.profile import Handler, Services, Task, Trigger, TypedHandler
from ocppd.features.v201.metering import meter_value
from ocppd.features.v201.status import CONNECTOR_ID
from ocppd.features.v201.words import UNLOCK
from ocppd.protocol.v201 import messages as m
from ocppd.protocol.v201.enums import (
    MessageTriggerEnumType,
    TriggerMessageStatusEnumType,
    UnlockStatusEnumType,
)
from ocppd.session import CallFailure, Then

log = logging.getLogger(__name__)

NEEDS_CONNECTOR = frozenset({MessageTriggerEnumType.STATUS_NOTIFICATION.value})
"""Messages a TriggerMessage must name an EVSE and a connector for, else Rejected
(F06.FR.12: a StatusNotification is of one connector)."""


# --- F05 UnlockConnector ---


async def _unlock(services: Services, request: m.UnlockConnectorRequest) -> Any:
    connector = services.charger.connectors.get(request.evse_id)
    if connector is None or request.connector_id != CONNECTOR_ID:
        status = UnlockStatusEnumType.UNKNOWN_CONNECTOR  # F05.FR.03
    elif connector.tx is not None:
        # F05.FR.02: a transaction runs there: the cable stays locked and the transaction
        # goes on (the CSMS stops it first if it means to; 1.6 would have stopped it)
        status = UnlockStatusEnumType.ONGOING_AUTHORIZED_TRANSACTION
    else:
        status = UNLOCK[await connector.unlock()]  # F05.FR.04
    log.info(
        "UnlockConnector EVSE %d connector %d: %s", request.evse_id, request.connector_id, status
    )
    return m.UnlockConnectorResponse(status=status)


# --- F06 TriggerMessage: the messages of registration, heartbeat, status, meter values ---


def boot_notification(services: Services, _evse_id: int | None) -> Task | None:
    """F06.FR.17: Rejected once Accepted; while Pending or Rejected (B03.FR.08) it is sent,
    with reason Triggered, and its answer is taken as any BootNotification's."""
    if services.registration.accepted:
        return None

    async def send() -> None:
        await services.registration.send_boot(triggered=True)

    return send


def heartbeat(services: Services, _evse_id: int | None) -> Task | None:
    async def send() -> None:
        await services.heartbeat.send_heartbeat()

    return send


def status_notification(services: Services, evse_id: int | None) -> Task | None:
    """The one connector asked for (the handler checks it named one, F06.FR.12)."""
    if evse_id is None or evse_id not in services.charger.connectors:
        return None

    async def send() -> None:
        await services.statuses.send_status(evse_id)

    return send


def meter_values(services: Services, evse_id: int | None) -> Task | None:
    """Fresh values of the sampled measurands, context Trigger, of the EVSE asked for or
    of every EVSE (F06.FR.06). An EVSE this station does not have: Rejected."""
    charger = services.charger
    if evse_id is not None and evse_id not in charger.connectors:
        return None
    ids = [evse_id] if evse_id is not None else list(charger.connectors)

    async def send() -> None:
        for cid in ids:
            sample, _transaction = await charger.connectors[cid].sample_now()
            stamp = None if sample is None else services.clock.resolve_text(sample.timestamp)
            if sample is None or stamp is None:
                log.warning("triggered MeterValues of EVSE %d: no reading to send", cid)
                continue
            payload = {"evseId": cid, "meterValue": [meter_value(sample, stamp)]}
            await open_session(services.link).call_payload("MeterValues", payload)

    return send


TRIGGERS: Mapping[str, Trigger] = {
    MessageTriggerEnumType.BOOT_NOTIFICATION.value: boot_notification,
    MessageTriggerEnumType.HEARTBEAT.value: heartbeat,
    MessageTriggerEnumType.METER_VALUES.value: meter_values,
    MessageTriggerEnumType.STATUS_NOTIFICATION.value: status_notification,
}


def _guarded(what: str, work: Task) -> Task:
    """The work of a trigger, run in the session: a lost answer is a log line, and so is a
    bug (the session, and the link, go on)."""

    async def run() -> None:
        try:
            await work()
        except CallFailure as exc:
            log.warning("triggered %s not delivered: %s", what, exc)
        except Exception:
            log.exception("triggered %s failed (a bug; carrying on)", what)

    return run


async def _trigger(services: Services, request: m.TriggerMessageRequest) -> Any:
    wanted = request.requested_message.value
    evse = request.evse
    trigger = services.triggers.get(wanted)
    if trigger is None:
        log.info("TriggerMessage %s: NotImplemented", wanted)
        return m.TriggerMessageResponse(status=TriggerMessageStatusEnumType.NOT_IMPLEMENTED)
    work: Task | None = None
    if evse is not None and evse.connector_id not in (None, CONNECTOR_ID):
        pass  # a connector this station's EVSEs do not have
    elif wanted in NEEDS_CONNECTOR and (evse is None or evse.connector_id is None):
        pass  # F06.FR.12
    else:
        work = trigger(services, None if evse is None else evse.id)
    if work is None:
        log.info("TriggerMessage %s (%s): Rejected", wanted, evse)
        return m.TriggerMessageResponse(status=TriggerMessageStatusEnumType.REJECTED)
    log.info("TriggerMessage %s (%s): Accepted", wanted, evse)
    return Then(
        m.TriggerMessageResponse(status=TriggerMessageStatusEnumType.ACCEPTED),
        _guarded(wanted, work),
    )


def handlers(services: Services) -> Mapping[str, Handler]:
    async def unlock_connector(request: m.UnlockConnectorRequest) -> Any:
        return await _unlock(services, request)

    async def trigger_message(request: m.TriggerMessageRequest) -> Any:
        return await _trigger(services, request)

    return {
        "TriggerMessage": TypedHandler(m.TriggerMessageRequest, trigger_message),
        "UnlockConnector": TypedHandler(m.UnlockConnectorRequest, unlock_connector),
    }
