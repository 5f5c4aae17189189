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
:class:`ReserveResult`), keeps the connector-0 reservation, persists every change
through a :class:`ReservationStore` before it takes effect, and ends what expired.
Connectors keep their own reservation and change it only through their verbs
(:meth:`Connector.reserve`, :meth:`Connector.end_reservation`).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Awaitable, Callable, Iterable, Mapping
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
        return f"reservation {self.reservation_id} ({where}, until {self.expiry.isoformat()})"


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
    """The charge point's reservations: the connector-0 one here, the others on their
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
        self.zero: Reservation | None = None  # on connector 0
        self._listeners: list[Listener] = []
        self._changed = trio.Event()

    def __repr__(self) -> str:
        return f"<Reservations zero={self.zero} on={[str(r) for r in self.all()]}>"

    def all(self) -> list[Reservation]:
        found = [c.reservation for c in self.connectors.values() if c.reservation is not None]
        return ([self.zero] if self.zero is not None else []) + found

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
                self.zero = reservation
            else:
                connector.restore_reservation(reservation)
        self._wake()

    # --- the central system's verbs ---

    async def reserve(self, reservation: Reservation) -> ReserveResult:
        """ReserveNow: ACCEPTED (persisted, in force; one with the same id is replaced),
        else why not. The new reservation is judged as if the one it replaces were gone;
        when it is refused, the old one stays."""
        result = self._judge(reservation)
        if result is not ReserveResult.ACCEPTED:
            log.info("%s not made: %s", reservation, result)
            return result
        try:
            await self.store.save_reservation(reservation)
        except StorageUnavailable as exc:
            log.error("%s not made: it cannot be persisted (%s)", reservation, exc)
            return ReserveResult.REJECTED
        result = self._judge(reservation)  # a driver may have come while it was written
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
            self.zero = reservation
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

    def _judge(self, new: Reservation) -> ReserveResult:
        """1.6 §5.13: Rejected (no such connector, already expired), Faulted,
        Unavailable, Occupied, or Accepted. Whether connector 0 may be reserved at all
        (ReserveConnectorZeroSupported) the feature decides before asking."""
        if new.expired(self.clock.now()):
            return ReserveResult.REJECTED
        charger = self.charger_status()
        if charger is Status.FAULTED:
            return ReserveResult.FAULTED
        if charger is Status.UNAVAILABLE:
            return ReserveResult.UNAVAILABLE
        if new.connector_id == ANY_CONNECTOR:
            if self.zero is not None and self.zero.reservation_id != new.reservation_id:
                return ReserveResult.OCCUPIED
            # A connector with a cable in it is taken by the EV parked there, as it is for
            # a reservation of that connector (below): 1.6 §5.13 "Occupied if the Charge
            # Point ... [is] occupied"; OCTT TC_050_2 (SetChargePointOccupied), TC_048_2.
            free = [
                c for c in self.connectors.values() if self._free_for(c, new) and not c.plug.plugged
            ]
            if free:
                return ReserveResult.ACCEPTED
            return _why_none(list(self.connectors.values()))
        connector = self.connectors.get(new.connector_id)
        if connector is None:
            return ReserveResult.REJECTED
        status = connector.reported.status
        if status is Status.FAULTED:
            return ReserveResult.FAULTED
        if status is Status.UNAVAILABLE:
            return ReserveResult.UNAVAILABLE
        if not self._free_for(connector, new) or connector.plug.plugged:
            return ReserveResult.OCCUPIED
        zero = self.zero
        if zero is not None and zero.reservation_id != new.reservation_id:
            # the connector-0 reservation needs one free connector besides this one
            others = [c for c in self.connectors.values() if c is not connector]
            if not any(self._free_for(c, new) for c in others):
                return ReserveResult.OCCUPIED
        return ReserveResult.ACCEPTED

    @staticmethod
    def _free_for(connector: Connector, new: Reservation) -> bool:
        """Free, and not reserved by another reservation than the one ``new`` replaces."""
        mine = connector.reservation
        return connector.free and (mine is None or mine.reservation_id == new.reservation_id)

    # --- who may start where ---

    def zero_excludes(self, id_tag: str, connector: Connector) -> bool:
        """Before ``id_tag`` is authorised: the connector-0 reservation surely keeps it off
        ``connector`` (the tag is not the reserved one and no parent group can admit it)."""
        zero = self.zero
        if zero is None or zero.may_admit(id_tag):
            return False
        return self.zero_blocks(id_tag, None, using=connector)

    def zero_blocks(self, id_tag: str, parent_id_tag: str | None, *, using: Connector) -> bool:
        """A start of ``id_tag`` on ``using`` would leave no free connector for the
        connector-0 reservation of another driver (1.6 §5.13: one must stay free)."""
        zero = self.zero
        if zero is None or zero.admits(id_tag, parent_id_tag):
            return False
        if using.reservation is not None:  # its own reservation admitted the tag
            return False
        others = [
            c
            for c in self.connectors.values()
            if c is not using and c.reservation is None and (c.free or c.claimed_by(id_tag))
        ]
        return not others

    def held(self) -> set[int]:
        """The connectors the connector-0 reservation holds: as many connectors are free
        (and reserved for no one else) as it needs, one (the idea of MicroOcpp's
        ``ReservationService::getReservation(connectorId)``). They report Reserved.

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
        if self.zero is None:
            return set()
        free = [c for c in self.connectors.values() if c.free and c.reservation is None]
        if len(free) > 1:
            return set()
        return {c.id for c in free if not c.plug.plugged or c.held_for_zero}

    def use(self, reservation: Reservation) -> None:
        """A transaction started with ``reservation`` (the connector dropped its own
        already): it is no longer in force. :meth:`used` forgets it on disk."""
        if self.zero is reservation:
            self.zero = None
        self._wake()

    async def used(self, reservation: Reservation) -> None:
        """A transaction started with ``reservation``: forget it durably."""
        log.info("%s used by a transaction", reservation)
        await self._tell(reservation, Ending.USED)
        await self._forget(reservation)

    # --- the ends of a reservation ---

    async def charger_changed(self) -> None:
        """The charge point became Faulted or Unavailable: the connector-0 reservation ends
        (1.6 §3.11)."""
        if self.zero is not None and self.charger_status() in (Status.FAULTED, Status.UNAVAILABLE):
            why = f"the charge point is {self.charger_status()}"
            await self._end(self.zero, Ending.REMOVED, why)

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

    async def _drop(self, reservation: Reservation) -> None:
        if self.zero is reservation:
            self.zero = None
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


def _why_none(connectors: list[Connector]) -> ReserveResult:
    """No connector is free for a connector-0 reservation: all faulted → Faulted, all
    unavailable → Unavailable, else Occupied."""
    statuses = {c.reported.status for c in connectors}
    if statuses == {Status.FAULTED}:
        return ReserveResult.FAULTED
    if statuses <= {Status.UNAVAILABLE, Status.FAULTED}:
        return ReserveResult.UNAVAILABLE
    return ReserveResult.OCCUPIED
