"""``ocppd demo``: the whole product on any Linux box, in one command.

A local central system (the independent one built on the ``ocpp`` package), the
daemon with simulated hardware, and a driver who plugs in, shows a tag, charges,
shows the tag again to stop, and unplugs, all through the same control socket
``ocppctl`` uses. Half-way through, the central system lowers the current with a
charging profile (Smart Charging): the simulated pilot offers less and the meter
follows. Everything that crosses the wire is printed as a timeline, and what the
charger's screen says (``ocppctl screen``) at each step.
With ``--fast`` it runs on a virtual clock: an hour of charging takes seconds.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

import trio
import trio.testing

from ocppd import config
from ocppd.app import Daemon
from ocppd.clock import Clock
from ocppd.control.client import request

try:
    from ocppd.testing.csms import CentralSystem, Frame
except ImportError as exc:  # pragma: no cover - the installed package without the dev extras
    CentralSystem = None  # type: ignore[assignment,misc]
    _IMPORT_ERROR: ImportError | None = exc
else:
    _IMPORT_ERROR = None

CP_ID = "DEMO-CP"
TAG = "04A2B3C4"

CONFIG = """
[ocpp]
url = "{url}"
charge_point_id = "{cp_id}"
reconnect_min_s = 1.0
reconnect_max_s = 5.0

[ocpp.keys]
MeterValueSampleInterval = {sample}
MeterValuesSampledData = "{sampled}"
StopTxnSampledData = "Energy.Active.Import.Register"

[charge_point]
vendor = "ocppd"
model = "demo"
serial_number = "DEMO-0001"

[storage]
state_dir = "{dir}/state"

[control]
socket = "{dir}/control.sock"

[log]
level = "warning"

[rfid]
driver = "sim"

[[connector]]
id = 1
max_current_a = 16.0
phases = 3

[connector.contactor]
driver = "sim"

[connector.plug]
driver = "sim"
power_w = 11000.0

[connector.meter]
driver = "sim"
initial_wh = 120000.0

[connector.pilot]
driver = "sim"
"""

SAMPLED = "Energy.Active.Import.Register,Power.Active.Import,Current.Import,Current.Offered,Voltage"
LIMIT_A = 8.0  # what the central system's charging profile allows half-way


class Timeline:
    """Prints what happens, one line each, with the time since the demo started."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.start = trio.current_time()
        self.calls: dict[str, tuple[str, str]] = {}  # unique id -> (action, direction)

    def say(self, who: str, text: str) -> None:
        elapsed = trio.current_time() - self.start
        self.out.write(f"{elapsed:8.1f}s  {who:<12} {text}\n")
        self.out.flush()

    def frame(self, _cp_id: str, frame: Frame) -> None:
        arrow = "CP -> CSMS" if frame.direction == "in" else "CSMS -> CP"
        if frame.message_type == 2:
            self.calls[frame.unique_id] = (frame.action or "", frame.direction)
            self.say(arrow, describe_call(frame.action or "", frame.payload))
        elif frame.message_type == 3:
            action, _ = self.calls.pop(frame.unique_id, ("?", ""))
            text = describe_result(action, frame.payload)
            if text:
                self.say(arrow, f"  {text}")
        elif frame.message_type == 4:
            self.say(arrow, f"  error: {json.dumps(frame.payload)}")


def _values(payload: dict[str, Any]) -> str:
    parts = []
    for mv in payload.get("meterValue", []):
        for sv in mv.get("sampledValue", []):
            m = sv.get("measurand", "Energy.Active.Import.Register")
            if m == "Energy.Active.Import.Register":
                parts.append(f"{float(sv['value']) / 1000:.3f} kWh")
            elif m == "Power.Active.Import":
                parts.append(f"{float(sv['value']) / 1000:.1f} kW")
            elif m == "Current.Import" and sv.get("phase") == "L1":
                parts.append(f"{sv['value']} A/phase")
            elif m == "Current.Offered":
                parts.append(f"{sv['value']} A offered")
    return ", ".join(parts)


