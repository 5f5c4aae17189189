"""Meter register maps as data: encoding, decoding and request grouping, without I/O."""

from __future__ import annotations

import math
import struct

import pytest
from hal_meter_values import VALUES, registers

from hal.base import DeviceError, Quantity
from hal.meter_maps import MODELS, Encoding, decode, encode, raw_value


@pytest.mark.parametrize("name", sorted(MODELS))
def test_every_map_decodes_what_was_encoded(name: str) -> None:
    model = MODELS[name]
    reading = decode(model, registers(model), model.phases)
    assert reading.energy_wh == pytest.approx(VALUES[(Quantity.ENERGY_IMPORT, None)], rel=1e-6)
    assert reading.energy_export_wh == pytest.approx(12_300.0, rel=1e-6)
    assert reading.power_w == pytest.approx(7250.5, rel=1e-6)
    assert reading.frequency_hz == pytest.approx(50.0, rel=1e-6)
    phases = range(1, model.phases + 1)
    assert reading.voltage_v == pytest.approx([VALUES[(Quantity.VOLTAGE, p)] for p in phases])
    assert reading.current_a == pytest.approx([VALUES[(Quantity.CURRENT, p)] for p in phases])


@pytest.mark.parametrize("name", sorted(MODELS))
def test_every_map_reads_import_energy_voltage_current_power(name: str) -> None:
    model = MODELS[name]
    assert {
        Quantity.ENERGY_IMPORT,
        Quantity.POWER,
        Quantity.CURRENT,
        Quantity.VOLTAGE,
    } <= model.quantities
    assert model.table in ("input", "holding")


@pytest.mark.parametrize("name", sorted(MODELS))
def test_blocks_cover_each_field_once_and_stay_small(name: str) -> None:
    model = MODELS[name]
    blocks = model.blocks()
    assert sorted((f for b in blocks for f in b.fields), key=id) == sorted(model.fields, key=id)
    for block in blocks:
        assert block.count <= 64
        for field in block.fields:
            assert block.address <= field.address and field.end <= block.address + block.count
    assert sum(b.required for b in blocks) == 1


def test_sdm630_addresses_follow_the_interface_contract() -> None:
    fields = {(f.quantity, f.phase): f.address for f in MODELS["sdm630"].fields}
    assert fields[(Quantity.VOLTAGE, 1)] == 0x0000
    assert fields[(Quantity.CURRENT, 3)] == 0x000A
    assert fields[(Quantity.POWER, None)] == 0x0034
    assert fields[(Quantity.ENERGY_IMPORT, None)] == 0x0048


def test_word_orders() -> None:
    assert raw_value(Encoding.F32, list(struct.unpack(">HH", struct.pack(">f", 1.5)))) == 1.5
    assert raw_value(Encoding.S32_SWAPPED, [0x0002, 0x0001]) == 0x00010002
    assert raw_value(Encoding.S32_SWAPPED, [0xFFFF, 0xFFFF]) == -1
    assert raw_value(Encoding.U64, [0, 0, 1, 0]) == 65536
    assert encode(Encoding.S32_SWAPPED, 0x00010002) == [0x0002, 0x0001]


def test_not_available_markers_and_nan_become_none() -> None:
    assert raw_value(Encoding.U32, [0xFFFF, 0xFFFF], all_ones_is_missing=True) is None
    assert raw_value(Encoding.S32, [0x7FFF, 0xFFFF], all_ones_is_missing=True) is None
    assert raw_value(Encoding.U32, [0xFFFF, 0xFFFF]) == 0xFFFFFFFF
    nan = list(struct.unpack(">HH", struct.pack(">f", math.nan)))
    assert raw_value(Encoding.F32, nan) is None


def test_abb_voltage_not_available_is_left_out_but_energy_must_be_there() -> None:
    model = MODELS["abb-b23"]
    words = registers(model)
    words[0x5B00] = words[0x5B01] = 0xFFFF
    assert decode(model, words, 3).voltage_v == ()
    for address in range(0x5000, 0x5004):
        words[address] = 0xFFFF
    with pytest.raises(DeviceError, match="import energy"):
        decode(model, words, 3)


def test_single_phase_connector_on_three_phase_meter_reports_one_phase() -> None:
    model = MODELS["sdm630"]
    reading = decode(model, registers(model), 1)
    assert reading.voltage_v == pytest.approx([230.1]) and len(reading.current_a) == 1
