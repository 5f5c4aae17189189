"""OCPP 2.0.1 reservations, functional block H: ReserveNow (H01), CancelReservation (H02),
using a reserved EVSE (H03) and ReservationStatusUpdate (H01.FR.16/17, H04).

2.0.1 says in its words what the model already keeps for 1.6's Reservation profile
(``ocppd/model/reservation.py``, ``features/reservation.py``): one set of reservations,
in one journal table. A reservation made over 1.6 is in force over 2.0.1 and the other
way round (the same id, tag, group and expiry; connector N is EVSE N, design decision 6).

- ReserveNow with ``evseId`` reserves that EVSE (the model's connector); without one, the
  station (the model's connector 0: any free EVSE serves it). Several such reservations
  may be in force (H01.FR.04; 1.6 keeps one): each keeps one more EVSE free (H01.FR.07),
  and once no more EVSEs are free than they need, those report Reserved (H01.FR.20).
  ``ReservationCtrlr.NonEvseSpecific``
  is 1.6's ReserveConnectorZeroSupported (the same key, decision 4): off, a ReserveNow
  without evseId is Rejected (H01.FR.19). ``ReservationCtrlr.Enabled`` false: every
  ReserveNow is Rejected (H01.FR.01), over 1.6 too; reservations already made stay.
- ``connectorType`` (H01 S3): a connector's type is the config's ``[[connector]] type``.
  Without ``evseId`` the reservation keeps one EVSE of that type free (H01.FR.06,
  H01.FR.09); once no more EVSEs of the type are free than such reservations need, they
  report Reserved (H01.FR.24), the others stay open to everyone; the journal keeps the
  type (migration reservation_connector_type). A type no connector here
  has (or any type, when the config names none) is Rejected (reasonCode
  UnknownConnectorType); with ``evseId``, an EVSE of another type is Rejected. Unknown
  and Undetermined mean no preference.
- The token is compared by its value, as 1.6 compares idTags (case-insensitively); its type
  is not kept. ``groupIdToken`` is the reservation's parent: a driver of that group may use
  it (H03.FR.04-06), learnt from the cache, the local list or an Authorize (H03.FR.07/08).
- An id already in use replaces that reservation when the new one can be made (H01.FR.02),
  and leaves it as it was when not.
- The transaction that uses a reservation names it (TransactionEvent ``reservationId``,
  H01.FR.15, ``transactions.py``), and the reservation ends.
- CancelReservation: Accepted and ended, or Rejected when no reservation has that id
  (H02). No ReservationStatusUpdate follows: the CSMS knows (H02 remark).
- ReservationStatusUpdate Expired when a reservation's expiry came (H04.FR.01), Removed
  when the station ended it because its EVSE (the station, for one without evseId)
  became Faulted or Unavailable (H01.FR.16, H01.FR.17), or the EVSE is gone from the
  config at a restart. It is queued in the outbox (kind other, never dropped) in the
  version current when the reservation ends: the CSMS is owed the news (H04.FR.01
  SHALL), possibly for a no-show fee, and an offline station must not forget it. In 1.6
  no such message exists: nothing is queued then (the StatusNotification Available tells
  a 1.6 central system). A reservation that expired while ocppd was not running is told
  at the next start; a journal that refuses the write (a full disk) is asked again until
  it takes it. A crash between the end and the journal's forgetting may tell it twice,
  never zero times (``model/reservation.py``, ``Listener``).

OCTT: TC_H_01_CS ... TC_H_24_CS (tests/v201/test_reservation.py names each it replays).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from datetime import UTC
from functools import partial
from typing import Any

from ocppd.features.profile import Handler, Profile, Services, Site, TypedHandler
from ocppd.features.reservation import ENABLED_KEY, ZERO_KEY
from ocppd.features.v201.words import RESERVATION, V201_WORDS
from ocppd.journal import JournalUnavailable
from ocppd.model.keys import KeySpec, KeyType
from ocppd.model.reservation import ANY_CONNECTOR, Ending, Reservation
from ocppd.model.transaction import StorageUnavailable
from ocppd.protocol.v201 import messages as m
from ocppd.protocol.v201.dialect import V201
from ocppd.protocol.v201.enums import (
    CancelReservationStatusEnumType,
    ConnectorEnumType,
    ReservationUpdateStatusEnumType,
    ReserveNowStatusEnumType,
)

log = logging.getLogger(__name__)

STATUS_UPDATE = "ReservationStatusUpdate"
NO_PREFERENCE = frozenset({ConnectorEnumType.UNKNOWN, ConnectorEnumType.UNDETERMINED})
TOLD: Mapping[Ending, ReservationUpdateStatusEnumType] = {
    Ending.EXPIRED: ReservationUpdateStatusEnumType.EXPIRED,
    Ending.REMOVED: ReservationUpdateStatusEnumType.REMOVED,
}
"""The endings a ReservationStatusUpdate tells; the CSMS knows of the others (it cancelled
it, or a TransactionEvent named it)."""


def _keys(_site: Site) -> Iterable[KeySpec]:
    yield KeySpec(
        ENABLED_KEY,
        KeyType.BOOL,
        True,
        listed=False,  # 2.0.1 only: 1.6's GetConfiguration and ChangeConfiguration miss it
        doc="2.0.1 ReservationCtrlr.Enabled: false rejects every ReserveNow (in 1.6 too); "
        "reservations already made stay",
    )


def _rejected(reason: str, detail: str) -> m.ReserveNowResponse:
    return m.ReserveNowResponse(
        status=ReserveNowStatusEnumType.REJECTED,
        status_info=m.StatusInfoType(reason_code=reason, additional_info=detail),
    )


class ReservationBlock:
    """ReserveNow and CancelReservation on the model's reservations, and the
    ReservationStatusUpdates of the reservations the station ends."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.charger = services.charger
        self.keys = services.keys

    def __repr__(self) -> str:
        return f"<ReservationBlock {self.charger.reservations!r}>"

    def table(self) -> dict[str, Handler]:
        return {
            "ReserveNow": TypedHandler(m.ReserveNowRequest, self.reserve_now),
            "CancelReservation": TypedHandler(m.CancelReservationRequest, self.cancel_reservation),
        }

    async def reserve_now(self, request: m.ReserveNowRequest) -> Any:
        refused = self._refusal(request)
        if refused is not None:
            log.info("ReserveNow %d: Rejected (%s)", request.id, refused.status_info)
            return refused
        expiry = request.expiry_date_time
        if expiry.tzinfo is None:  # a time without an offset is taken as UTC
            expiry = expiry.replace(tzinfo=UTC)
        group = request.group_id_token.id_token if request.group_id_token is not None else None
        where = ANY_CONNECTOR if request.evse_id is None else request.evse_id
        kind = None if request.connector_type in NO_PREFERENCE else request.connector_type
        reservation = Reservation(
            request.id,
            where,
            request.id_token.id_token,
            group,
            expiry,
            None if kind is None else kind.value,
        )
        # several reservations without evseId may be in force, each keeping one more EVSE
        # free (H01.FR.04, H01.FR.07)
        made = await self.charger.reservations.reserve(reservation, several=True)
        result = RESERVATION[made]
        log.info(
            "ReserveNow %d on %s: %s",
            request.id,
            "the station" if request.evse_id is None else f"EVSE {request.evse_id}",
            result,
        )
        return m.ReserveNowResponse(status=result)

    def _refusal(self, request: m.ReserveNowRequest) -> m.ReserveNowResponse | None:
        """Rejected before the model is asked, if so (H01.FR.01, H01.FR.19, connectorType)."""
        if not self.keys.get_bool(ENABLED_KEY):
            return _rejected("Disabled", "ReservationCtrlr.Enabled is false")
        if request.evse_id is None and not self.keys.get_bool(ZERO_KEY):
            return _rejected("NoEvse", "ReservationCtrlr.NonEvseSpecific is false")
        if request.evse_id is not None and request.evse_id <= 0:
            return _rejected("UnknownEvse", f"evseId {request.evse_id} is not an EVSE")
        kind = request.connector_type
        have = {c.connector_type for c in self.charger.connectors.values()}
        if kind is not None and kind not in NO_PREFERENCE and kind.value not in have:
            return _rejected("UnknownConnectorType", f"no connector of type {kind} here")
        return None

    async def cancel_reservation(self, request: m.CancelReservationRequest) -> Any:
        found = await self.charger.reservations.cancel(request.reservation_id)
        status = (
            CancelReservationStatusEnumType.ACCEPTED
            if found
            else CancelReservationStatusEnumType.REJECTED
        )
        log.info("CancelReservation %d: %s", request.reservation_id, status)
        return m.CancelReservationResponse(status=status)

    async def ended(self, reservation: Reservation, ending: Ending) -> None:
        """A reservation ended: queue its ReservationStatusUpdate when the CSMS is owed one
        and the version current now is 2.0.1 (see the module)."""
        told = TOLD.get(ending)
        if told is None:
            return
        protocol = self.services.protocol()
        if protocol != V201.subprotocol:
            log.info("%s %s: no ReservationStatusUpdate in %s", reservation, ending, protocol)
            return
        payload = {
            "reservationId": reservation.reservation_id,
            "reservationUpdateStatus": told.value,
        }
        try:
            await self._queue(payload)
        except StorageUnavailable as exc:
            # kept trying in the background until the journal takes it (at start, before
            # the charger runs, this raises: the model logs it, and the reservation, not
            # forgotten on disk either, ends again at the next start)
            log.error(
                "%s %s: ReservationStatusUpdate not queued yet (%s)", reservation, ending, exc
            )
            self.charger.spawn(
                STATUS_UPDATE, self.charger.retry_storage, partial(self._queue, payload)
            )
            return
        log.info("%s %s: ReservationStatusUpdate %s queued", reservation, ending, told)

    async def _queue(self, payload: dict[str, Any]) -> None:
        try:
            await self.services.journal.add_message(STATUS_UPDATE, payload, words=V201_WORDS)
        except JournalUnavailable as exc:
            raise StorageUnavailable(str(exc)) from exc
        self.services.wake_outbox()


def _block(services: Services) -> ReservationBlock:
    """The daemon's one block. It listens to the reservations from when the handlers are
    built, before the journal's reservations are restored (app.py), so a reservation that
    expired while ocppd was not running is told too."""

    def make() -> ReservationBlock:
        block = ReservationBlock(services)
        services.charger.reservations.listen(block.ended)
        return block

    return services.part("v201.reservation", make)


def _handlers(services: Services) -> Mapping[str, Handler]:
    return _block(services).table()


profile = Profile("Reservation", keys=_keys, handlers=_handlers, advertised=False)
"""H: ReserveNow, CancelReservation, ReservationStatusUpdate."""