def describe_call(action: str, p: dict[str, Any]) -> str:
    if action == "BootNotification":
        return f"BootNotification ({p.get('chargePointVendor')} {p.get('chargePointModel')})"
    if action == "StatusNotification":
        error = "" if p.get("errorCode") == "NoError" else f" ({p.get('errorCode')})"
        return f"StatusNotification connector {p.get('connectorId')}: {p.get('status')}{error}"
    if action == "Authorize":
        return f"Authorize tag {p.get('idTag')}"
    if action == "StartTransaction":
        return (
            f"StartTransaction connector {p.get('connectorId')}, tag {p.get('idTag')}, "
            f"meter {p.get('meterStart', 0) / 1000:.3f} kWh"
        )
    if action == "MeterValues":
        return f"MeterValues transaction {p.get('transactionId', '-')}: {_values(p)}"
    if action == "StopTransaction":
        return (
            f"StopTransaction {p.get('transactionId')} ({p.get('reason', 'Local')}), "
            f"meter {p.get('meterStop', 0) / 1000:.3f} kWh"
        )
    if action == "SetChargingProfile":
        profile = p.get("csChargingProfiles", {})
        periods = profile.get("chargingSchedule", {}).get("chargingSchedulePeriod", [])
        unit = profile.get("chargingSchedule", {}).get("chargingRateUnit", "A")
        limits = ", ".join(f"{x.get('limit')} {unit}" for x in periods)
        return (
            f"SetChargingProfile connector {p.get('connectorId')}: "
            f"{profile.get('chargingProfilePurpose')} {limits}"
        )
    return action


def describe_result(action: str, p: dict[str, Any]) -> str:
    if action == "BootNotification":
        return f"{p.get('status')}, heartbeat every {p.get('interval')} s"
    if action == "Heartbeat":
        return ""
    if action in ("Authorize", "StopTransaction") and "idTagInfo" in p:
        return f"tag {p['idTagInfo']['status']}"
    if action == "StartTransaction":
        return f"transaction {p.get('transactionId')}, tag {p['idTagInfo']['status']}"
    if action == "SetChargingProfile":
        return str(p.get("status"))
    return ""


async def control(socket: Path, message: dict[str, Any]) -> Any:
    """One request over the control socket, exactly as ocppctl sends it."""
    return await request(socket, message)


async def show_screen(timeline: Timeline, socket: Path) -> None:
    """What the charger's screen says now (``ocppctl screen``), on one line."""
    result = await control(socket, {"cmd": "screen"})
    lines = [line for line in str(result["text"]).splitlines() if line.strip()]
    timeline.say("screen", " | ".join(lines))


async def _run(out: TextIO, fast: bool) -> bool:
    sample_s = 300 if fast else 5
    epoch = time.time() - trio.current_time()
    clock = Clock(wall=lambda: epoch + trio.current_time())
    assert CentralSystem is not None
    csms = CentralSystem(
        heartbeat_interval=600 if fast else 30,
        now=lambda: datetime.fromtimestamp(epoch + trio.current_time(), UTC),
    )
    timeline = Timeline(out)
    csms.on_frame = timeline.frame
    with tempfile.TemporaryDirectory(prefix="ocppd-demo-") as tmp:
        async with trio.open_nursery() as nursery:
            await nursery.start(csms.serve)
            timeline.say("demo", f"central system listening on {csms.url}")
            text = CONFIG.format(
                url=csms.url, cp_id=CP_ID, dir=tmp, sample=sample_s, sampled=SAMPLED
            )
            settings = config.parse(text, Path(tmp) / "ocppd.toml")
            daemon = Daemon(settings, clock=clock, virtual_time=fast)
            async with trio.open_nursery() as inner:
                parts = await inner.start(daemon.run)
                ok = await _session(timeline, csms, settings, parts is not None, fast)
                daemon.stop()
            nursery.cancel_scope.cancel()
        return ok


