"""A running transaction, the record that outlives it, and the journal it is written to."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

from ocppd.model.metering import Sample
from ocppd.model.status import Status
from ocppd.model.token import DEFAULT_ORIGIN, Origin

# transactionData keeps Begin and End always; intermediate samples are thinned beyond these
# (1.6 errata 3.14: drop intermediate values first, never the start or stop values). The
# second bound holds the StopTransaction near 25 kB however many measurands are configured
# (about 120 bytes per sampled value): a central system's message limit (64 kB is common)
# must never turn the stop, and with it the bill, into a message it refuses.
MAX_STOP_SAMPLES = 96
MAX_STOP_VALUES = 192


class StopReason(StrEnum):
    """Why a transaction ended (each OCPP version has its word for it: 1.6 in
    ``ocppd/features/core/words.py``; the journal keeps the word of the version the stop
    was recorded in)."""

    EMERGENCY_STOP = "emergency stop"
    EV_DISCONNECTED = "EV disconnected"
    HARD_RESET = "hard reset"
    LOCAL = "local"  # the driver's tag (or one of its group) ended it
    OTHER = "other"
    POWER_LOSS = "power loss"  # found running after a crash or power cut
    REBOOT = "reboot"  # ocppd stopped in order
    REMOTE = "remote"  # the central system ended it
    SOFT_RESET = "soft reset"
    UNLOCK_COMMAND = "unlock command"
    DE_AUTHORIZED = "deauthorized"  # the central system says the tag is not valid
    # the missing fact did not come in time (the cable, or a driver's authorisation): only
    # where a transaction may begin before both are there (model/txpoints.py)
    TIMEOUT = "timeout"
    EV_STOPPED = "EV stopped"  # the EV no longer asks for energy (stop point energy transfer)


class StartCause(StrEnum):
    """What came last, and so started a transaction (a start needs a driver's authorisation
    and the EV's cable; OCPP 2.0.1 says it as the triggerReason of the first event)."""

    TAG = "tag"  # the driver's tag was authorised while the cable was in
    CABLE = "cable"  # the cable came while an authorised driver waited
    REMOTE = "remote"  # the central system's remote start, with the cable in
    ENERGY = "energy"  # the EV began to draw energy (start point energy transfer)


class TxChange(StrEnum):
    """Something that happens to a running transaction besides its samples and its status,
    where a transaction may begin before a driver or the cable is there (model/txpoints.py):
    a version that tells its transactions' course journals it (2.0.1), 1.6 never sees one."""

    AUTHORIZED = "authorized"  # a driver's token now authorises it (it began without one)
    CABLE_PLUGGED = "cable plugged"  # the EV's cable came (it began before, or was out)
    CABLE_UNPLUGGED = "cable unplugged"  # the cable went and the transaction goes on
    AUTHORIZATION_ENDED = "authorization ended"  # the charge ended; it waits for the cable


class StorageUnavailable(Exception):
    """The journal cannot be written now (disk full, read-only, I/O error)."""


class TransactionLog(Protocol):
    """Where transactions are made durable and queued for the central system."""

    @property
    def healthy(self) -> bool: ...

    @property
    def problem(self) -> str | None:
        """Why the journal cannot be written (None while it can)."""
        ...

    async def wait_healthy(self) -> None:
        """Return once the journal can be written again."""
        ...

    async def wait_unhealthy(self) -> None:
        """Return once the journal cannot be written."""
        ...

    async def start(
        self,
        *,
        connector_id: int,
        id_tag: str,
        meter_start_wh: int,
        timestamp: str,
        reservation_id: int | None,
        cause: StartCause = StartCause.TAG,
        remote_start_id: int | None = None,
        origin: Origin = DEFAULT_ORIGIN,
        plugged: bool = True,
        begin: Sample | None = None,
    ) -> int:
        """Journal the start; returns the local transaction id. StorageUnavailable.

        ``cause``: what came last; ``remote_start_id``: the central system's number of the
        remote start that began it (a version may echo it in the transaction's messages);
        ``origin``: how the driver's identifier came (the kind of token), for a version that
        says it (1.6 does not). ``id_tag`` empty: no driver yet (it began at the cable);
        ``plugged`` False: the cable is not there yet (it began at the authorisation);
        ``begin``: the start's own values (Transaction.Begin), for a version whose start
        carries them (``MeterPolicy.start_sampled``)."""
        ...

    @property
    def follows_points(self) -> bool:
        """A transaction that starts now may begin and end at the points the policy names
        (``TxPolicy.points``): its version says those points. False: it begins when a driver
        is authorised and the EV plugged in, and ends when either ends (OCPP 1.6 has no such
        setting, so a 1.6 transaction keeps 1.6's rule whatever the 2.0.1 variables say)."""
        ...

    async def noted(
        self,
        local_id: int,
        *,
        change: TxChange,
        timestamp: str,
        id_tag: str | None = None,
        origin: Origin | None = None,
        reason: StopReason | None = None,
        remote_start_id: int | None = None,
    ) -> None:
        """``change`` happened to running transaction ``local_id`` (``id_tag``/``origin``: the
        driver that authorised it, ``remote_start_id`` the remote start that did; ``reason``:
        why the authorisation ended).
        StorageUnavailable."""
        ...

    def known_id(self, local_id: int) -> int | str | None:
        """The id the central system will know transaction ``local_id`` by, when the charge
        point made it at the start (OCPP 2.0.1); None while the answer is to bring it."""
        ...

    async def changed(self, local_id: int, *, status: Status, timestamp: str) -> None:
        """The connector of running transaction ``local_id`` now reports ``status`` (a
        version that tells the charging state in the transaction's messages journals it;
        others ignore it). StorageUnavailable."""
        ...

    async def checkpoint(self, local_id: int, *, energy_wh: float, timestamp: str) -> None:
        """Remember the latest reading (meterStop after a power cut)."""
        ...

    async def meter_values(
        self, local_id: int | None, *, connector_id: int, samples: list[Sample], droppable: bool
    ) -> None:
        """Transaction meter values are journaled; others (local_id None) are sent if online."""
        ...

    async def stop(
        self,
        local_id: int,
        *,
        meter_stop_wh: int,
        timestamp: str,
        reason: StopReason,
        id_tag: str | None,
        transaction_data: list[Sample],
    ) -> None:
        """Journal the StopTransaction (idempotent per transaction). StorageUnavailable."""
        ...


@dataclass
class Transaction:
    """A transaction while it runs on a connector."""

    local_id: int
    connector_id: int
    id_tag: str
    parent_id_tag: str | None
    meter_start_wh: int
    started: str  # wire timestamp (or clock placeholder)
    reservation_id: int | None = None
    # the id the central system knows it by: given by its answer to the start (an integer,
    # OCPP 1.6), or made by the charge point at the start (a string, OCPP 2.0.1)
    transaction_id: int | str | None = None
    cause: StartCause = StartCause.TAG
    remote_start_id: int | None = None  # the remote start that began it, if one did
    told_status: Status | None = None  # the connector's status its log last heard of
    # it follows the policy's start and stop points (model/txpoints.py); False: 1.6's rule
    flexible: bool = False
    authorized: bool = True  # a driver's authorisation lets energy flow (False: none yet, or ended)
    plugged_once: bool = True  # the cable came (False: it began at the authorisation)
    deadline: float = (
        math.inf
    )  # trio clock: the missing cable or driver by then (EVConnectionTimeOut)
    energy_flowed: bool = False  # the contactor closed for it once
    permitted: bool = True  # False: the charger suspends energy (SuspendedEVSE)
    invalid_at_wh: float | None = None  # register when the central system said the tag is invalid
    last_energy_wh: float = 0.0
    stop_data: list[Sample] = field(default_factory=list)

    @property
    def charge_ended(self) -> bool:
        """Its driver's authorisation ended and it waits for the cable (EVConnected stop)."""
        return not self.authorized and bool(self.id_tag)

    @property
    def awaits_driver(self) -> bool:
        """It began at the cable and no driver has authorised it yet."""
        return not self.authorized and not self.id_tag

    def keep_for_stop(self, sample: Sample) -> None:
        """Add a sample for StopTransaction.transactionData, thinning intermediates when full."""
        self.stop_data.append(sample)
        while len(self.stop_data) > 2 and (
            len(self.stop_data) > MAX_STOP_SAMPLES
            or sum(len(kept.values) for kept in self.stop_data) > MAX_STOP_VALUES
        ):
            # keep the first (Transaction.Begin) and the newest; drop every second in between
            middle = self.stop_data[1:-1]
            self.stop_data = [self.stop_data[0], *middle[1::2], self.stop_data[-1]]

    def __repr__(self) -> str:
        return (
            f"<Transaction local={self.local_id} id={self.transaction_id} "
            f"connector={self.connector_id} permitted={self.permitted}>"
        )
