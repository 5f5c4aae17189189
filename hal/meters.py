"""Energy meters on Modbus RTU (RS-485) and Modbus TCP, register maps from :mod:`hal.meter_maps`.

``run`` polls the meter every ``poll_interval_s`` and reports each reading. A meter that
does not answer twice in a row (the second try follows within a second) is reported as
a POWER_METER fault, so a silent meter is known within ``poll_interval_s + 2 *
timeout_s + 1`` seconds (8 s with the defaults); it is retried with back-off and the
fault clears on its first answer. While it is silent ``read()`` raises
DeviceUnavailable at once instead of waiting for another timeout.

A block of optional values (voltages, frequency) that the meter refuses with a Modbus
exception is dropped with a warning, so a meter revision without those registers
still counts energy; refusing the import register is a fault (wrong ``model``?).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, Literal

import trio

from hal.base import (
    DeviceError,
    DeviceUnavailable,
    EventSink,
    Fault,
    FaultKind,
    MeterReading,
    Quantity,
    ReadingTaken,
)
from hal.context import DeviceContext
from hal.health import Backoff, FaultLatch
from hal.meter_maps import MODELS, Block, Field, decode
from hal.modbus import ModbusBus, ModbusRefused, Table, line_settings, open_bus
from hal.registry import DeviceKind, with_defaults

log = logging.getLogger(__name__)

QUICK_RETRY_S = 1.0


class ModbusMeter:
    """``EnergyMeter`` for one Modbus unit on a shared :class:`~hal.modbus.ModbusBus`."""

    def __init__(
        self, options: Mapping[str, Any], context: DeviceContext, transport: Literal["rtu", "tcp"]
    ) -> None:
        self.name = context.name
        self.model = MODELS[options["model"]]
        self._bus: ModbusBus = open_bus(context, line_settings(options, transport))
        self._unit: int = options["unit"]
        self._poll_s: float = options["poll_interval_s"]
        self._phases = min(self.model.phases, context.phases)
        self._fields: tuple[Field, ...] = self.model.fields
        self._blocks: tuple[Block, ...] = self.model.blocks()
        self._faults = FaultLatch()
        self._silent = False
        self.last: MeterReading | None = None

    @property
    def quantities(self) -> frozenset[Quantity]:
        return frozenset(f.quantity for f in self._fields)

    @property
    def phases(self) -> int:
        return self._phases

    async def read(self) -> MeterReading:
        if self._silent:
            raise DeviceUnavailable(f"{self.name}: meter not answering")
        reading = await self._fetch()
        self._answered()
        return reading

    async def _fetch(self) -> MeterReading:
        values: dict[int, int] = {}
        blocks = self._blocks
        table: Table = "holding" if self.model.table == "holding" else "input"
        answers = await self._bus.read_many(
            self._unit, table, [(b.address, b.count) for b in blocks]
        )
        for block, words in zip(blocks, answers, strict=True):
            if isinstance(words, ModbusRefused):
                if block.required:
                    raise DeviceError(
                        f"{self.name}: meter refuses its import register "
                        f"0x{block.address:04X} (is model {self.model.name!r} right?): {words}"
                    ) from words
                self._drop(block, words)
                continue
            values.update(
                zip(range(block.address, block.address + block.count), words, strict=True)
            )
        reading = decode(self.model, values, self._phases)
        self.last = reading
        return reading

    def _drop(self, block: Block, exc: ModbusRefused) -> None:
        """Stop asking for optional registers this meter does not have."""
        log.warning(
            "%s: meter refuses registers 0x%04X+%d (%s); not reading %s any more",
            self.name,
            block.address,
            block.count,
            exc,
            ", ".join(sorted({f.quantity.value for f in block.fields})),
        )
        self._fields = tuple(f for f in self._fields if f not in block.fields)
        self._blocks = tuple(b for b in self._blocks if b != block)

    def _answered(self) -> None:
        self._silent = False
        self._faults.clear_fault(FaultKind.POWER_METER)

    async def run(self, sink: EventSink) -> None:
        self._faults.attach(sink)
        backoff = Backoff(self._poll_s, max(60.0, self._poll_s))
        misses = 0
        try:
            while True:
                try:
                    reading = await self._fetch()
                except DeviceUnavailable as exc:
                    misses += 1
                    if misses < 2:
                        log.info("%s: no answer (%s), trying again", self.name, exc)
                        await trio.sleep(QUICK_RETRY_S)
                        continue
                    self._fault("meter not answering", exc, silent=True)
                    await trio.sleep(backoff.next_delay())
                    continue
                except DeviceError as exc:  # answers, but not what a meter of this model says
                    self._fault("meter reading implausible", exc, silent=False)
                    await trio.sleep(backoff.next_delay())
                    continue
                misses = 0
                backoff.reset()
                self._answered()
                sink.report(ReadingTaken(reading))
                await trio.sleep(self._poll_s)
        finally:
            self._faults.detach(sink)

    def _fault(self, info: str, exc: Exception, *, silent: bool) -> None:
        if not self._faults.active(FaultKind.POWER_METER):
            log.error("%s: %s: %s", self.name, info, exc)
        self._silent = silent
        self._faults.raise_fault(Fault(FaultKind.POWER_METER, info))

    async def aclose(self) -> None:
        return None  # the shared bus is closed with the charger's shared resources

    def __repr__(self) -> str:
        energy = None if self.last is None else self.last.energy_wh
        return (
            f"<ModbusMeter {self.name} {self.model.name} unit={self._unit} "
            f"on {self._bus.settings.describe()} energy={energy}Wh {self._faults!r}>"
        )


def rtu_meter(options: Mapping[str, Any], context: DeviceContext) -> ModbusMeter:
    return ModbusMeter(with_defaults(DeviceKind.METER, "modbus-rtu", options), context, "rtu")


def tcp_meter(options: Mapping[str, Any], context: DeviceContext) -> ModbusMeter:
    return ModbusMeter(with_defaults(DeviceKind.METER, "modbus-tcp", options), context, "tcp")
