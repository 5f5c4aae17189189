"""The example configs check against the drivers' declared options and build; the hardware
document names every option of every real driver."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest
import trio

from hal import ConnectorSpec, build_hardware
from hal.options import read_options
from hal.registry import DeviceKind, DeviceSpec, driver_for, drivers_of

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "etc" / "examples").glob("*.toml"))
CONFIGS = {path.name: tomllib.loads(path.read_text()) for path in EXAMPLES}


def device(kind: DeviceKind, table: dict[str, Any]) -> DeviceSpec:
    driver = driver_for(kind, table["driver"])
    assert driver is not None, table["driver"]
    values, problems = read_options(driver.options, table, ignore=("driver",))
    assert problems == [], (kind, problems)
    return DeviceSpec(kind, table["driver"], values)


def specs(config: dict[str, Any]) -> tuple[list[ConnectorSpec], DeviceSpec | None]:
    connectors = []
    for raw in config["connector"]:
        devices = {
            kind: device(kind, raw[kind.value])
            for kind in DeviceKind
            if kind is not DeviceKind.RFID and kind.value in raw
        }
        connectors.append(ConnectorSpec(raw["id"], devices, raw["max_current_a"], raw["phases"]))
    rfid = device(DeviceKind.RFID, config["rfid"]) if "rfid" in config else None
    return connectors, rfid


def redirect(config: Any, tmp_path: Path) -> Any:
    """The same config with device paths under ``tmp_path``: a test must never write to a
    real serial port or sysfs of the machine it runs on."""
    if isinstance(config, dict):
        out = {k: redirect(v, tmp_path) for k, v in config.items()}
        for key in ("port", "sysfs_root"):
            if isinstance(out.get(key), str):
                out[key] = str(tmp_path / out[key].strip("/").replace("/", "_"))
        return out
    if isinstance(config, list):
        return [redirect(v, tmp_path) for v in config]
    return config


def test_there_are_the_two_promised_examples() -> None:
    assert [p.name for p in EXAMPLES] == ["evse-board.toml", "relay-meter-rdm6300.toml"]


@pytest.mark.parametrize("name", sorted(CONFIGS))
async def test_example_config_checks_and_builds(name: str, pins: Any, tmp_path: Path) -> None:
    connectors, rfid = specs(redirect(CONFIGS[name], tmp_path))
    hardware = build_hardware(connectors, rfid, tmp_path)
    with trio.fail_after(10):
        await hardware.aclose()


def test_hardware_doc_names_every_option_of_every_real_driver() -> None:
    text = (ROOT / "docs" / "hardware.md").read_text()
    for kind in DeviceKind:
        for name in drivers_of(kind):
            if name == "sim":
                continue
            assert f'"{name}"' in text or f"`{name}`" in text, name
            driver = driver_for(kind, name)
            assert driver is not None
            for option in driver.options:
                assert f"`{option.name}`" in text, (kind, name, option.name)
