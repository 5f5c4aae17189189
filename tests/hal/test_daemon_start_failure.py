"""A start that fails half-way lets go of everything it took: GPIO lines (gpiozero's
MockFactory knows who holds a pin), and the journal's lock."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import trio

from hal import build_hardware
from ocppd import config
from ocppd.app import Daemon, StartupError
from ocppd.clock import Clock
from ocppd.control.server import SocketPathTaken
from ocppd.journal import Journal
from ocppd.sdnotify import Notifier
from tests.harness import config_text

COIL, PLUG = 17, 27
DEVICES = f"""
[connector.contactor]
driver = "gpio"
pin = {COIL}
[connector.plug]
driver = "gpio"
pin = {PLUG}
[connector.meter]
driver = "sim"
"""


@pytest.fixture
def sock_dir() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="ocppd-ctl-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def daemon(tmp_path: Path, socket: Path) -> Daemon:
    text = config_text(
        url="ws://127.0.0.1:9/ocpp", state_dir=tmp_path / "state", socket=socket, devices=DEVICES
    )
    settings = config.parse(text, tmp_path / "ocppd.toml")
    return Daemon(
        settings,
        clock=Clock(boot_id="test-boot"),
        notifier=Notifier({}),
        virtual_time=True,
    )


async def assert_pins_are_free(d: Daemon) -> None:
    """Another charger can claim the same pins: nobody holds them any more."""
    s = d.settings
    hardware = build_hardware([c.spec() for c in s.connectors], s.rfid, s.storage.state_dir)
    await hardware.aclose()


async def test_a_journal_that_cannot_be_opened_releases_the_hardware(
    pins: Any, tmp_path: Path, sock_dir: Path
) -> None:
    d = daemon(tmp_path, sock_dir / "c.sock")
    holder = await Journal.open(tmp_path / "state", inline=True)  # another ocppd has it
    try:
        with (
            trio.fail_after(30),
            pytest.raises(StartupError, match="in use by another ocppd") as caught,
        ):
            await d.run()
    finally:
        await holder.aclose()
    assert not pins.pin(COIL).state  # the contactor was opened before anything else
    # released by the daemon, not by the garbage collector: the error (and with it every
    # frame of the failed start) is still alive here, as while the CLI reports it
    await assert_pins_are_free(d)
    assert caught.value.status == 73


async def test_a_control_socket_path_that_is_taken_releases_hardware_and_journal(
    pins: Any, tmp_path: Path, sock_dir: Path
) -> None:
    (sock_dir / "c.sock").write_text("not a socket\n")
    d = daemon(tmp_path, sock_dir / "c.sock")
    with trio.fail_after(30), pytest.raises(BaseException) as caught:
        await d.run()
    await assert_pins_are_free(d)
    raised = caught.value  # alone, or in a group (trio's strict exception groups)
    while isinstance(raised, BaseExceptionGroup) and len(raised.exceptions) == 1:
        raised = raised.exceptions[0]
    assert isinstance(raised, SocketPathTaken)
    journal = await Journal.open(tmp_path / "state", inline=True)  # its lock was released
    await journal.aclose()
