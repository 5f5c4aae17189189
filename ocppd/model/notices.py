"""Notices: texts the central system asks the charger to show its drivers, kept and chosen.

OCPP 2.0.1 calls them display messages (block O); the model keeps them in its own words.
A :class:`Notice` is a fact: a text with a priority, and when it applies (a state of the
charger, a time window, one transaction, one EVSE). :class:`Notices` is the room that
keeps them: bounded (a central system cannot grow it beyond ``capacity``), persisted
through a :class:`NoticeStore` before a change counts, and able to say which notices are
in force for what a connector is doing now (:meth:`Notices.showing`), which the screen
(``ocppd/view``) reads. Notices whose end time passed, or whose transaction ended, are
removed (:meth:`Notices.prune`): the 2.0.1 schema says both SHALL be removed.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from enum import Enum
from typing import Protocol

import trio

from ocppd.model.status import Status

log = logging.getLogger(__name__)

DEFAULT_CAPACITY = 32


class Priority(Enum):
    """How a notice competes for the screen (2.0.1 MessagePriorityEnumType)."""

    FRONT = "front"  # always in front: the newest one is shown, before everything else
    AHEAD = "ahead"  # in front of the normal cycle; several take turns
    CYCLE = "cycle"  # takes turns with the charger's own page


class When(Enum):
    """The state of the charger a notice is meant for (2.0.1 MessageStateEnumType)."""

    CHARGING = "charging"
    FAULTED = "faulted"
    IDLE = "idle"
    UNAVAILABLE = "unavailable"


class TextForm(Enum):
    """What the text is: plain text (ASCII or UTF-8), HTML, or a URI."""

    ASCII = "ascii"
    UTF8 = "utf8"
    HTML = "html"
    URI = "uri"


def when_of(status: Status) -> When:
    """The notice state a connector's status is: a session with energy (or paused) is
    Charging, a fault Faulted, out of service Unavailable, anything else Idle."""
    if status in (Status.CHARGING, Status.SUSPENDED_EV, Status.SUSPENDED_EVSE):
        return When.CHARGING
    if status is Status.FAULTED:
        return When.FAULTED
    if status is Status.UNAVAILABLE:
        return When.UNAVAILABLE
    return When.IDLE


@dataclass(frozen=True, slots=True)
class Place:
    """The display a notice names (2.0.1 ``display``: a component, maybe of one EVSE)."""

    name: str
    instance: str | None = None
    evse_id: int | None = None
    connector_id: int | None = None


@dataclass(frozen=True, slots=True)
class Notice:
    """One notice as the central system set it. ``order`` is when it was set, among the
    others (the newest front notice wins; turns follow it)."""

    notice_id: int
    priority: Priority
    text: str
    form: TextForm = TextForm.UTF8
    language: str | None = None
    state: When | None = None
    start: datetime | None = None  # aware; None: at once
    end: datetime | None = None  # aware; None: until cleared
    transaction_id: str | None = None  # only during this transaction
    place: Place | None = None
    order: int = 0

    def in_window(self, now: datetime | None) -> bool:
        """Within its time window now. Without a known time, only a notice with no window
        is (a start or an end cannot be judged)."""
        if now is None:
            return self.start is None and self.end is None
        return (self.start is None or self.start <= now) and (self.end is None or now < self.end)

    def ended(self, now: datetime | None) -> bool:
        return now is not None and self.end is not None and now >= self.end

    def applies(self, when: When, transaction_id: str | None, evse_id: int | None) -> bool:
        """Meant for a connector in state ``when`` running ``transaction_id`` (None: none),
        EVSE ``evse_id`` (None: the charger as a whole, every EVSE's notice goes)."""
        if self.state is not None and self.state is not when:
            return False
        if self.transaction_id is not None and self.transaction_id != transaction_id:
            return False
        place_evse = self.place.evse_id if self.place is not None else None
        return place_evse in (None, 0) or evse_id is None or place_evse == evse_id


class NoticeStore(Protocol):
    """Where notices survive a restart. Both raise the model's StorageUnavailable."""

    async def save_notice(self, notice: Notice) -> None: ...

    async def delete_notice(self, notice_id: int) -> None: ...


class MemoryNotices:
    """A NoticeStore that keeps nothing across a restart (a charger built without one)."""

    async def save_notice(self, notice: Notice) -> None:
        return None

    async def delete_notice(self, notice_id: int) -> None:
        return None


def precedence(notice: Notice) -> tuple[int, int]:
    """Sort key of notices competing for the screen: front ones (the newest first), then
    ahead, then cycle ones (the oldest first)."""
    first = {Priority.FRONT: 0, Priority.AHEAD: 1, Priority.CYCLE: 2}[notice.priority]
    newest_front_first = -notice.order if notice.priority is Priority.FRONT else notice.order
    return first, newest_front_first


class Notices:
    """The notices in force, at most ``capacity()`` of them, by id."""

    def __init__(
        self,
        store: NoticeStore | None = None,
        *,
        capacity: int = DEFAULT_CAPACITY,
    ) -> None:
        self.store: NoticeStore = store if store is not None else MemoryNotices()
        self.capacity = capacity
        self._notices: dict[int, Notice] = {}
        self._order = 0
        self._changed = trio.Event()

    def __repr__(self) -> str:
        return f"<Notices {sorted(self._notices)} of {self.capacity}>"

    def __len__(self) -> int:
        return len(self._notices)

    def all(self) -> list[Notice]:
        """Every notice kept, by id."""
        return [self._notices[i] for i in sorted(self._notices)]

    def get(self, notice_id: int) -> Notice | None:
        return self._notices.get(notice_id)

    def restore(self, notices: Iterable[Notice]) -> None:
        """The notices kept before a restart (at start, before anything reads them); those
        beyond the capacity (it may have been lowered) are left out, newest kept."""
        kept = sorted(notices, key=lambda n: n.order)[-self.capacity :] if self.capacity else []
        self._notices = {n.notice_id: n for n in kept}
        self._order = max((n.order for n in kept), default=0)
        self._wake()

    def full_for(self, notice_id: int) -> bool:
        """A new notice of this id would not fit (replacing one kept always does)."""
        return notice_id not in self._notices and len(self._notices) >= self.capacity

    async def put(self, notice: Notice) -> bool:
        """Keep ``notice``, replacing the one of its id (2.0.1 O06). False when the room is
        full and the id is new: nothing changed. Persisted first: StorageUnavailable leaves
        the room as it was."""
        if self.full_for(notice.notice_id):
            return False
        kept = replace(notice, order=self._order + 1)
        await self.store.save_notice(kept)
        self._order += 1
        self._notices[kept.notice_id] = kept
        self._wake()
        return True

    async def remove(self, notice_id: int) -> bool:
        """Forget one notice; False when there is none of that id."""
        if notice_id not in self._notices:
            return False
        await self.store.delete_notice(notice_id)
        del self._notices[notice_id]
        self._wake()
        return True

    async def prune(self, now: datetime | None, running: Collection[str]) -> list[int]:
        """Remove the notices whose end passed and those of a transaction that no longer
        runs (``running``: the ids of the transactions running now). Returns their ids."""
        gone = [
            n.notice_id
            for n in self._notices.values()
            if n.ended(now) or (n.transaction_id is not None and n.transaction_id not in running)
        ]
        for notice_id in gone:
            await self.remove(notice_id)
        if gone:
            log.info("display messages %s ended", gone)
        return gone

    def showing(
        self,
        now: datetime | None,
        when: When,
        transaction_id: str | None = None,
        evse_id: int | None = None,
    ) -> list[Notice]:
        """The notices in force for a connector doing ``when`` now, in the order they
        compete for the screen: front ones (newest first), then ahead, then cycle ones
        (oldest first)."""
        found = [
            n
            for n in self._notices.values()
            if n.in_window(now) and n.applies(when, transaction_id, evse_id)
        ]
        return sorted(found, key=precedence)

    def next_change(self, now: datetime | None) -> datetime | None:
        """The next start or end of a notice's window after ``now`` (None: none, or no
        known time)."""
        if now is None:
            return None
        times = [
            t for n in self._notices.values() for t in (n.start, n.end) if t is not None and t > now
        ]
        return min(times, default=None)

    def _wake(self) -> None:
        self._changed.set()
        self._changed = trio.Event()

    async def wait_changed(self) -> None:
        """Return at the next change of the notices kept."""
        await self._changed.wait()


__all__ = [
    "DEFAULT_CAPACITY",
    "MemoryNotices",
    "Notice",
    "NoticeStore",
    "Notices",
    "Place",
    "Priority",
    "TextForm",
    "When",
    "precedence",
    "when_of",
]
