"""Run the real daemon in-process against the independent central system, on virtual time.

    async with charger(nursery, csms, keys={"MeterValueSampleInterval": 60}) as cp:
        station = await cp.station()
        await cp.sim("plug", 1)
        await cp.swipe("04A2B3C4")

Everything is real: loopback sockets, the websocket link, the journal file, the
control socket ``ocppctl`` uses. Time is trio's MockClock (``autojump_clock``), so
the journal runs inline (a worker thread would be invisible to the clock).
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import trio

from ocppd import config
from ocppd.app import Daemon, Outcome, Parts
from ocppd.clock import Clock
from ocppd.control.client import Refused, request
from ocppd.features import PROFILES
from ocppd.features.profile import Profile
from ocppd.sdnotify import Notifier
from ocppd.testing.csms import CentralSystem, Station

EPOCH = datetime(2026, 11, 21, 10, 0, 0, tzinfo=UTC).timestamp()
CP_ID = "CP-TEST"


def wall() -> float:
    """The wall clock of a test: a fixed date plus trio's (virtual) clock."""
    return EPOCH + trio.current_time()


def _current_wall() -> float:
    """Looked up at each call, so a test may replace ``wall`` (a board without a clock)."""
    return wall()


def csms_now() -> datetime:
    return datetime.fromtimestamp(wall(), UTC)


def make_csms(**kwargs: Any) -> CentralSystem:
    kwargs.setdefault("now", csms_now)
    return CentralSystem(**kwargs)


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return json.dumps(str(value))


def config_text(
    *,
    url: str,
    state_dir: Path,
    socket: Path,
    cp_id: str = CP_ID,
    connectors: int = 1,
    keys: dict[str, Any] | None = None,
    ocpp: dict[str, Any] | None = None,
    connector_extra: str = "",
    rfid: str = 'driver = "sim"',
    log_level: str = "debug",
    devices: str | None = None,
) -> str:
    """A config for tests: sim devices unless ``devices`` gives connector 1's device tables."""
    ocpp = {"reconnect_min_s": 1.0, "reconnect_max_s": 30.0, **(ocpp or {})}
    ocpp_lines = "\n".join(f"{k} = {toml_value(v)}" for k, v in ocpp.items())
    key_lines = "\n".join(f"{k} = {toml_value(v)}" for k, v in (keys or {}).items())
    text = f"""
[ocpp]
url = "{url}"
charge_point_id = "{cp_id}"
{ocpp_lines}

[ocpp.keys]
{key_lines}

[charge_point]
vendor = "ocppd-tests"
model = "sim"
serial_number = "T-0001"

[storage]
state_dir = "{state_dir}"

[control]
socket = "{socket}"

[log]
level = "{log_level}"

[rfid]
{rfid}
"""
    for cid in range(1, connectors + 1):
        if devices is not None and cid == 1:
            text += f"\n[[connector]]\nid = 1\nmax_current_a = 32.0\nphases = 3\n{devices}\n"
            continue
        text += f"""
[[connector]]
id = {cid}
max_current_a = 32.0
phases = 3
[connector.contactor]
driver = "sim"
[connector.plug]
driver = "sim"
power_w = 7200.0
[connector.meter]
driver = "sim"
initial_wh = 1000.0
{connector_extra}
"""
    return text


@dataclass
class Charger:
    """A running daemon and the handles tests use."""

    csms: CentralSystem
    daemon: Daemon
    parts: Parts
    settings: config.Settings
    state_dir: Path
    settings_text: str = ""
    outcome: list[Outcome] = field(default_factory=list)
    done: trio.Event = field(default_factory=trio.Event)

    @property
    def socket(self) -> Path:
        return self.settings.control.socket

    @property
    def charger(self) -> Any:
        return self.parts.charger

    @property
    def keys(self) -> Any:
        return self.parts.keys

    @property
    def journal(self) -> Any:
        return self.parts.journal

    def world(self, connector: int = 1) -> Any:
        return self.parts.hardware.sim[connector]

    def connector(self, connector: int = 1) -> Any:
        return self.parts.charger.connectors[connector]

    async def station(self, connection: int = 1) -> Station:
        with trio.fail_after(120):
            return await self.csms.wait_station(
                self.settings.ocpp.charge_point_id, connection=connection
            )

    async def registered(self, connection: int = 1) -> Station:
        """The station once BootNotification was answered and statuses were sent."""
        station = await self.station(connection)
        with trio.fail_after(120):
            await station.wait_for("StatusNotification", lambda p: p["connectorId"] == 0)
            n = len(self.parts.charger.connectors)
            await station.wait_for("StatusNotification", lambda p: p["connectorId"] == n)
        return station

    async def control(self, message: dict[str, Any]) -> Any:
        """One request over the real control socket; raises ControlRefused on ok=false."""
        return await request(self.socket, message)

    async def sim(self, action: str, connector: int = 1, **extra: Any) -> Any:
        return await self.control({"cmd": "sim", "action": action, "connector": connector, **extra})

    async def swipe(self, tag: str) -> Any:
        return await self.control({"cmd": "swipe", "id_tag": tag})

    async def status(self) -> Any:
        return await self.control({"cmd": "status"})

    async def settle(self, seconds: float = 1.0) -> None:
        """Let everything in flight finish (virtual seconds)."""
        await trio.sleep(seconds)

    async def stop(self) -> None:
        self.daemon.stop()
        with trio.fail_after(60):
            await self.done.wait()


ControlRefused = Refused


@asynccontextmanager
async def charger(
    nursery: trio.Nursery,
    csms: CentralSystem,
    *,
    state_dir: Path | None = None,
    url: str | None = None,
    notifier: Notifier | None = None,
    journal_options: dict[str, Any] | None = None,
    profiles: tuple[Profile, ...] = PROFILES,
    **options: Any,
) -> AsyncIterator[Charger]:
    """Start a daemon (stopped in order at the end of the block)."""
    tmp = None
    if state_dir is None:
        tmp = tempfile.TemporaryDirectory(prefix="ocppd-test-")
        state_dir = Path(tmp.name)
    socket_dir = Path(tempfile.mkdtemp(prefix="ocppd-sock-"))
    socket = socket_dir / "control.sock"
    text = config_text(url=url or csms.url, state_dir=state_dir, socket=socket, **options)
    path = state_dir / "ocppd.toml"
    path.write_text(text)  # SIGHUP re-reads it
    settings = config.parse(text, path)
    daemon = Daemon(
        settings,
        clock=Clock(wall=_current_wall, boot_id="test-boot"),
        notifier=notifier or Notifier({}),
        virtual_time=True,
        journal_options=journal_options,
        profiles=profiles,
    )
    handle: Charger | None = None
    started = trio.Event()
    holder: dict[str, Any] = {}

    async def run() -> None:
        outcome = await daemon.run(task_status=_Started(holder, started))
        if handle is not None:
            handle.outcome.append(outcome)
            handle.done.set()

    nursery.start_soon(run)
    with trio.fail_after(30):
        await started.wait()
    handle = Charger(csms, daemon, holder["parts"], settings, state_dir, text)
    try:
        yield handle
    finally:
        if not handle.done.is_set():
            daemon.stop()
            with trio.move_on_after(60):
                await handle.done.wait()
        shutil.rmtree(socket_dir, ignore_errors=True)
        if tmp is not None:
            tmp.cleanup()


class _Started:
    """A task_status that records what the daemon reports when it is up."""

    def __init__(self, holder: dict[str, Any], event: trio.Event) -> None:
        self.holder = holder
        self.event = event

    def started(self, value: Any = None) -> None:
        self.holder["parts"] = value
        self.event.set()
