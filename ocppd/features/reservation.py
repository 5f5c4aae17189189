"""The Reservation profile (OCPP 1.6 §3.11, §5.13 ReserveNow, §5.2 CancelReservation).

The central system keeps a connector (or, with ReserveConnectorZeroSupported, any
connector: connector 0) for one driver until a time. The model decides and keeps the
reservations (``ocppd/model/reservation.py``); this module turns the calls into its verbs
and its answers into 1.6 words (``features/core/words.py``).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from datetime import UTC

from ocppd.features.core.words import RESERVATION
from ocppd.features.profile import Handler, Profile, Services, Site, TypedHandler
from ocppd.model.keys import KeySpec, KeyType
from ocppd.model.reservation import ANY_CONNECTOR, Reservation
from ocppd.protocol.v16 import messages as m
from ocppd.protocol.v16.enums import CancelReservationStatus, ReservationStatus

log = logging.getLogger(__name__)

ZERO_KEY = "ReserveConnectorZeroSupported"
ENABLED_KEY = "ReservationCtrlr.Enabled"
"""2.0.1's switch (declared by ``features/v201/reservation.py``): false, the charger takes
no new reservation, in either version (1.6's Rejected says just that: "configured not to
accept reservations")."""


def _keys(site: Site) -> Iterable[KeySpec]:
    return [
        KeySpec(
            ZERO_KEY,
            KeyType.BOOL,
            True,
            readonly=True,
            doc="ReserveNow may reserve connector 0: any free connector, one kept free for it",
        )
    ]


class ReservationHandlers:
    def __init__(self, services: Services) -> None:
        self.charger = services.charger
        self.keys = services.keys

    def __repr__(self) -> str:
        return f"<ReservationHandlers {self.charger.reservations!r}>"

    def table(self) -> dict[str, Handler]:
        return {
            "ReserveNow": TypedHandler(m.ReserveNowRequest, self.reserve_now),
            "CancelReservation": TypedHandler(m.CancelReservationRequest, self.cancel_reservation),
        }

    async def reserve_now(self, request: m.ReserveNowRequest) -> m.ReserveNowResponse:
        if self.keys.has(ENABLED_KEY) and not self.keys.get_bool(ENABLED_KEY):
            log.info(
                "ReserveNow %d: Rejected (ReservationCtrlr.Enabled is false)",
                request.reservation_id,
            )
            return m.ReserveNowResponse(status=ReservationStatus.REJECTED)
        if request.connector_id == ANY_CONNECTOR and not self.keys.get_bool(ZERO_KEY):
            log.info("ReserveNow %d on connector 0: Rejected (not offered)", request.reservation_id)
            return m.ReserveNowResponse(status=ReservationStatus.REJECTED)
        expiry = request.expiry_date
        if expiry.tzinfo is None:  # a time without an offset is taken as UTC
            expiry = expiry.replace(tzinfo=UTC)
        reservation = Reservation(
            request.reservation_id,
            request.connector_id,
            request.id_tag,
            request.parent_id_tag,
            expiry,
        )
        result = RESERVATION[await self.charger.reservations.reserve(reservation)]
        log.info(
            "ReserveNow %d on connector %d: %s",
            request.reservation_id,
            request.connector_id,
            result,
        )
        return m.ReserveNowResponse(status=result)

    async def cancel_reservation(
        self, request: m.CancelReservationRequest
    ) -> m.CancelReservationResponse:
        found = await self.charger.reservations.cancel(request.reservation_id)
        status = CancelReservationStatus.ACCEPTED if found else CancelReservationStatus.REJECTED
        log.info("CancelReservation %d: %s", request.reservation_id, status)
        return m.CancelReservationResponse(status=status)


def _handlers(services: Services) -> Mapping[str, Handler]:
    return ReservationHandlers(services).table()


profile = Profile("Reservation", keys=_keys, handlers=_handlers)
