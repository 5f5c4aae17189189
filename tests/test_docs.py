"""The README stays true: every OCPP key and every config option the code has is documented."""

from __future__ import annotations

from pathlib import Path

import pytest

from ocppd import config
from ocppd.features import declared_keys

README = (Path(__file__).resolve().parent.parent / "README.md").read_text()


@pytest.mark.parametrize("name", sorted(spec.name for spec in declared_keys()))
def test_every_ocpp_configuration_key_is_in_the_readme(name: str) -> None:
    assert f"`{name}`" in README or f"{name}`" in README


@pytest.mark.parametrize(
    ("table", "options"),
    [
        ("ocpp", config.OCPP_OPTIONS),
        ("charge_point", config.CHARGE_POINT_OPTIONS),
        ("storage", config.STORAGE_OPTIONS),
        ("control", config.CONTROL_OPTIONS),
        ("log", config.LOG_OPTIONS),
        ("system", config.SYSTEM_OPTIONS),
    ],
)
def test_every_config_option_is_in_the_readme(table: str, options) -> None:
    for option in options:
        assert option.name in README, f"{table}.{option.name}"


def test_the_readme_shows_the_two_commands() -> None:
    assert "make demo" in README and "make test" in README
