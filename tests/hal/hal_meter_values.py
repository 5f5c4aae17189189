"""Plausible values per quantity, and a fake slave filled with them per a meter's map."""

from __future__ import annotations

from hal_fake_modbus import Slave

from hal.base import Quantity
from hal.meter_maps import MeterModel, encode

VALUES = {
    (Quantity.VOLTAGE, 1): 230.1,
    (Quantity.VOLTAGE, 2): 231.2,
    (Quantity.VOLTAGE, 3): 229.3,
    (Quantity.CURRENT, 1): 10.5,
    (Quantity.CURRENT, 2): 11.25,
    (Quantity.CURRENT, 3): 9.75,
    (Quantity.POWER, None): 7250.5,
    (Quantity.FREQUENCY, None): 50.0,
    (Quantity.ENERGY_IMPORT, None): 12_345_600.0,  # Wh
    (Quantity.ENERGY_EXPORT, None): 12_300.0,
}


def registers(model: MeterModel, values: dict = VALUES) -> dict[int, int]:
    """address → word for every register the model reads (unmapped ones in a block: 0)."""
    words: dict[int, int] = {}
    for block in model.blocks():
        for address in range(block.address, block.address + block.count):
            words[address] = 0
    for field in model.fields:
        raw = values[(field.quantity, field.phase)] / field.factor
        for i, word in enumerate(encode(field.encoding, raw)):
            words[field.address + i] = word
    return words


def load(slave: Slave, unit: int, model: MeterModel, values: dict = VALUES) -> None:
    table = "holding" if model.table == "holding" else "input"
    for address, word in registers(model, values).items():
        slave.set(unit, table, address, [word])