async def _session(
    timeline: Timeline, csms: Any, settings: config.Settings, started: bool, fast: bool
) -> bool:
    """The driver's part: plug, tag, charge, tag, unplug; True when all of it reached the CSMS."""
    charge_s = 3600 if fast else 20
    sock = settings.control.socket
    timeline.say("demo", "ocppd started with a simulated contactor, EV, meter and reader")
    station = await csms.wait_station(CP_ID)
    with trio.fail_after(60):
        await station.wait_for("StatusNotification", lambda p: p["connectorId"] == 1)
        await trio.sleep(1)
        await show_screen(timeline, sock)
        timeline.say("driver", "plugs the EV into connector 1")
        await control(sock, {"cmd": "sim", "action": "plug", "connector": 1})
        await station.wait_for("StatusNotification", lambda p: p["status"] == "Preparing")
        await show_screen(timeline, sock)
        await trio.sleep(2)
        timeline.say("driver", f"shows tag {TAG} to the reader")
        await control(sock, {"cmd": "swipe", "id_tag": TAG})
        await station.wait_for("StatusNotification", lambda p: p["status"] == "Charging")
        await show_screen(timeline, sock)
    timeline.say("demo", f"charging for {charge_s} s ({'virtual clock' if fast else 'real time'})")
    await trio.sleep(charge_s / 2)
    await _show_status(timeline, sock)
    timeline.say("csms", f"the site is busy: limit this transaction to {LIMIT_A:g} A")
    await _limit(station, sock)
    await trio.sleep(charge_s / 2)
    await _show_status(timeline, sock)
    await show_screen(timeline, sock)
    with trio.fail_after(60):
        timeline.say("driver", f"shows tag {TAG} again to stop")
        await control(sock, {"cmd": "swipe", "id_tag": TAG})
        stop = await station.wait_for("StopTransaction")
        await station.wait_for("StatusNotification", lambda p: p["status"] == "Finishing")
        await show_screen(timeline, sock)
        await trio.sleep(2)
        timeline.say("driver", "unplugs the EV")
        await control(sock, {"cmd": "sim", "action": "unplug", "connector": 1})
        await station.wait_for("StatusNotification", lambda p: p["status"] == "Available", count=2)
        await trio.sleep(0.5)
        await show_screen(timeline, sock)
    start = station.calls("StartTransaction")[0].payload
    delivered = stop.payload["meterStop"] - start["meterStart"]
    samples = len(station.calls("MeterValues"))
    timeline.say(
        "demo",
        f"session complete: {delivered / 1000:.3f} kWh delivered, "
        f"{samples} meter value messages, "
        f"{len(csms.violations)} protocol violations",
    )
    for violation in csms.violations:
        timeline.say("demo", f"violation: {violation.what}")
    return not csms.violations and delivered > 0 and started


async def _show_status(timeline: Timeline, sock: Path) -> None:
    status = await control(sock, {"cmd": "status"})
    c1 = status["connectors"][0]
    source = c1["current_limit_source"]
    by = {"local_max": "the configured maximum"}.get(source["source"], source["source"])
    if source["source"] == "profile":
        by = f"charging profile {source['profile_id']} ({source['purpose']})"
    timeline.say(
        "ocppctl",
        f"status: {c1['status']}, contactor "
        f"{'closed' if c1['contactor_closed'] else 'open'}, "
        f"{(c1['power_w'] or 0) / 1000:.1f} kW, "
        f"{c1['energy_wh'] / 1000:.3f} kWh on the meter, "
        f"limit {c1['current_limit_a']:g} A set by {by}",
    )


async def _limit(station: Any, sock: Path) -> None:
    """The central system lowers the running transaction's current (a TxProfile)."""
    status = await control(sock, {"cmd": "status"})
    transaction_id = status["connectors"][0]["transaction"]["id"]
    profile = {
        "chargingProfileId": 100,
        "stackLevel": 0,
        "chargingProfilePurpose": "TxProfile",
        "chargingProfileKind": "Relative",
        "transactionId": transaction_id,
        "chargingSchedule": {
            "chargingRateUnit": "A",
            "chargingSchedulePeriod": [{"startPeriod": 0, "limit": LIMIT_A}],
        },
    }
    await station.call_raw("SetChargingProfile", {"connectorId": 1, "csChargingProfiles": profile})


def main(*, fast: bool = False, out: TextIO | None = None) -> int:
    stream = out or sys.stdout
    if CentralSystem is None:
        stream.write(
            f"ocppd demo needs the 'ocpp' Python package ({_IMPORT_ERROR}); run it "
            "from a checkout with `make demo`, or `pip install ocpp`.\n"
        )
        return 1
    clock = trio.testing.MockClock(autojump_threshold=0) if fast else None
    ok = trio.run(_run, stream, fast, clock=clock, strict_exception_groups=True)
    stream.write("demo finished: the session completed\n" if ok else "demo FAILED\n")
    return 0 if ok else 1
