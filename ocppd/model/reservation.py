"""Reservations: a connector (or any connector, connector 0) kept for one driver until a time.

OCPP 1.6 §3.11 and §5.13, in the model's words. A :class:`Reservation` is a fact: on a
connector (its status is then Reserved, ``model/status.py``) or on the charge point as
a whole (connector 0: any free connector serves it, and one must stay free for it; the
last free one is held for it and Reserved too, :meth:`Reservations.held`).
Only the reserved tag, or a tag of the same parent group, may start there; the start
carries the reservation's id and ends it. A reservation also ends at its expiry (a
deadline on trio's clock, re-armed when the set changes: no polling), when it is
cancelled or replaced (the same id), and when its connector, or the charge point for
connector 0, becomes Faulted or Unavailable (§3.11).

:class:`Reservations` is the room: it decides whether a reservation may be made (a
:class:`ReserveResult`), keeps the connector-0 reservations, persists every change
through a :class:`ReservationStore` before it takes effect, and ends what expired.
Connectors keep their own reservation and change it only through their verbs
(:meth:`Connector.reserve`, :meth:`Connector.end_reservation`).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Protocol

import trio

from ocppd.clock import Clock
from ocppd.model.auth import same_tag
from ocppd.model.outcomes import ReserveResult
from ocppd.model.status import Status
from ocppd.model.transaction import StorageUnavailable

if TYPE_CHECKING:
    from ocppd.model.connector import Connector

log = logging.getLogger(__name__)

ANY_CONNECTOR = 0
UNKNOWN_TIME_RETRY_S = 60.0  # the wall clock is unknown: look again this often
# The wall clock may step (the central system's time is taken at each BootNotification and
# Heartbeat, ocppd/clock.py) without telling anyone: the deadline of the nearest expiry is
# computed again at least this often, so a step moves it within this time.
RECHECK_S = 600.0


@dataclass(frozen=True, slots=True)
class Reservation:
    """One reservation as the central system made it (ReserveNow)."""

    reservation_id: int
    connector_id: int  # 0: any connector of the charge point
    id_tag: str
    parent_id_tag: str | None
    expiry: datetime  # wall clock, aware
    # only a connector of this type serves it (the config's word for the socket or cable,
    # Connector.connector_type; OCPP 2.0.1's ConnectorEnumType), None: any connector
    connector_type: str | None = None

    def serves(self, connector: Connector) -> bool:
        """``connector`` is of the type this reservation asks for (any, without one)."""
        return self.connector_type is None or connector.connector_type == self.connector_type

    def admits(self, id_tag: str, parent_id_tag: str | None) -> bool:
        """The reserved tag, or one of the same parent group (1.6 §5.13), may use it."""
        return same_tag(self.id_tag, id_tag) or (
            self.parent_id_tag is not None and same_tag(self.parent_id_tag, parent_id_tag)
        )

    def may_admit(self, id_tag: str) -> bool:
        """Before the tag is authorised (its parent unknown): might it be admitted?"""
        return same_tag(self.id_tag, id_tag) or self.parent_id_tag is not None

    def expired(self, now: datetime | None) -> bool:
        return now is not None and now >= self.expiry

    def __str__(self) -> str:
        where = "any connector" if self.connector_id == ANY_CONNECTOR else self.connector_id
        kind = f" of type {self.connector_type}" if self.connector_type else ""
        return f"reservation {self.reservation_id} ({where}{kind}, until {self.expiry.isoformat()})"


class Ending(StrEnum):
    """How a reservation ended: what the listeners of :meth:`Reservations.listen` hear."""

    EXPIRED = "expired"  # its expiry came and nobody used it
    REMOVED = "removed"  # the charger ended it: its connector (or, for connector 0, the
    # charge point) became Faulted or Unavailable, or the connector is gone from the config
    CANCELLED = "cancelled"  # the central system cancelled it
    USED = "used"  # a transaction started with it


Listener = Callable[[Reservation, Ending], Awaitable[None]]
"""Told of each reservation that ended, after the model let it go and before the journal
forgets it: a listener that must not lose the news (2.0.1's ReservationStatusUpdate)
records it first, and a crash in between brings the reservation back at the next start,
where it ends again (at least once, never lost)."""


class ReservationStore(Protocol):
    """Where reservations survive a restart (the journal, ``features/storage.py``)."""

    async def save_reservation(self, reservation: Reservation) -> None:
        """Keep it (replacing one with the same id). Raises StorageUnavailable."""
        ...

    async def delete_reservation(self, reservation_id: int) -> None:
        """Forget it (nothing when unknown). Raises StorageUnavailable."""
        ...


class Reservations:
    """The charge point's reservations: the connector-0 ones here, the others on their
    connectors; every change persisted first."""

    def __init__(
        self,
        connectors: Mapping[int, Connector],
        store: ReservationStore,
        clock: Clock,
        *,
        charger_status: Callable[[], Status],
        retry_later: Callable[[str, Callable[[], Awaitable[None]]], None],
        changed: Callable[[], None] = lambda: None,
    ) -> None:
        self.connectors = connectors
        self.store = store
        self.clock = clock
        self.charger_status = charger_status
        self.retry_later = retry_later  # a journal write that must land, retried until it does
        self.changed = changed  # a reservation was made, ended or used (the set changed)
        self.zeros: list[Reservation] = []  # on connector 0, in the order they were made
        self._listeners: list[Listener] = []
        self._changed = trio.Event()

    def __repr__(self) -> str:
        return f"<Reservations on={[str(r) for r in self.all()]}>"

    @property
    def zero(self) -> Reservation | None:
        """The first connector-0 reservation in force (the one ``ocppctl status`` shows)."""
        return self.zeros[0] if self.zeros else None

    def all(self) -> list[Reservation]:
        found = [c.reservation for c in self.connectors.values() if c.reservation is not None]
        return [*self.zeros, *found]

    def find(self, reservation_id: int) -> Reservation | None:
        return next((r for r in self.all() if r.reservation_id == reservation_id), None)

    def listen(self, listener: Listener) -> None:
        """``listener`` is told of every reservation that ends from now on (see
        :data:`Listener`). Register before :meth:`restore`, which ends the ones that ended
        while ocppd was not running."""
        self._listeners.append(listener)

    async def _tell(self, reservation: Reservation, ending: Ending) -> None:
        for listener in self._listeners:
            try:
                await listener(reservation, ending)
            except Exception:  # a listener's bug or its journal: the model goes on
                log.exception("%s ended (%s): a listener failed", reservation, ending)

    # --- at start ---

    async def restore(self, stored: Iterable[Reservation]) -> None:
        """At start, before the connectors run: those still in force come back, the expired
        ones (and those for a connector this charger no longer has) are forgotten."""
        now = self.clock.now()
        for reservation in stored:
            connector = self.connectors.get(reservation.connector_id)
            expired = reservation.expired(now)
            if expired or (connector is None and reservation.connector_id != ANY_CONNECTOR):
                log.info("%s ended while ocppd was not running", reservation)
                await self._tell(reservation, Ending.EXPIRED if expired else Ending.REMOVED)
                await self._forget(reservation)
            elif connector is None:
                self.zeros.append(reservation)
            else:
                connector.restore_reservation(reservation)
        self._wake()

    # --- the central system's verbs ---

    async def reserve(self, reservation: Reservation, *, several: bool = False) -> ReserveResult:
        """ReserveNow: ACCEPTED (persisted, in force; one with the same id is replaced),
        else why not. The new reservation is judged as if the one it replaces were gone;
        when it is refused, the old one stays.

        ``several``: more than one connector-0 reservation may be in force, each keeping
        one more connector free (2.0.1 H01.FR.04, H01.FR.07); without it a second one is
        OCCUPIED (the 1.6 profile's rule, OCTT TC_050_2). Either way the model keeps as many
        as it was given (a restart, a reservation made in the other version)."""
        result = self._judge(reservation, several)
        if result is not ReserveResult.ACCEPTED:
            log.info("%s not made: %s", reservation, result)
            return result
        try:
            await self.store.save_reservation(reservation)
        except StorageUnavailable as exc:
            log.error("%s not made: it cannot be persisted (%s)", reservation, exc)
            return ReserveResult.REJECTED
        result = self._judge(reservation, several)  # a driver may have come meanwhile
        if result is not ReserveResult.ACCEPTED:
            log.info("%s not made: %s", reservation, result)
            old = self.find(reservation.reservation_id)
            if old is not None:  # the one it was to replace stays, on disk too
                await self._keep(old)
            else:
                await self._forget(reservation)
            return result
        old = self.find(reservation.reservation_id)
        if old is not None:
            await self._drop(old)
        if reservation.connector_id == ANY_CONNECTOR:
            self.zeros.append(reservation)
        else:
            await self.connectors[reservation.connector_id].reserve(reservation)
        log.info("%s made", reservation)
        self._wake()
        return ReserveResult.ACCEPTED

    async def cancel(self, reservation_id: int) -> bool:
        """CancelReservation: True when there was one with this id (it is gone now)."""
        reservation = self.find(reservation_id)
        if reservation is None:
            return False
        await self._end(reservation, Ending.CANCELLED, "cancelled")
        return True

    def _judge(self, new: Reservation, several: bool) -> ReserveResult:
        """1.6 §5.13: Rejected (no such connector, already expired), Faulted,
        Unavailable, Occupied, or Accepted. Whether connector 0 may be reserved at all
        (ReserveConnectorZeroSupported) the feature decides before asking."""
        others = [z for z in self.zeros if z.reservation_id != new.reservation_id]
        if new.expired(self.clock.now()):
            return ReserveResult.REJECTED
        charger = self.charger_status()
        if charger is Status.FAULTED:
            return ReserveResult.FAULTED
        if charger is Status.UNAVAILABLE:
            return ReserveResult.UNAVAILABLE
        typed = [c for c in self.connectors.values() if new.serves(c)]
        if not typed:  # no connector of that type here (2.0.1 H01 S3)
            return ReserveResult.REJECTED
        if new.connector_id == ANY_CONNECTOR:
            if others and not several:
                return ReserveResult.OCCUPIED
            # A connector with a cable in it is taken by the EV parked there, as it is for
            # a reservation of that connector (below): 1.6 §5.13 "Occupied if the Charge
            # Point ... [is] occupied"; OCTT TC_050_2 (SetChargePointOccupied), TC_048_2.
            free = [
                c for c in self.connectors.values() if self._free_for(c, new) and not c.plug.plugged
            ]
            if fits([*others, new], free):  # one for each connector-0 one, this one too
                return ReserveResult.ACCEPTED
            if any(new.serves(c) for c in free):  # kept for others (2.0.1 H01.FR.11)
                return ReserveResult.OCCUPIED
            return _why_none(typed)
        connector = self.connectors.get(new.connector_id)
        if connector is None or not new.serves(connector):
            return ReserveResult.REJECTED
        status = connector.reported.status
        if status is Status.FAULTED:
            return ReserveResult.FAULTED
        if status is Status.UNAVAILABLE:
            return ReserveResult.UNAVAILABLE
        if not self._free_for(connector, new) or connector.plug.plugged:
            return ReserveResult.OCCUPIED
        if others:
            # each connector-0 reservation needs one free connector besides this one
            rest = [c for c in self.connectors.values() if c is not connector]
            if not fits(others, [c for c in rest if self._free_for(c, new)]):
                return ReserveResult.OCCUPIED
        return ReserveResult.ACCEPTED

    @staticmethod
    def _free_for(connector: Connector, new: Reservation) -> bool:
        """Free, and not reserved by another reservation than the one ``new`` replaces."""
        mine = connector.reservation
        return connector.free and (mine is None or mine.reservation_id == new.reservation_id)

    # --- who may start where ---

    def zero_for(
        self, id_tag: str, parent_id_tag: str | None, connector: Connector
    ) -> Reservation | None:
        """The connector-0 reservation a start of ``id_tag`` at ``connector`` uses: its
        own, else its group's, of a type the connector is."""
        fitting = [z for z in self.zeros if z.serves(connector)]
        own = [z for z in fitting if z.admits(id_tag, None)]
        return next(iter(own + [z for z in fitting if z.admits(id_tag, parent_id_tag)]), None)

    def zero_excludes(self, id_tag: str, connector: Connector) -> bool:
        """Before ``id_tag`` is authorised: the connector-0 reservations surely keep it off
        ``connector`` (counting as its own one whose parent group might admit it)."""
        mine = next((z for z in self.zeros if z.may_admit(id_tag) and z.serves(connector)), None)
        return self._too_few_left(id_tag, mine, using=connector)

    def zero_blocks(self, id_tag: str, parent_id_tag: str | None, *, using: Connector) -> bool:
        """A start of ``id_tag`` on ``using`` would leave too few free connectors for the
        connector-0 reservations of other drivers (1.6 §5.13, 2.0.1 H01.FR.07: one must
        stay free for each, of its type)."""
        return self._too_few_left(id_tag, self.zero_for(id_tag, parent_id_tag, using), using=using)

    def _too_few_left(self, id_tag: str, mine: Reservation | None, *, using: Connector) -> bool:
        pending = [z for z in self.zeros if z is not mine]
        if not pending:
            return False
        if using.reservation is not None:  # its own reservation admitted the tag
            return False
        others = [
            c
            for c in self.connectors.values()
            if c is not using and c.reservation is None and (c.free or c.claimed_by(id_tag))
        ]
        return not fits(pending, others)

    def held(self) -> set[int]:
        """The connectors the connector-0 reservations hold: when no more connectors are
        free (and reserved for no one else) than they need, one each, those (the idea of
        MicroOcpp's ``ReservationService::getReservation(connectorId)``; 2.0.1 H01.FR.20).
        They report Reserved.

        1.6 §3.11: a connector-0 reservation "SHALL NOT reserve a specific connector, but
        SHALL make sure that ... one connector remains available for the reserved idTag".
        While two or more are free none is named; the last free one is no longer open to
        other drivers (:meth:`zero_blocks`) and says so: Reserved, as the OCTT's TC_049
        expects. Which one that is follows the others: when another connector becomes free
        again the held one is Available again.

        A free connector with a cable in it (Preparing: an EV parked, no driver yet) that
        was not held already is not held: 1.6 §4.9 knows no Preparing -> Reserved
        transition. It is kept for the reservation all the same (:meth:`zero_blocks`). One
        held before the cable came stays held, as a reserved connector stays Reserved
        (transition E2)."""
        if not self.zeros:
            return set()
        free = [c for c in self.connectors.values() if c.free and c.reservation is None]
        # held: a connector without which the reservations no longer fit (2.0.1 H01.FR.20,
        # H01.FR.24: as many free, of their types, as they need)
        needed = [c for c in free if not fits(self.zeros, [o for o in free if o is not c])]
        return {c.id for c in needed if not c.plug.plugged or c.held_for_zero}

    def use(self, reservation: Reservation) -> None:
        """A transaction started with ``reservation`` (the connector dropped its own
        already): it is no longer in force. :meth:`used` forgets it on disk."""
        self._unlist(reservation)
        self._wake()

    async def used(self, reservation: Reservation) -> None:
        """A transaction started with ``reservation``: forget it durably."""
        log.info("%s used by a transaction", reservation)
        await self._tell(reservation, Ending.USED)
        await self._forget(reservation)

    # --- the ends of a reservation ---

    async def charger_changed(self) -> None:
        """The charge point became Faulted or Unavailable: the connector-0 reservations end
        (1.6 §3.11). A status changed: when fewer connectors can still serve them than
        there are connector-0 reservations (the others Faulted, Unavailable or reserved
        on their own), the newest ones end, removed: the charger can no longer keep its
        promise (2.0.1 H01.FR.16/17: a targeted EVSE became Faulted or Unavailable). A
        connector in use counts as able: it is free again later."""
        if self.charger_status() in (Status.FAULTED, Status.UNAVAILABLE):
            why = f"the charge point is {self.charger_status()}"
            for zero in list(self.zeros):
                await self._end(zero, Ending.REMOVED, why)
            return
        able = [
            c
            for c in self.connectors.values()
            if c.reservation is None
            and c.reported.status not in (Status.FAULTED, Status.UNAVAILABLE)
        ]
        while self.zeros and not fits(self.zeros, able):
            why = f"{len(able)} connector(s) cannot serve {len(self.zeros)} reservations of any"
            await self._end(self.zeros[-1], Ending.REMOVED, why)

    async def connector_lost(self, reservation: Reservation, why: str) -> None:
        """A connector ended its own reservation (it became Faulted or Unavailable)."""
        log.info("%s ended: %s", reservation, why)
        await self._tell(reservation, Ending.REMOVED)
        await self._forget(reservation)
        self._wake()

    async def _end(self, reservation: Reservation, ending: Ending, why: str) -> None:
        log.info("%s ended: %s", reservation, why)
        await self._drop(reservation)
        await self._tell(reservation, ending)
        await self._forget(reservation)
        self._wake()

    def _unlist(self, reservation: Reservation) -> bool:
        """Take a connector-0 reservation off the list; False when it is not one of them."""
        for index, zero in enumerate(self.zeros):
            if zero is reservation:
                del self.zeros[index]
                return True
        return False

    async def _drop(self, reservation: Reservation) -> None:
        if self._unlist(reservation):
            return
        connector = self.connectors.get(reservation.connector_id)
        if connector is not None:
            await connector.end_reservation(reservation.reservation_id)

    async def _keep(self, reservation: Reservation) -> None:
        try:
            await self.store.save_reservation(reservation)
        except StorageUnavailable as exc:
            log.error("%s: not written back (%s)", reservation, exc)

    async def _forget(self, reservation: Reservation) -> None:
        """Delete it on disk; while the journal cannot be written, keep trying in the
        background (else a restart would bring back a reservation that ended)."""

        async def delete() -> None:
            await self.store.delete_reservation(reservation.reservation_id)

        try:
            await delete()
        except StorageUnavailable as exc:
            log.error("%s ended, not yet forgotten on disk (%s); retrying", reservation, exc)
            self.retry_later(f"forgetting {reservation}", delete)

    # --- expiry ---

    def _wake(self) -> None:
        self._changed.set()
        self._changed = trio.Event()
        self.changed()

    async def run(self) -> None:
        """End each reservation at its expiry: sleep until the nearest one, or until the set
        of reservations changes (run it for the daemon's lifetime)."""
        while True:
            changed = self._changed
            now = self.clock.now()
            pending = self.all()
            if not pending:
                await changed.wait()
                continue
            if now is None:  # no wall clock yet: expiry cannot be judged
                with trio.move_on_after(UNKNOWN_TIME_RETRY_S):
                    await changed.wait()
                continue
            nearest = min(pending, key=lambda r: r.expiry)
            wait = (nearest.expiry - now).total_seconds()
            if wait > 0:
                with trio.move_on_after(min(wait, RECHECK_S)):
                    await changed.wait()
                continue
            for reservation in pending:
                if reservation.expired(now):
                    await self._end(reservation, Ending.EXPIRED, "expired")

    def seconds_left(self, reservation: Reservation) -> float:
        now = self.clock.now()
        return math.inf if now is None else (reservation.expiry - now).total_seconds()


def fits(reservations: Sequence[Reservation], connectors: Sequence[Connector]) -> bool:
    """Each reservation can have a connector of its own among ``connectors``, one of its
    type (a matching in the small bipartite graph, by augmenting paths)."""
    if len(reservations) > len(connectors):
        return False
    taken: dict[int, int] = {}  # connector index -> reservation index

    def place(r: int, seen: set[int]) -> bool:
        for i, connector in enumerate(connectors):
            if i in seen or not reservations[r].serves(connector):
                continue
            seen.add(i)
            if i not in taken or place(taken[i], seen):
                taken[i] = r
                return True
        return False

    return all(place(r, set()) for r in range(len(reservations)))


def _why_none(connectors: list[Connector]) -> ReserveResult:
    """No connector is free for a connector-0 reservation: all faulted → Faulted, all
    unavailable → Unavailable, else Occupied."""
    statuses = {c.reported.status for c in connectors}
    if statuses == {Status.FAULTED}:
        return ReserveResult.FAULTED
    if statuses <= {Status.UNAVAILABLE, Status.FAULTED}:
        return ReserveResult.UNAVAILABLE
    return ReserveResult.OCCUPIED
