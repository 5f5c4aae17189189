"""What the charger is told to do, as policies: the model reads these, never key names.

An OCPP version keeps them up to date from its own configuration (1.6: its configuration
keys, mapped in ``ocppd/features/core/policies.py`` and followed on every
ChangeConfiguration; 2.0.1 would map its device model's variables). The model asks
"stop on EV-side disconnect?", not "what is StopTransactionOnEVSideDisconnect?".

Each policy is a frozen value; :class:`Policies` holds the current ones and tells those
who wait (the sampling and clock-aligned timers) when one changed.
"""

from __future__ import annotations

from dataclasses import dataclass

import trio

from ocppd.model.txpoints import CLASSIC, TxPoints


@dataclass(frozen=True, slots=True)
class AuthPolicy:
    """Who may charge without asking the central system (ocppd/model/auth.py)."""

    cache_enabled: bool = True  # remember the central system's verdicts on tags
    local_pre_authorize: bool = False  # online: a valid cached tag starts at once
    local_authorize_offline: bool = True  # offline: a valid cached tag starts
    allow_offline_unknown: bool = False  # offline: an unknown tag starts
    local_list_enabled: bool = False  # the local authorization list is used
    cache_lifetime_s: int = 0  # a cached verdict without an expiry expires after this; 0: never


@dataclass(frozen=True, slots=True)
class TxPolicy:
    """How a transaction begins and ends."""

    connection_timeout_s: int = 60  # an authorised driver has this long to plug in
    stop_on_ev_disconnect: bool = True  # unplugging at the EV ends the transaction
    unlock_on_ev_disconnect: bool = True  # unplugging at the EV releases the cable lock
    stop_on_invalid_id: bool = True  # the central system says the tag is invalid: stop
    # ... after this much energy (Wh) since the verdict; 0: at once (else: suspend energy)
    max_energy_on_invalid_id_wh: int = 0
    # where transactions begin and end, for a version that says it (model/txpoints.py)
    points: TxPoints = CLASSIC


@dataclass(frozen=True, slots=True)
class MeterPolicy:
    """Which meter values are taken, when, and which go into the stop's transaction data.

    Measurands are named as ``ocppd/model/metering.py`` knows them.
    """

    sample_interval_s: int = 60  # during a transaction; 0: none
    sampled: tuple[str, ...] = ()  # periodic values during a transaction
    stop_sampled: tuple[str, ...] = ()  # of those, kept for the stop
    aligned_interval_s: int = 0  # clock-aligned (from UTC midnight); 0: none
    aligned: tuple[str, ...] = ()
    stop_aligned: tuple[str, ...] = ()
    # the start's own values at Transaction.Begin, for a version whose start carries them
    # (2.0.1 TxStartedMeasurands; 1.6's StartTransaction has meterStart alone)
    start_sampled: tuple[str, ...] = ()


class Policies:
    """The current policies. Whoever owns the configuration calls :meth:`update`."""

    def __init__(
        self,
        auth: AuthPolicy | None = None,
        tx: TxPolicy | None = None,
        meter: MeterPolicy | None = None,
    ) -> None:
        self.auth = auth or AuthPolicy()
        self.tx = tx or TxPolicy()
        self.meter = meter or MeterPolicy()
        self._changed = trio.Event()

    def __repr__(self) -> str:
        return f"<Policies {self.auth!r} {self.tx!r} {self.meter!r}>"

    def update(
        self,
        *,
        auth: AuthPolicy | None = None,
        tx: TxPolicy | None = None,
        meter: MeterPolicy | None = None,
    ) -> None:
        """Take new policies (None: unchanged); wake the waiters when one changed."""
        before = (self.auth, self.tx, self.meter)
        self.auth = auth or self.auth
        self.tx = tx or self.tx
        self.meter = meter or self.meter
        if (self.auth, self.tx, self.meter) != before:
            self._changed.set()
            self._changed = trio.Event()

    async def wait_changed(self) -> None:
        """Return after the next change of any policy (callers re-read what they use)."""
        await self._changed.wait()
