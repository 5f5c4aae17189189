"""What a connector needs from the charge point around it, and nothing more.

A :class:`~ocppd.model.connector.Connector` depends on this protocol, not on the
:class:`~ocppd.model.charger.Charger` (which implements it): the policies, the clock, the
transaction log and the uplink; what holds for the charge point as a whole (in service,
faulted, stopping); a supervised spawn for work that outlives the call that started it;
and the few things a connector tells the charge point (a tag read at the connector, a
claim taken, a status changed). In the manner of libocpp's ``FunctionalBlockContext``:
a room gets its context, and changes other rooms only through their verbs.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from hal.base import Fault
from ocppd.clock import Clock
from ocppd.model.auth import Uplink
from ocppd.model.policies import Policies
from ocppd.model.reservation import Reservation
from ocppd.model.transaction import TransactionLog


class ChargePointContext(Protocol):
    """The charge point, as one of its connectors sees it."""

    # --- services ---

    @property
    def policies(self) -> Policies: ...

    @property
    def clock(self) -> Clock: ...

    @property
    def txlog(self) -> TransactionLog: ...

    @property
    def uplink(self) -> Uplink: ...

    # --- facts of the charge point as a whole ---

    @property
    def accepts_sessions(self) -> bool:
        """In service, and no charger-wide fault that stops new sessions."""
        ...

    @property
    def faulted(self) -> bool:
        """A charger-wide fault stops energy on every connector."""
        ...

    def blocking_fault(self) -> Fault | None:
        """The charger-wide fault that stops energy, if any."""
        ...

    @property
    def stopping(self) -> bool:
        """An orderly stop began: no new transaction may start."""
        ...

    @property
    def held(self) -> str | None:
        """Why no new session may start now (maintenance, e.g. an update waits), or None."""
        ...

    # --- work that outlives its caller ---

    def spawn(self, what: str, fn: Callable[..., Awaitable[Any]], *args: Any) -> None:
        """Start ``fn(*args)`` in a nursery the daemon owns; its errors are log lines
        (ocppd/model/supervise.py)."""
        ...

    async def retry_storage(self, write: Callable[[], Awaitable[None]]) -> None:
        """Retry a journal write that must land until it does (run it with :meth:`spawn`)."""
        ...

    async def persist_availability(self, connector_id: int, operative: bool) -> None:
        """Persist a connector's availability. Raises StorageUnavailable."""
        ...

    # --- what a connector tells the charge point ---

    def tag_read(self, id_tag: str) -> None:
        """A reader wired to the connector read a tag (tags go to the charge point: it
        decides where the session starts or which one it ends)."""
        ...

    def claim_taken(self, connector_id: int, id_tag: str) -> None:
        """``id_tag`` starts at connector ``connector_id``: its claims elsewhere are given
        up."""
        ...

    def status_changed(self) -> None:
        """A connector's status or error changed."""
        ...

    def free_changed(self) -> None:
        """A connector became free for a new session, or stopped being free (its status may
        not change: a driver claims a connector with a cable in it)."""
        ...

    # --- reservations (model/reservation.py) ---

    def reservation_for(
        self, id_tag: str, parent_id_tag: str | None, connector_id: int
    ) -> Reservation | None:
        """The charge point's reservation (connector 0) this driver may use at
        ``connector_id``, if any."""
        ...

    def reservation_blocks(self, id_tag: str, parent_id_tag: str | None, connector_id: int) -> bool:
        """A start of this driver at ``connector_id`` would take the last free connector
        that the charge point's reservation (connector 0) of another driver needs."""
        ...

    def reservation_used(self, reservation: Reservation) -> None:
        """A transaction started with ``reservation``: it ends."""
        ...

    def reservation_lost(self, reservation: Reservation, why: str) -> None:
        """A connector ended its reservation (it became Faulted or Unavailable)."""
        ...

    def notice(self) -> None:
        """Something a person at the charger would notice changed (a refusal shown, a
        session ended): a screen that follows the charger wakes."""
        ...
