"""ChangeAvailability in OCPP 2.0.1 (G03 an EVSE or a connector, G04 the station).

The model's verb is the one 1.6 uses (``Charger.change_availability``): persisted
first, in force at once or, while a transaction runs there, Scheduled until it ends
(G03.FR.05, G04.FR.06); a status change follows as a StatusNotification (G03.FR.03,
G04.FR.03). Each EVSE has one connector (connectorId 1), so an EVSE and its connector
are one: the model's connector N.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from ocppd.features.profile import Handler, Services, TypedHandler
from ocppd.features.v201.status import CONNECTOR_ID
from ocppd.features.v201.words import AVAILABILITY
from ocppd.model.outcomes import AvailabilityResult
from ocppd.protocol.v201 import messages as m
from ocppd.protocol.v201.enums import ChangeAvailabilityStatusEnumType, OperationalStatusEnumType
from ocppd.session import CallFailure, Then

log = logging.getLogger(__name__)

STATION = 0  # the model's connector 0: the charge point as a whole


def target(services: Services, evse: m.EVSEType | None) -> int | None:
    """The model's connector an ``evse`` names (STATION without one, or EVSE 0), or None
    when this station has no such EVSE or connector."""
    if evse is None or evse.id == 0:
        return STATION if evse is None or evse.connector_id is None else None
    if evse.id not in services.charger.connectors:
        return None
    if evse.connector_id is not None and evse.connector_id != CONNECTOR_ID:
        return None
    return evse.id


def handlers(services: Services) -> Mapping[str, Handler]:
    async def change_availability(request: m.ChangeAvailabilityRequest) -> Any:
        operative = request.operational_status is OperationalStatusEnumType.OPERATIVE
        where = target(services, request.evse)
        if where is None:
            log.info("ChangeAvailability of %s: no such EVSE or connector", request.evse)
            return m.ChangeAvailabilityResponse(status=ChangeAvailabilityStatusEnumType.REJECTED)
        connectors = services.charger.connectors
        affected = list(connectors) if where == STATION else [where]
        before = {cid: connectors[cid].reported.status for cid in affected}
        outcome = await services.charger.change_availability(where, operative)
        result = AVAILABILITY[outcome]
        log.info(
            "ChangeAvailability %s of %s: %s",
            request.operational_status,
            "the station" if where == STATION else f"EVSE {where}",
            result,
        )
        response = m.ChangeAvailabilityResponse(status=result)
        unchanged = [cid for cid in affected if connectors[cid].reported.status == before[cid]]
        if outcome is not AvailabilityResult.APPLIED or not unchanged:
            return response  # a change is reported as every change is

        async def tell_unchanged() -> None:
            # TC_G_13_CS, TC_G_16_CS: the CSMS hears the state of every connector it named,
            # also when it already was so (then no change would report it)
            try:
                for cid in unchanged:
                    await services.statuses.send_status(cid)
            except CallFailure as exc:
                log.warning("status after ChangeAvailability not delivered: %s", exc)

        return Then(response, tell_unchanged)

    return {"ChangeAvailability": TypedHandler(m.ChangeAvailabilityRequest, change_availability)}
