"""Driver registration, declared options, building a whole charger and failing half-way."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
import trio

from hal import ConnectorSpec, HardwareError, build_hardware
from hal.evse_board import EvseDinPlug
from hal.meters import ModbusMeter
from hal.options import REQUIRED, read_options
from hal.registry import DeviceKind, DeviceSpec, driver_for, drivers_of

REAL = {
    DeviceKind.CONTACTOR: {"gpio", "evse-din"},
    DeviceKind.PLUG: {"gpio", "evse-din"},
    DeviceKind.METER: {"modbus-rtu", "modbus-tcp"},
    DeviceKind.RFID: {"serial"},
    DeviceKind.LOCK: {"gpio"},
    DeviceKind.OFFER: {"pwm-sysfs", "evse-din"},
    DeviceKind.INDICATOR: {"gpio"},
    DeviceKind.TEMPERATURE: {"sysfs"},
}


def test_every_real_driver_is_registered_with_documented_valid_defaults() -> None:
    for kind, names in REAL.items():
        assert names <= set(drivers_of(kind)), kind
        for name in names:
            driver = driver_for(kind, name)
            assert driver is not None and driver.doc
            seen = set()
            for option in driver.options:
                assert option.name not in seen and option.doc, (kind, name, option.name)
                seen.add(option.name)
                if option.default is not REQUIRED and option.default is not None:
                    assert option.kind(option.default) == option.default, (name, option.name)


def test_driver_options_give_the_config_loader_its_error_lines() -> None:
    driver = driver_for(DeviceKind.METER, "modbus-rtu")
    assert driver is not None
    values, problems = read_options(
        driver.options, {"baudrate": "fast", "parity": "X", "timeout_s": 0.5, "model": "sdm630"}
    )
    assert {p.key: p.expected for p in problems} == {
        "baudrate": "an integer from 300 to 921600",
        "parity": "one of N | E | O",
        "timeout_s": "an integer from 1 to 10",
    }
    values, problems = read_options(driver.options, {"port": "/dev/ttyAMA0", "unit": 3})
    assert problems == [] and values["stopbits"] == 1 and values["poll_interval_s"] == 5.0


def spec(kind: DeviceKind, driver: str, **options: Any) -> DeviceSpec:
    return DeviceSpec(kind, driver, options)


def connector(cid: int = 1, **devices: DeviceSpec) -> ConnectorSpec:
    base = {
        DeviceKind.CONTACTOR: spec(DeviceKind.CONTACTOR, "sim"),
        DeviceKind.PLUG: spec(DeviceKind.PLUG, "sim"),
        DeviceKind.METER: spec(DeviceKind.METER, "sim"),
    }
    base.update({DeviceKind(k if k != "offer" else "pilot"): v for k, v in devices.items()})
    return ConnectorSpec(cid, base, max_current_a=16.0, phases=3)


def test_a_failing_device_releases_the_ones_built_before_and_names_itself(
    pins: Any, tmp_path: Path
) -> None:
    specs = [
        connector(
            1,
            contactor=spec(DeviceKind.CONTACTOR, "gpio", pin=17),
            indicator=spec(DeviceKind.INDICATOR, "gpio", pin=5),
        ),
        connector(2, contactor=spec(DeviceKind.CONTACTOR, "gpio", pin=17)),  # wired twice
    ]
    with pytest.raises(HardwareError) as caught:
        build_hardware(specs, None, tmp_path)
    assert caught.value.device == "connector 2 contactor (gpio)"
    assert "cannot claim GPIO" in caught.value.reason and "GPIOPinInUse" in caught.value.reason
    assert str(caught.value).startswith("connector 2 contactor (gpio): cannot claim GPIO")
    for number in (17, 5):  # released: off and back to inputs
        assert pins.pin(number).function == "input"
    hardware = build_hardware(specs[:1], None, tmp_path)  # the pins are free again
    trio.run(hardware.aclose)


def test_a_bad_option_combination_is_a_hardware_error_too(pins: Any, tmp_path: Path) -> None:
    with pytest.raises(HardwareError, match=r"connector 1 lock \(gpio\): set either pin"):
        build_hardware([connector(lock=spec(DeviceKind.LOCK, "gpio"))], None, tmp_path)


async def test_a_whole_real_charger_builds_without_any_device_present(
    pins: Any, tmp_path: Path
) -> None:
    """Constructors do no I/O (ports, sysfs, TCP): absent devices are faults in run()."""
    missing = str(tmp_path / "missing")
    specs = [
        ConnectorSpec(
            1,
            {
                DeviceKind.CONTACTOR: spec(DeviceKind.CONTACTOR, "gpio", pin=17, feedback_pin=22),
                DeviceKind.PLUG: spec(DeviceKind.PLUG, "gpio", pin=27, requesting_pin=23),
                DeviceKind.METER: spec(DeviceKind.METER, "modbus-rtu", port=missing + "/tty"),
                DeviceKind.LOCK: spec(DeviceKind.LOCK, "gpio", lock_pin=5, unlock_pin=6),
                DeviceKind.INDICATOR: spec(
                    DeviceKind.INDICATOR, "gpio", red_pin=13, green_pin=19, blue_pin=26
                ),
                DeviceKind.OFFER: spec(DeviceKind.OFFER, "pwm-sysfs", sysfs_root=missing),
                DeviceKind.TEMPERATURE: spec(
                    DeviceKind.TEMPERATURE, "sysfs", path=missing + "/temp"
                ),
            },
        )
    ]
    rfid = spec(DeviceKind.RFID, "serial", port=missing + "/ttyS0")
    hardware = build_hardware(specs, rfid, tmp_path)
    devices = hardware.connectors[1]
    assert len(devices.all()) == 7 and hardware.rfid is not None
    await devices.contactor.set_closed(False)  # no feedback yet needed to stay open
    with trio.fail_after(10):
        await hardware.aclose()
    assert pins.pin(17).function == "input"


def test_evse_board_facets_and_a_meter_on_one_port_share_board_and_bus(tmp_path: Path) -> None:
    port = str(tmp_path / "ttyRS485")
    specs = [
        ConnectorSpec(
            1,
            {
                DeviceKind.CONTACTOR: spec(DeviceKind.CONTACTOR, "evse-din", port=port),
                DeviceKind.PLUG: spec(DeviceKind.PLUG, "evse-din", port=port),
                DeviceKind.OFFER: spec(DeviceKind.OFFER, "evse-din", port=port),
                DeviceKind.METER: spec(DeviceKind.METER, "modbus-rtu", port=port, unit=2),
            },
        ),
        ConnectorSpec(
            2,
            {
                DeviceKind.CONTACTOR: spec(DeviceKind.CONTACTOR, "evse-din", port=port, unit=3),
                DeviceKind.PLUG: spec(DeviceKind.PLUG, "evse-din", port=port, unit=3),
                DeviceKind.METER: spec(DeviceKind.METER, "modbus-rtu", port=port, unit=4),
            },
        ),
    ]
    hardware = build_hardware(specs, None, tmp_path)
    one, two = hardware.connectors[1], hardware.connectors[2]
    assert isinstance(one.plug, EvseDinPlug) and isinstance(two.plug, EvseDinPlug)
    assert one.plug.board is one.contactor.board is one.offer.board  # type: ignore[attr-defined,union-attr]
    assert one.plug.board is not two.plug.board
    assert isinstance(one.meter, ModbusMeter)
    assert one.plug.board.bus is two.plug.board.bus is one.meter._bus


def test_a_sim_charger_imports_no_device_library(tmp_path: Path) -> None:
    code = textwrap.dedent(
        f"""
        import sys
        from pathlib import Path
        from hal import ConnectorSpec, build_hardware
        from hal.registry import DeviceKind, DeviceSpec
        devices = {{k: DeviceSpec(k, "sim") for k in (DeviceKind.CONTACTOR, DeviceKind.PLUG,
                                                    DeviceKind.METER)}}
        build_hardware([ConnectorSpec(1, devices)], DeviceSpec(DeviceKind.RFID, "sim"),
                       Path({str(tmp_path)!r}))
        loaded = sorted(m for m in sys.modules
                        if m.split(".")[0] in ("gpiozero", "pymodbus", "serial", "lgpio",
                                               "PIL", "luma", "qrcode"))
        assert not loaded, loaded
        """
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
