"""When a transaction begins and when it ends: the points a charge point may be told.

A session has three facts that come and go: the EV's cable is in, a driver is authorised,
energy flows. A transaction begins at the first *start point* reached and ends when the
first *stop point* no longer holds (OCPP 2.0.1 E01 and E06 call them TxStartPoint and
TxStopPoint; their words are in ``features/v201/words.py``). The classic rule, and the only
one OCPP 1.6 knows, is ``POWER_PATH_CLOSED`` both ways: a transaction begins once a driver
is authorised *and* the EV is plugged in, and ends when either stops.

This module is pure: :class:`TxPoints` answers the connector's questions ("does a
transaction begin now?", "does it end when the cable goes?"), tested row by row.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class TxPoint(StrEnum):
    """A point in a session where a transaction may begin or end."""

    EV_CONNECTED = "EV connected"  # the cable connects the EV
    AUTHORIZED = "authorized"  # a driver is authorised (or nobody needs to be)
    POWER_PATH_CLOSED = "power path closed"  # both: authorised, and the EV connected
    ENERGY_TRANSFER = "energy transfer"  # energy flows to the EV


@dataclass(frozen=True, slots=True)
class Moment:
    """The session's facts at one moment, as the points read them."""

    plugged: bool
    authorized: bool
    energy: bool = False


def holds(point: TxPoint, now: Moment) -> bool:
    """Whether ``point`` is reached at ``now`` (E01.FR.05 / E06.FR.06: the power path is
    closed while a driver is authorised and the EV is connected; energy flows only then)."""
    if point is TxPoint.EV_CONNECTED:
        return now.plugged
    if point is TxPoint.AUTHORIZED:
        return now.authorized
    if point is TxPoint.POWER_PATH_CLOSED:
        return now.plugged and now.authorized
    return now.plugged and now.authorized and now.energy


# the start of a transaction needs a driver (its token) for the charge to go on; these stop
# points end the transaction when the driver's authorisation ends (a tag, a remote stop, the
# central system's verdict): with only EVConnected, it goes on until the cable is out
_ENDS_WITH_AUTHORIZATION = frozenset(
    {TxPoint.AUTHORIZED, TxPoint.POWER_PATH_CLOSED, TxPoint.ENERGY_TRANSFER}
)
# PowerPathClosed is not here: the cable leaving ends such a transaction as it always did
# (1.6, and ocppd's 2.0.1 default), by StopTxOnEVSideDisconnect, true by default. Read
# strictly, E06.FR.06 would end it at every unplug and make that key meaningless with the
# default stop point; an installer who set it false expects the session to survive a cable
# out and back (E10), in either version.
_ENDS_AT_UNPLUG = frozenset({TxPoint.EV_CONNECTED, TxPoint.ENERGY_TRANSFER})


@dataclass(frozen=True, slots=True)
class TxPoints:
    """Where transactions begin (``start``) and end (``stop``); ``authorization``: False when
    the charge point lets anyone charge (nobody is asked: the driver counts as authorised
    once the EV is plugged in)."""

    start: frozenset[TxPoint] = frozenset({TxPoint.POWER_PATH_CLOSED})
    stop: frozenset[TxPoint] = frozenset({TxPoint.POWER_PATH_CLOSED})
    authorization: bool = True

    def __post_init__(self) -> None:
        if not self.start or not self.stop:
            raise ValueError("a transaction needs at least one start and one stop point")

    def begins(self, now: Moment) -> bool:
        """A transaction begins at ``now`` (called when one of the facts just came, with no
        transaction running): one start point holds."""
        return any(holds(point, now) for point in self.start)

    def ends_with_authorization(self) -> bool:
        """The driver's authorisation ending (their tag again, a remote stop, a refusal of
        the central system) ends the transaction; otherwise only the energy stops and the
        transaction goes on until the cable is out (E06.FR.02: TxStopPoint EVConnected)."""
        return bool(self.stop & _ENDS_WITH_AUTHORIZATION)

    def ends_at_unplug(self, *, energy_flowed: bool) -> bool:
        """The cable leaving the EV ends the transaction (E06.FR.02, .07), regardless of
        StopTxOnEVSideDisconnect (which may end it too, and alone decides for
        PowerPathClosed). Energy transfer ends there only if it ever began: a point that
        never held cannot stop holding."""
        points = self.stop if energy_flowed else self.stop - {TxPoint.ENERGY_TRANSFER}
        return bool(points & _ENDS_AT_UNPLUG)

    def ends_when_ev_pauses(self, *, energy_flowed: bool) -> bool:
        """The EV no longer asking for energy (it paused or finished) ends the transaction
        (E06.FR.07, stoppedReason StoppedByEV)."""
        return energy_flowed and TxPoint.ENERGY_TRANSFER in self.stop


CLASSIC = TxPoints()
"""Authorised and plugged in, both ways: OCPP 1.6's StartTransaction and StopTransaction."""


__all__ = ["CLASSIC", "Moment", "TxPoint", "TxPoints", "holds"]
