"""The real daemon as a subprocess: its config, its control socket, SIGKILL and SIGTERM.

``python -m ocppd run -c cfg`` runs with sim drivers, its own state dir and control
socket, and ``[log] level = "info"`` written to one log file per life, so a failure
can show what the daemon said. The control socket speaks the JSON lines ``ocppctl``
speaks (``{"cmd": "status"}`` ...), from trio with a deadline on every request.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import trio

CP_ID = "CP-CRASH"
POWER_W = 18000.0  # the simulated EV's draw: 5 Wh per second, below 32 A x 230 V x 3
INITIAL_WH = 1000.0

# OCPP keys of the crash test: samples every second, Transaction.Begin/End and the
# periodic samples in StopTransaction.transactionData, offline starts for any tag, quick
# retries of refused transaction messages and a ping that finds a dead link in seconds.
KEYS: dict[str, Any] = {
    "MeterValueSampleInterval": 1,
    "MeterValuesSampledData": "Energy.Active.Import.Register,Power.Active.Import",
    "StopTxnSampledData": "Energy.Active.Import.Register",
    "StopTransactionOnEVSideDisconnect": True,
    "UnlockConnectorOnEVSideDisconnect": True,
    "LocalAuthorizeOffline": True,
    "AllowOfflineTxForUnknownId": True,
    "TransactionMessageAttempts": 20,
    "TransactionMessageRetryInterval": 1,
    "WebSocketPingInterval": 2,
    "ConnectionTimeOut": 30,
}


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return json.dumps(str(value))


def config_text(
    *,
    url: str,
    state_dir: Path,
    socket: Path,
    connectors: int,
    log_level: str = "info",
    version: str = "ocpp1.6",
    more_keys: dict[str, Any] | None = None,
) -> str:
    """The daemon's config; ``version``: the one OCPP version it offers (the same keys serve
    both: a 2.0.1 variable that means a 1.6 key is that key); ``more_keys``: the run's own
    (a dotted 2.0.1 name is quoted, as TOML wants)."""
    every = {**KEYS, **(more_keys or {})}
    keys = "\n".join(f"{json.dumps(k) if '.' in k else k} = {_toml(v)}" for k, v in every.items())
    text = f"""
[ocpp]
url = "{url}"
charge_point_id = "{CP_ID}"
versions = ["{version}"]
reconnect_min_s = 0.5
reconnect_max_s = 2.0
connect_timeout_s = 3.0
call_timeout_s = 4.0

[ocpp.keys]
{keys}

[charge_point]
vendor = "ocppd-tests"
model = "crash"
serial_number = "CRASH-0001"

[storage]
state_dir = "{state_dir}"

[control]
socket = "{socket}"

[log]
level = "{log_level}"

[rfid]
driver = "sim"
"""
    for cid in range(1, connectors + 1):
        text += f"""
