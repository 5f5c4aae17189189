"""Energy meter register maps as data: one :class:`MeterModel` per supported meter.

Addresses are 0-based protocol addresses (Eastron's manuals list 30001 = 0x0000). Each
field names what it measures, where, how it is encoded and the factor to the unit the
HAL uses (Wh, W, A, V, Hz). Sources (docs/hardware.md has the full table):
Eastron SDM630/SDM120/SDM72D-M manuals as transcribed by volkszaehler/mbmd
(``meters/rs485/sdm*.go``) and hhoefling/openWB_lite ``docs/infos.md`` (SDM72D-M);
ABB B23/B24 manual via mbmd ``abb.go`` (all-0xFF = not available); Carlo Gavazzi
EM330/EM340 via mbmd ``carlogavazzi-ex3x0.go``; ORNO WE-516/517 via mbmd ``orno3p.go``.

Nothing here does I/O: :func:`decode` turns register values into a MeterReading.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from hal.base import DeviceError, MeterReading, Quantity


class Encoding(StrEnum):
    """How a value sits in registers (big-endian bytes in each register)."""

    F32 = "f32"  # IEEE 754 float, high word first
    U16 = "u16"
    S16 = "s16"
    U32 = "u32"  # high word first
    S32 = "s32"
    U64 = "u64"
    S32_SWAPPED = "s32-swapped"  # low word first (Carlo Gavazzi)

    @property
    def words(self) -> int:
        return {"u16": 1, "s16": 1, "u64": 4}.get(self.value, 2)


@dataclass(frozen=True, slots=True)
class Field:
    """One value: ``quantity`` (and ``phase`` 1-3 for per-phase values) at ``address``;
    value in HAL units = raw * ``factor``."""

    quantity: Quantity
    address: int
    encoding: Encoding
    factor: float = 1.0
    phase: int | None = None

    @property
    def end(self) -> int:
        return self.address + self.encoding.words


@dataclass(frozen=True, slots=True)
class Block:
    """One read request: ``count`` registers from ``address``, and the fields inside."""

    address: int
    count: int
    fields: tuple[Field, ...]

    @property
    def required(self) -> bool:
        return any(f.quantity is Quantity.ENERGY_IMPORT for f in self.fields)


@dataclass(frozen=True, slots=True)
class MeterModel:
    name: str
    title: str
    table: str  # "input" (FC 4) or "holding" (FC 3)
    phases: int
    fields: tuple[Field, ...]
    source: str
    all_ones_is_missing: bool = False  # ABB: 0xFF.. (unsigned) / 0x7FFF.. (signed) = n/a
    max_block: int = 64
    max_gap: int = 16

    @property
    def quantities(self) -> frozenset[Quantity]:
        return frozenset(f.quantity for f in self.fields)

    def blocks(self, fields: Sequence[Field] | None = None) -> tuple[Block, ...]:
        """Fields grouped into as few requests as the gap and size limits allow."""
        out: list[Block] = []
        current: list[Field] = []
        for f in sorted(self.fields if fields is None else fields, key=lambda f: f.address):
            if current and (
                f.address - max(c.end for c in current) > self.max_gap
                or f.end - current[0].address > self.max_block
            ):
                out.append(_block(current))
                current = []
            current.append(f)
        if current:
            out.append(_block(current))
        return tuple(out)


def _block(fields: list[Field]) -> Block:
    start = fields[0].address
    return Block(start, max(f.end for f in fields) - start, tuple(fields))


def _phases(
    quantity: Quantity, addresses: Sequence[int], encoding: Encoding, factor: float = 1.0
) -> tuple[Field, ...]:
    return tuple(Field(quantity, a, encoding, factor, phase=i + 1) for i, a in enumerate(addresses))


E, P, C, V, F = (
    Quantity.ENERGY_IMPORT,
    Quantity.POWER,
    Quantity.CURRENT,
    Quantity.VOLTAGE,
    Quantity.FREQUENCY,
)
X = Quantity.ENERGY_EXPORT
f32, u16, s16, u32, s32, u64, s32sw = (
    Encoding.F32,
    Encoding.U16,
    Encoding.S16,
    Encoding.U32,
    Encoding.S32,
    Encoding.U64,
    Encoding.S32_SWAPPED,
)

_EASTRON_3P = (
    *_phases(V, (0x0000, 0x0002, 0x0004), f32),
    *_phases(C, (0x0006, 0x0008, 0x000A), f32),
    Field(P, 0x0034, f32),
    Field(F, 0x0046, f32),
    Field(E, 0x0048, f32, 1000.0),  # Total import kWh (0x0156 is import + export)
    Field(X, 0x004A, f32, 1000.0),
)

MODELS: Mapping[str, MeterModel] = {
    m.name: m
    for m in (
        MeterModel(
            "sdm630",
            "Eastron SDM630 (Modbus, v2)",
            "input",
            3,
            _EASTRON_3P,
            "Eastron SDM630 Modbus protocol; mbmd meters/rs485/sdm.go",
        ),
        MeterModel(
            "sdm72",
            "Eastron SDM72D-M",
            "input",
            3,
            _EASTRON_3P,
            "Eastron SDM72D-M register list in hhoefling/openWB_lite docs/infos.md; "
            "mbmd sdm72v2.go",
        ),
        MeterModel(
            "sdm120",
            "Eastron SDM120-Modbus (single phase)",
            "input",
            1,
            (
                Field(V, 0x0000, f32, phase=1),
                Field(C, 0x0006, f32, phase=1),
                Field(P, 0x000C, f32),
                Field(F, 0x0046, f32),
                Field(E, 0x0048, f32, 1000.0),
                Field(X, 0x004A, f32, 1000.0),
            ),
            "Eastron SDM120 Modbus protocol; mbmd meters/rs485/sdm120.go",
        ),
        MeterModel(
            "abb-b23",
            "ABB B23/B24 (and A43/A44)",
            "holding",
            3,
            (
                Field(E, 0x5000, u64, 10.0),  # 0.01 kWh
                Field(X, 0x5004, u64, 10.0),
                *_phases(V, (0x5B00, 0x5B02, 0x5B04), u32, 0.1),
                *_phases(C, (0x5B0C, 0x5B0E, 0x5B10), u32, 0.01),
                Field(P, 0x5B14, s32, 0.01),
                Field(F, 0x5B2C, u16, 0.01),
            ),
            "ABB B-series manual (Energiezaehler_B-Serie_Handbuch); mbmd meters/rs485/abb.go",
            all_ones_is_missing=True,
        ),
        MeterModel(
            "em340",
            "Carlo Gavazzi EM340 (also EM330, ET330, ET340)",
            "input",
            3,
            (
                *_phases(V, (0x0000, 0x0002, 0x0004), s32sw, 0.1),
                *_phases(C, (0x000C, 0x000E, 0x0010), s32sw, 0.001),
                Field(P, 0x0028, s32sw, 0.1),
                Field(F, 0x0033, s16, 0.1),
                Field(E, 0x0034, s32sw, 100.0),  # 0.1 kWh
                Field(X, 0x004E, s32sw, 100.0),
            ),
            "Carlo Gavazzi EM330/EM340/ET330/ET340 communication protocol; "
            "mbmd meters/rs485/carlogavazzi-ex3x0.go",
        ),
        MeterModel(
            "orno-we516",
            "ORNO OR-WE-516 (and WE-517)",
            "holding",
            3,
            (
                *_phases(V, (0x000E, 0x0010, 0x0012), f32),
                Field(F, 0x0014, f32),
                *_phases(C, (0x0016, 0x0018, 0x001A), f32),
                Field(P, 0x001C, f32, 1000.0),  # kW
                Field(E, 0x0108, f32, 1000.0),  # import kWh (0x0100 is the total)
                Field(X, 0x0110, f32, 1000.0),
            ),
            "ORNO OR-WE-516 register description; mbmd meters/rs485/orno3p.go",
        ),
    )
}


# --- decoding -----------------------------------------------------------------------------------

_STRUCT = {
    Encoding.F32: ">f",
    Encoding.U16: ">H",
    Encoding.S16: ">h",
    Encoding.U32: ">I",
    Encoding.S32: ">i",
    Encoding.U64: ">Q",
    Encoding.S32_SWAPPED: ">i",
}


def raw_value(
    encoding: Encoding, words: Sequence[int], *, all_ones_is_missing: bool = False
) -> float | None:
    """The number in ``words`` (None when the meter marks it as not available)."""
    if encoding is Encoding.S32_SWAPPED:
        words = (words[1], words[0])
    data = struct.pack(f">{len(words)}H", *words)
    if all_ones_is_missing:
        signed = encoding in (Encoding.S16, Encoding.S32, Encoding.S32_SWAPPED)
        missing = (b"\x7f" + b"\xff" * (len(data) - 1)) if signed else b"\xff" * len(data)
        if data == missing:
            return None
    (value,) = struct.unpack(_STRUCT[encoding], data)
    value = float(value)
    return value if math.isfinite(value) else None


def encode(encoding: Encoding, value: float) -> list[int]:
    """Registers holding ``value`` (the inverse of :func:`raw_value`; for tests and sims)."""
    fmt = _STRUCT[encoding]
    number: float | int = value if encoding is Encoding.F32 else round(value)
    words = list(struct.unpack(f">{encoding.words}H", struct.pack(fmt, number)))
    return [words[1], words[0]] if encoding is Encoding.S32_SWAPPED else words


def decode(model: MeterModel, values: Mapping[int, int], phases: int) -> MeterReading:
    """A reading from register ``values`` (address → word) covering the model's fields.
    Raises DeviceError when the import register is missing or implausible."""
    found: dict[tuple[Quantity, int | None], float | None] = {}
    for f in model.fields:
        words = [values.get(a) for a in range(f.address, f.end)]
        if any(w is None for w in words):
            continue
        raw = raw_value(
            f.encoding,
            [w for w in words if w is not None],
            all_ones_is_missing=model.all_ones_is_missing,
        )
        found[(f.quantity, f.phase)] = None if raw is None else raw * f.factor
    energy = found.get((Quantity.ENERGY_IMPORT, None))
    if energy is None or energy < 0:
        raise DeviceError(f"{model.name}: import energy register unreadable ({energy})")

    def per_phase(q: Quantity) -> tuple[float, ...]:
        out = [found.get((q, p)) for p in range(1, phases + 1)]
        return tuple(v for v in out if v is not None) if all(v is not None for v in out) else ()

    return MeterReading(
        energy_wh=energy,
        power_w=found.get((Quantity.POWER, None)),
        current_a=per_phase(Quantity.CURRENT),
        voltage_v=per_phase(Quantity.VOLTAGE),
        frequency_hz=found.get((Quantity.FREQUENCY, None)),
        energy_export_wh=found.get((Quantity.ENERGY_EXPORT, None)),
    )
