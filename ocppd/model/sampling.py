"""Meter values of one connector: while a transaction runs, clock-aligned, and at its ends.

In the manner of MicroOcpp's ``MeteringConnector`` (``beginTxMeterData``,
``endTxMeterData``): the :class:`MeterSampler` decides which values are taken and when
(the :class:`~ocppd.model.policies.MeterPolicy`), journals them, and keeps those that go
into the stop's transaction data (Transaction.Begin and .End always, intermediate ones
thinned: ``Transaction.keep_for_stop``). While a transaction runs it also checkpoints the
meter register, so a power cut finds a meterStop.

It reads the meter through a small port (:class:`Metered`, the connector): the reading
happens under the connector's lock, so a sample never interleaves with a start or a stop.
"""

from __future__ import annotations

import logging
import math
from contextlib import AbstractAsyncContextManager
from typing import Protocol

import trio

from hal.base import MeterReading
from ocppd.model.context import ChargePointContext
from ocppd.model.metering import Context, Sample, sampled_values
from ocppd.model.transaction import StorageUnavailable, Transaction

log = logging.getLogger(__name__)

CHECKPOINT_S = 60.0  # how often the register is journaled while no samples are taken


class Metered(Protocol):
    """The connector, as its sampler sees it."""

    def exclusive(self) -> AbstractAsyncContextManager[object]:
        """Hold the connector still (its lock) while a reading is taken and used."""
        ...

    def runs(self, tx: Transaction) -> bool:
        """``tx`` still runs on the connector."""
        ...

    async def read_meter(self) -> MeterReading | None:
        """A fresh reading, or None when the meter does not answer."""
        ...

    @property
    def offered_a(self) -> float | None:
        """The current offered to the EV now (Current.Offered, Power.Offered)."""
        ...

    async def sampled(self, tx: Transaction) -> None:
        """A periodic sample of ``tx`` was taken (under :meth:`exclusive`): the connector
        acts on the energy delivered so far."""
        ...


class MeterSampler:
    """What one connector's meter reports, by the meter policy in force."""

    def __init__(self, connector_id: int, context: ChargePointContext) -> None:
        self.id = connector_id
        self.context = context

    def __repr__(self) -> str:
        return f"<MeterSampler connector={self.id} {self.context.policies.meter!r}>"

    def values(
        self,
        reading: MeterReading,
        measurands: tuple[str, ...],
        context: Context,
        timestamp: str | None = None,
        *,
        offered_a: float | None,
    ) -> Sample | None:
        """The ``measurands`` of one reading, stamped ``timestamp`` (default: now); None
        when there are none."""
        if not measurands:
            return None
        values = sampled_values(reading, measurands, context, offered_a=offered_a)
        if not values:
            return None
        return Sample(timestamp or self.context.clock.timestamp(), values)

    # --- the ends of a transaction ---

    def begin(
        self, tx: Transaction, reading: MeterReading, timestamp: str, offered_a: float | None
    ) -> None:
        """Transaction.Begin values for the stop's transaction data."""
        stop_sampled = self.context.policies.meter.stop_sampled
        begin = self.values(reading, stop_sampled, Context.BEGIN, timestamp, offered_a=offered_a)
        if begin is not None:
            tx.keep_for_stop(begin)

    def started(
        self, reading: MeterReading, timestamp: str, offered_a: float | None
    ) -> Sample | None:
        """The start's own values (Transaction.Begin), for a version whose start carries
        them (MeterPolicy.start_sampled)."""
        measurands = self.context.policies.meter.start_sampled
        return self.values(reading, measurands, Context.BEGIN, timestamp, offered_a=offered_a)

    def end(
        self, tx: Transaction, reading: MeterReading, timestamp: str, offered_a: float | None
    ) -> None:
        """Transaction.End values for the stop's transaction data."""
        stop_sampled = self.context.policies.meter.stop_sampled
        end = self.values(reading, stop_sampled, Context.END, timestamp, offered_a=offered_a)
        if end is not None:
            tx.keep_for_stop(end)

    # --- while a transaction runs ---

    async def run(self, tx: Transaction, port: Metered) -> None:
        """While ``tx`` runs: periodic samples every sample interval (on trio's clock from
        the start, not from read times) and checkpoints of the register in between."""
        interval = 0
        next_sample = math.inf
        next_checkpoint = trio.current_time() + CHECKPOINT_S
        while port.runs(tx):
            wanted = self.context.policies.meter.sample_interval_s
            if wanted != interval:  # first pass, or the central system changed it
                interval = wanted
                next_sample = trio.current_time() + interval if interval > 0 else math.inf
            with trio.move_on_at(min(next_sample, next_checkpoint)):
                await self.context.policies.wait_changed()
                continue
            now = trio.current_time()
            if now >= next_sample:
                next_sample += interval  # keep the cadence on the clock, not on read times
                next_checkpoint = now + CHECKPOINT_S
                await self._sample(tx, port)
            else:
                next_checkpoint = now + CHECKPOINT_S
                async with port.exclusive():
                    reading = await port.read_meter() if port.runs(tx) else None
                if reading is not None:
                    await self.checkpoint(tx, reading)

    async def checkpoint(self, tx: Transaction, reading: MeterReading) -> None:
        """Journal the register (the meterStop a power cut will use)."""
        try:
            await self.context.txlog.checkpoint(
                tx.local_id, energy_wh=reading.energy_wh, timestamp=self.context.clock.timestamp()
            )
        except StorageUnavailable:
            pass  # the last checkpoint that landed is what a power cut will use

    async def _sample(self, tx: Transaction, port: Metered) -> None:
        async with port.exclusive():
            if not port.runs(tx):
                return
            reading = await port.read_meter()
            if reading is None:
                return
            await self.checkpoint(tx, reading)
            stamp = self.context.clock.timestamp()  # one reading, one time
            meter, offered = self.context.policies.meter, port.offered_a
            sample = self.values(reading, meter.sampled, Context.PERIODIC, stamp, offered_a=offered)
            if sample is not None:
                await self._journal(tx, sample, "meter values")
            stop_sample = self.values(
                reading, meter.stop_sampled, Context.PERIODIC, stamp, offered_a=offered
            )
            if stop_sample is not None:
                tx.keep_for_stop(stop_sample)
            await port.sampled(tx)

    # --- on the wall clock's boundaries ---

    async def aligned(
        self,
        tx: Transaction | None,
        reading: MeterReading,
        timestamp: str,
        offered_a: float | None,
    ) -> None:
        """Clock-aligned values of ``reading``, taken at the boundary ``timestamp``: with
        the running transaction's id if there is one (then also kept for its stop), else
        sent only if online (1.6 §3.7)."""
        meter = self.context.policies.meter
        sample = self.values(reading, meter.aligned, Context.CLOCK, timestamp, offered_a=offered_a)
        if sample is not None:
            await self._journal(tx, sample, "aligned values")
        if tx is not None:
            stop_sample = self.values(
                reading, meter.stop_aligned, Context.CLOCK, timestamp, offered_a=offered_a
            )
            if stop_sample is not None:
                tx.keep_for_stop(stop_sample)

    async def _journal(self, tx: Transaction | None, sample: Sample, what: str) -> None:
        try:
            await self.context.txlog.meter_values(
                tx.local_id if tx else None,
                connector_id=self.id,
                samples=[sample],
                droppable=True,
            )
        except StorageUnavailable as exc:
            log.warning("connector %d: %s not journaled: %s", self.id, what, exc)
        self.context.uplink.wake()