[[connector]]
id = {cid}
max_current_a = 32.0
phases = 3
[connector.contactor]
driver = "sim"
[connector.plug]
driver = "sim"
power_w = {POWER_W}
[connector.meter]
driver = "sim"
initial_wh = {INITIAL_WH}
"""
    return text


class ControlUnreachable(Exception):
    """The daemon does not answer on its control socket (not started yet, or dead)."""


class ControlRefused(Exception):
    """The daemon answered ``ok: false`` (the message says why)."""


async def control(socket: Path, message: dict[str, Any], timeout: float = 20.0) -> Any:
    """One request over the control socket; the result, or ControlRefused/ControlUnreachable."""
    try:
        with trio.fail_after(timeout):
            stream = await trio.open_unix_socket(str(socket))
            async with stream:
                await stream.send_all(json.dumps(message).encode() + b"\n")
                data = b""
                while not data.endswith(b"\n"):
                    chunk = await stream.receive_some(65536)
                    if not chunk:
                        break
                    data += chunk
    except (OSError, trio.BrokenResourceError, trio.ClosedResourceError) as exc:
        raise ControlUnreachable(str(exc)) from None
    except trio.TooSlowError:
        raise ControlUnreachable(f"no answer to {message} within {timeout} s") from None
    if not data.endswith(b"\n"):
        raise ControlUnreachable("the daemon closed the control connection without an answer")
    reply = json.loads(data)
    if not reply.get("ok"):
        raise ControlRefused(reply.get("error", "refused"))
    return reply["result"]


@dataclass
class Life:
    """One run of the daemon process, from spawn to its death."""

    index: int
    # how the test ends it: "kill" (SIGKILL), "term" (SIGTERM), "term-kill" (SIGTERM, then
    # SIGKILL if still running a moment later: systemd's stop timeout) or "final" (SIGTERM)
    end: str
    log_path: Path
    spawned_wall: float = 0.0
    spawned_t: float = 0.0
    ready_wall: float | None = None  # first answer on the control socket
    first_status: dict[str, Any] | None = None
    signalled_wall: float | None = None
    signalled_t: float | None = None
    died_wall: float = 0.0
    died_t: float = 0.0
    returncode: int | None = None
    exited_early: bool = False  # the process was already gone when the test came to end it
    notes: list[str] = field(default_factory=list)

    @property
    def killed(self) -> bool:
        """Did SIGKILL end this life (so a running transaction must be stopped PowerLoss)?"""
        return self.end == "kill" or (self.end == "term-kill" and self.returncode == -9)

    @property
    def ready(self) -> bool:
        return self.ready_wall is not None

    def contains(self, wall: float, slack: float = 0.05) -> bool:
        return self.spawned_wall - slack <= wall <= self.died_wall + slack

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = self.log_path.read_text(errors="replace").splitlines()
        except OSError as exc:
            return f"(no log: {exc})"
        return "\n".join(text[-lines:])


class DaemonProcess:
    """Spawn ``python -m ocppd run``; end it with SIGKILL or SIGTERM; never leave it running."""

    def __init__(self, config: Path, socket: Path, life: Life) -> None:
        self.config = config
        self.socket = socket
        self.life = life
        self.proc: trio.Process | None = None
        self._log: IO[bytes] | None = None

    async def start(self) -> None:
        # the daemon writes its log here; closed in reap() (a local file: no need for a thread)
        self._log = open(self.life.log_path, "ab")  # noqa: SIM115, ASYNC230
        env = {**os.environ, "PYTHONFAULTHANDLER": "1"}
        env.pop("NOTIFY_SOCKET", None)
        env.pop("JOURNAL_STREAM", None)
        self.life.spawned_wall, self.life.spawned_t = time.time(), trio.current_time()
        self.proc = await trio.lowlevel.open_process(
            [sys.executable, "-m", "ocppd", "run", "-c", str(self.config)],
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env=env,
        )

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.returncode is None

    async def wait_ready(self, timeout: float = 30.0) -> dict[str, Any]:
        """Poll ``status`` (every 50 ms) until the daemon answers; return that first status."""
        with trio.fail_after(timeout):
            while True:
                if not self.alive:
                    raise ControlUnreachable(
                        f"the daemon exited ({self.proc and self.proc.returncode}) before "
                        "its control socket answered"
                    )
                try:
                    status = await control(self.socket, {"cmd": "status"}, timeout=5.0)
                except ControlUnreachable:
                    await trio.sleep(0.05)
                    continue
                self.life.ready_wall = time.time()
                self.life.first_status = status
                return status

    async def status(self) -> dict[str, Any]:
        result: dict[str, Any] = await control(self.socket, {"cmd": "status"})
        return result

    def send_signal(self, signum: int) -> None:
        """SIGKILL (a power cut) or SIGTERM (an orderly stop); notes a process already gone."""
        assert self.proc is not None
        self.life.signalled_wall, self.life.signalled_t = time.time(), trio.current_time()
        if self.proc.returncode is None:
            self.proc.send_signal(signum)
        else:
            self.life.exited_early = True

    async def kill(self) -> int:
        self.send_signal(signal.SIGKILL)
        return await self.reap(10.0)

    async def terminate(self, timeout: float = 30.0) -> int:
        self.send_signal(signal.SIGTERM)
        return await self.reap_term(timeout)

    async def reap_term(self, timeout: float = 30.0) -> int:
        """Wait for the exit after SIGTERM; SIGKILL (and a note) if it takes too long."""
        try:
            return await self.reap(timeout)
        except trio.TooSlowError:
            self.life.notes.append(f"did not exit within {timeout} s of SIGTERM: killed")
            assert self.proc is not None
            self.proc.kill()
            return await self.reap(10.0)

    async def reap_or_kill(self, grace: float) -> int:
        """After SIGTERM: wait ``grace`` seconds for the exit, then SIGKILL."""
        try:
            return await self.reap(grace)
        except trio.TooSlowError:
            assert self.proc is not None
            self.proc.kill()
            return await self.reap(10.0)

    async def reap(self, timeout: float) -> int:
        assert self.proc is not None
        with trio.fail_after(timeout):
            code = await self.proc.wait()
        self.life.died_wall, self.life.died_t = time.time(), trio.current_time()
        self.life.returncode = code
        if self._log is not None:
            self._log.close()
            self._log = None
        return code

    async def aclose(self) -> None:
        """Whatever happened: the process is dead and reaped afterwards."""
        if self.proc is None:
            return
        with trio.CancelScope(shield=True):
            if self.proc.returncode is None:
                self.proc.kill()
            with trio.move_on_after(10):
                await self.proc.wait()
            if self._log is not None:
                self._log.close()
                self._log = None
