"""Starting the measured charge points as processes of their own, and always stopping them.

:func:`spawn` starts ocppd (``python -m ocppd run -c <generated config>``, sim drivers unless told,
a temporary state directory and control socket, log level ``warning``) or the
reference peer (``python -m bench.peer``) and yields a :class:`Child` with the
perf-counter time of the spawn. Leaving the block sends SIGTERM, then SIGKILL after
a grace period: no run leaves a process behind.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import trio

ROOT = Path(__file__).resolve().parent.parent
STOP_GRACE_S = 5.0

OCPPD_CONFIG = """\
[ocpp]
url = "{url}"
charge_point_id = "{cp_id}"
reconnect_min_s = {reconnect_min_s}
reconnect_max_s = {reconnect_max_s}

[ocpp.keys]
{keys}

[charge_point]
vendor = "ocppd"
model = "bench"

[storage]
state_dir = "{state_dir}"

[control]
socket = "{socket}"

[log]
level = "warning"

{devices}"""

SIM_DEVICES = """\
[rfid]
driver = "sim"

[[connector]]
id = 1
max_current_a = 32.0
phases = 3

[connector.contactor]
driver = "sim"

[connector.plug]
driver = "sim"

[connector.meter]
driver = "sim"
"""


SIM_DISPLAY = """
[display]
driver = "sim"

[buttons]
driver = "sim"
"""
"""A simulated display and buttons (``python -m bench --display``)."""


def ocppd_config(
    url: str,
    cp_id: str,
    workdir: Path,
    *,
    keys: dict[str, object] | None = None,
    reconnect_min_s: float = 1.0,
    reconnect_max_s: float = 5.0,
    state_dir: Path | None = None,
    devices: str = SIM_DEVICES,
) -> Path:
    """Write a config for ocppd into ``workdir``; returns its path. ``devices``: the
    ``[rfid]`` and ``[[connector]]`` sections (sim drivers unless given)."""
    lines = [
        f"{k} = {v!r}" if isinstance(v, str) else f"{k} = {v}" for k, v in (keys or {}).items()
    ]
    text = OCPPD_CONFIG.format(
        url=url,
        cp_id=cp_id,
        keys="\n".join(lines).replace("'", '"'),
        state_dir=state_dir or workdir / "state",
        socket=workdir / "control.sock",
        reconnect_min_s=reconnect_min_s,
        reconnect_max_s=reconnect_max_s,
        devices=devices,
    )
    path = workdir / "ocppd.toml"
    path.write_text(text)
    return path


def ocppd_command(config: Path) -> list[str]:
    return [sys.executable, "-m", "ocppd", "run", "-c", str(config)]


def peer_command(url: str, cp_id: str) -> list[str]:
    return [sys.executable, "-m", "bench.peer", url, cp_id]


def child_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env["PYTHONPATH"] = str(ROOT)
    env.update(extra or {})
    return env


@dataclass
class Child:
    """A started charge point process."""

    name: str
    process: trio.Process
    spawned_ns: int
    log_path: Path

    def __repr__(self) -> str:
        return f"<Child {self.name} pid={self.pid} returncode={self.process.returncode}>"

    @property
    def pid(self) -> int:
        return self.process.pid

    def check_alive(self) -> None:
        if self.process.poll() is not None:
            raise ChildDied(self)

    def tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


class ChildDied(Exception):
    def __init__(self, child: Child) -> None:
        super().__init__(
            f"{child.name} exited with status {child.process.returncode}; its output:\n"
            f"{child.tail()}"
        )


@asynccontextmanager
async def spawn(
    name: str, command: Sequence[str], workdir: Path, env: Mapping[str, str] | None = None
) -> AsyncIterator[Child]:
    """Start ``command`` (``env``: added to the environment); stop it (SIGTERM, then
    SIGKILL) when the block ends, however it ends."""
    log_path = workdir / f"{name}.log"
    with log_path.open("wb") as out:
        spawned_ns = time.perf_counter_ns()
        process = await trio.lowlevel.open_process(
            list(command),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=out,
            cwd=str(ROOT),
            env=child_env(env),
        )
    child = Child(name, process, spawned_ns, log_path)
    try:
        yield child
    finally:
        with trio.CancelScope(shield=True):
            await stop(process)


async def stop(process: trio.Process) -> None:
    if process.returncode is not None:
        return
    try:
        process.send_signal(signal.SIGTERM)
    except ProcessLookupError:
        return
    with trio.move_on_after(STOP_GRACE_S):
        await process.wait()
        return
    process.kill()
    await process.wait()
