"""The RemoteTrigger profile (OCPP 1.6 §5.17 TriggerMessage): the central system asks for a
message now.

The answer goes out first, the message after it (``Then``: the session starts the work
once the answer is on the wire, and the work belongs to this link). Which messages can be
asked for is data: every profile lists its own in ``Profile.triggers`` (``app.py`` joins
them into ``Services.triggers``). This profile offers the Core's (BootNotification,
Heartbeat, StatusNotification, MeterValues) through the Core's send-now verbs; Firmware
Management adds DiagnosticsStatusNotification and FirmwareStatusNotification the same
way. A message no profile offers is answered NotImplemented (§5.17). A connectorId is
for the message to judge: where it matters (StatusNotification, MeterValues) one this
charger does not have is Rejected; where it does not (Heartbeat, BootNotification) it is
ignored and the message sent (§5.17: "the requested message is leading").
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any

from ocppd.features.core.transactions import meter_value
from ocppd.features.link import open_session
from ocppd.features.profile import Handler, Profile, Services, Site, Task, Trigger, TypedHandler
from ocppd.model.keys import KeySpec
from ocppd.protocol.v16 import messages as m
from ocppd.protocol.v16.enums import MessageTrigger, TriggerMessageStatus
from ocppd.session import CallFailure, Then

log = logging.getLogger(__name__)


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


# --- the Core's messages ---


def boot_notification(services: Services, _connector_id: int | None) -> Task | None:
    """Only while not yet Accepted (Pending): once Accepted, the central system shall not
    ask for a BootNotification (errata 2025-04 §3.40; §3.35 in older sheets, which
    recommend rejecting it), and one would register again from the start. Its answer is
    taken as any BootNotification's (an Accepted one ends Pending)."""
    if services.registration.accepted:
        return None

    async def send() -> None:
        await services.registration.send_boot()

    return send


def heartbeat(services: Services, _connector_id: int | None) -> Task | None:
    async def send() -> None:
        await services.heartbeat.send_heartbeat()

    return send


def status_notification(services: Services, connector_id: int | None) -> Task | None:
    """The status of the connector asked for (0: the charge point), or of the charge point
    and every connector. A connector this charger does not have: Rejected."""
    connectors = services.charger.connectors
    if connector_id is not None and connector_id != 0 and connector_id not in connectors:
        return None
    ids = [connector_id] if connector_id is not None else [0, *connectors]

    async def send() -> None:
        for cid in ids:
            await services.statuses.send_status(cid)

    return send


def meter_values(services: Services, connector_id: int | None) -> Task | None:
    """Fresh values of MeterValuesSampledData, context Trigger, of the connector asked for
    or of every connector, with the transaction they belong to. Connector 0 (a meter of
    the whole charge point) this charger does not have: Rejected, as is a connector it
    does not have."""
    charger = services.charger
    if connector_id is not None and connector_id not in charger.connectors:
        return None
    ids = [connector_id] if connector_id is not None else list(charger.connectors)

    async def send() -> None:
        for cid in ids:
            sample, transaction_id = await charger.connectors[cid].sample_now()
            if sample is None:
                log.warning("triggered MeterValues of connector %d: no reading to send", cid)
                continue
            payload: dict[str, Any] = {"connectorId": cid, "meterValue": [meter_value(sample)]}
            if transaction_id is not None:
                payload["transactionId"] = transaction_id
            await open_session(services.link).call_payload("MeterValues", payload)

    return send


TRIGGERS: Mapping[str, Trigger] = {
    MessageTrigger.BOOT_NOTIFICATION.value: boot_notification,
    MessageTrigger.HEARTBEAT.value: heartbeat,
    MessageTrigger.METER_VALUES.value: meter_values,
    MessageTrigger.STATUS_NOTIFICATION.value: status_notification,
}


# --- the call ---


def _handlers(services: Services) -> Mapping[str, Handler]:
    async def trigger_message(request: m.TriggerMessageRequest) -> Any:
        wanted = request.requested_message.value
        cid = request.connector_id
        trigger = services.triggers.get(wanted)
        if trigger is None:
            log.info("TriggerMessage %s: NotImplemented", wanted)
            return m.TriggerMessageResponse(status=TriggerMessageStatus.NOT_IMPLEMENTED)
        work = trigger(services, cid)
        if work is None:
            log.info("TriggerMessage %s (connector %s): Rejected", wanted, cid)
            return m.TriggerMessageResponse(status=TriggerMessageStatus.REJECTED)
        log.info("TriggerMessage %s (connector %s): Accepted", wanted, cid)
        return Then(
            m.TriggerMessageResponse(status=TriggerMessageStatus.ACCEPTED),
            _guarded(wanted, work),
        )

    return {"TriggerMessage": TypedHandler(m.TriggerMessageRequest, trigger_message)}


def _keys(_site: Site) -> Iterable[KeySpec]:
    return ()


profile = Profile("RemoteTrigger", keys=_keys, handlers=_handlers, triggers=TRIGGERS)
