"""ocppd beside the reference peer: start, idle minute, 1000 central-system calls.

One run of one charge point (:func:`measure`):

1. spawn the process; "start to BootNotification" is the spawn (perf counter, taken
   just before fork) to the moment the central system has the BootNotification;
2. wait for the StatusNotifications of connector 0 and 1, then let it settle;
3. idle window (a real minute by default): CPU seconds and context switches of every
   thread of the process, RSS at the end (the heartbeat interval is 10 s, from the
   BootNotification answer);
4. ``calls`` sequential ``GetConfiguration(key=["HeartbeatInterval"])`` from the central
   system after a short warm-up: round trip per call at the central system, CPU of the
   process over the whole batch;
5. peak RSS (VmHWM) at the end; the process is stopped.
"""

from __future__ import annotations

import statistics
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import trio

from bench import procstat
from bench.csms import CentralSystem, Station
from bench.devices import METER_POLL_S, Devices, real_drivers
from bench.launch import (
    SIM_DEVICES,
    SIM_DISPLAY,
    Child,
    ocppd_command,
    ocppd_config,
    peer_command,
    spawn,
)

START_TIMEOUT_S = 30.0
CALLS_TIMEOUT_S = 300.0  # for the whole batch; a healthy one takes a second or two
SETTLE_S = 3.0
WARMUP_CALLS = 50
CALL = ("GetConfiguration", {"key": ["HeartbeatInterval"]})
HEARTBEAT_S = 10


@dataclass
class Settings:
    runs: int = 3
    idle_s: float = 60.0
    calls: int = 1000
    starts: int = 5  # extra start-only samples per run and charge point (start is noisy)
    display: bool = False  # ocppd with a sim display and sim buttons ([display], [buttons])


@dataclass
class RunResult:
    who: str
    start_to_boot_ms: float
    settled_rss_mb: float  # SETTLE_S after the StatusNotifications
    idle_rss_mb: float  # at the end of the idle window
    peak_rss_mb: float  # VmHWM at the end of the run
    idle_cpu_s_per_min: float
    idle_wakeups_per_min: float  # voluntary context switches
    idle_switches_per_min: float  # voluntary + involuntary
    idle_heartbeats: int
    calls_cpu_ms_per_1000: float
    rtt_p50_ms: float
    rtt_p99_ms: float
    rtt_max_ms: float


async def until(
    child: Child, csms: CentralSystem, predicate: Callable[[], bool], what: str, timeout: float
) -> None:
    """Wait for ``predicate`` (re-checked whenever the central system hears something)."""
    with trio.move_on_after(timeout):
        while not predicate():
            child.check_alive()
            with trio.move_on_after(0.5):
                await csms._changed.wait()
        return
    child.check_alive()
    raise TimeoutError(f"{child.name}: no {what} within {timeout:g} s; its output:\n{child.tail()}")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


async def boot(child: Child, csms: CentralSystem, cp_id: str) -> Station:
    """Wait for registration and the first StatusNotifications; returns the station."""
    await until(
        child,
        csms,
        lambda: cp_id in csms.stations and csms.stations[cp_id].counts["BootNotification"] > 0,
        "BootNotification",
        START_TIMEOUT_S,
    )
    station = csms.stations[cp_id]
    await until(
        child,
        csms,
        lambda: station.counts["StatusNotification"] >= 2,
        "StatusNotification for connectors 0 and 1",
        START_TIMEOUT_S,
    )
    return station


async def idle_window(child: Child, station: Station, seconds: float) -> procstat.Totals:
    meter = procstat.Meter(child.pid)
    meter.start()
    end = trio.current_time() + seconds
    while trio.current_time() < end:
        await trio.sleep(min(1.0, end - trio.current_time()))
        child.check_alive()
        meter.poll()
    return meter.stop()


async def call_batch(child: Child, station: Station, n: int) -> tuple[procstat.Totals, list[int]]:
    action, payload = CALL
    with trio.fail_after(START_TIMEOUT_S):
        answer, _ = await station.call(action, payload)
    value = answer["configurationKey"][0]["value"]
    if value != str(HEARTBEAT_S):
        raise RuntimeError(f"{child.name}: GetConfiguration answered HeartbeatInterval={value!r}")
    for _ in range(WARMUP_CALLS):
        await station.call(action, payload)
    meter = procstat.Meter(child.pid)
    rtts = []
    with trio.fail_after(CALLS_TIMEOUT_S):
        meter.start()
        for _ in range(n):
            _, rtt = await station.call(action, payload)
            rtts.append(rtt)
    return meter.stop(), rtts


async def measure(
    who: str, run: int, settings: Settings, *, devices: Devices | None = None
) -> RunResult:
    """One run of ``who`` ("ocppd" or "peer") against a fresh central system; ocppd on
    sim drivers, or on the real ones in ``devices``."""
    cp_id = f"{who}-{run}"
    with tempfile.TemporaryDirectory(prefix=f"ocppd-bench-{who}-") as tmp:
        workdir = Path(tmp)
        async with trio.open_nursery() as nursery:
            csms = await nursery.start(CentralSystem(heartbeat_interval=HEARTBEAT_S).serve)
            if who == "peer":
                command = peer_command(csms.url, cp_id)
            else:
                if devices is None:
                    sections = SIM_DEVICES + (SIM_DISPLAY if settings.display else "")
                    config = ocppd_config(csms.url, cp_id, workdir, devices=sections)
                else:
                    config = ocppd_config(csms.url, cp_id, workdir, devices=devices.sections)
                command = ocppd_command(config)
            env = devices.env if devices is not None else None
            async with spawn(who, command, workdir, env) as child:
                station = await boot(child, csms, cp_id)
                start_ms = (station.first_at["BootNotification"] - child.spawned_ns) / 1e6
                await trio.sleep(SETTLE_S)
                settled_rss = procstat.rss_kb(child.pid)
                if settings.idle_s > 0:
                    beats = station.counts["Heartbeat"]
                    idle = await idle_window(child, station, settings.idle_s)
                    beats = station.counts["Heartbeat"] - beats
                else:
                    idle, beats = procstat.Totals(0.0, 0, 0), 0
                idle_rss = procstat.rss_kb(child.pid)
                if settings.calls > 0:
                    calls, rtts = await call_batch(child, station, settings.calls)
                else:
                    calls, rtts = procstat.Totals(0.0, 0, 0), [0]
                _, peak = procstat.memory_kb(child.pid)
                child.check_alive()
            nursery.cancel_scope.cancel()
    per_min = 60.0 / settings.idle_s if settings.idle_s > 0 else 0.0
    rtt_ms = [r / 1e6 for r in rtts]
    return RunResult(
        who=who,
        start_to_boot_ms=start_ms,
        settled_rss_mb=settled_rss / 1024,
        idle_rss_mb=idle_rss / 1024,
        peak_rss_mb=peak / 1024,
        idle_cpu_s_per_min=idle.cpu_s * per_min,
        idle_wakeups_per_min=idle.voluntary * per_min,
        idle_switches_per_min=idle.switches * per_min,
        idle_heartbeats=beats,
        calls_cpu_ms_per_1000=calls.cpu_s * 1000 * 1000 / max(1, settings.calls),
        rtt_p50_ms=percentile(rtt_ms, 0.50),
        rtt_p99_ms=percentile(rtt_ms, 0.99),
        rtt_max_ms=max(rtt_ms),
    )


async def start_only(who: str, tag: str, *, display: bool = False) -> float:
    """Spawn, wait for the BootNotification, stop: milliseconds from spawn to boot."""
    cp_id = f"{who}-{tag}"
    with tempfile.TemporaryDirectory(prefix=f"ocppd-bench-{who}-") as tmp:
        workdir = Path(tmp)
        async with trio.open_nursery() as nursery:
            csms = await nursery.start(CentralSystem(heartbeat_interval=HEARTBEAT_S).serve)
            if who == "peer":
                command = peer_command(csms.url, cp_id)
            else:
                sections = SIM_DEVICES + (SIM_DISPLAY if display else "")
                command = ocppd_command(ocppd_config(csms.url, cp_id, workdir, devices=sections))
            async with spawn(who, command, workdir) as child:
                await until(
                    child,
                    csms,
                    lambda: (
                        cp_id in csms.stations
                        and csms.stations[cp_id].counts["BootNotification"] > 0
                    ),
                    "BootNotification",
                    START_TIMEOUT_S,
                )
                boot_ns = csms.stations[cp_id].first_at["BootNotification"]
            nursery.cancel_scope.cancel()
    return (boot_ns - child.spawned_ns) / 1e6


def medians(results: list[RunResult]) -> dict[str, Any]:
    """Per-metric median over runs (each metric on its own)."""
    rows = [asdict(r) for r in results]
    out: dict[str, Any] = {"who": rows[0]["who"], "runs": len(rows)}
    for key, value in rows[0].items():
        if isinstance(value, int | float) and not isinstance(value, bool):
            out[key] = statistics.median(row[key] for row in rows)
    return out


async def compare(settings: Settings, progress: Callable[[str], None]) -> dict[str, Any]:
    """Alternate ocppd and the peer ``settings.runs`` times each; medians and every run."""
    runs: dict[str, list[RunResult]] = {"ocppd": [], "peer": []}
    starts: dict[str, list[float]] = {"ocppd": [], "peer": []}
    for run in range(1, settings.runs + 1):
        for n in range(settings.starts):
            for who in ("ocppd", "peer"):
                starts[who].append(await start_only(who, f"s{run}-{n}", display=settings.display))
        if settings.starts:
            progress(
                f"run {run}/{settings.runs}: {settings.starts} extra starts each, median so far "
                f"ocppd {statistics.median(starts['ocppd']):.0f} ms, "
                f"peer {statistics.median(starts['peer']):.0f} ms"
            )
        for who in ("ocppd", "peer"):
            progress(
                f"run {run}/{settings.runs}: {who} (idle {settings.idle_s:g} s, "
                f"{settings.calls} calls)"
            )
            result = await measure(who, run, settings)
            runs[who].append(result)
            progress(
                f"  start {result.start_to_boot_ms:.0f} ms, idle RSS {result.idle_rss_mb:.1f} MB, "
                f"idle CPU {result.idle_cpu_s_per_min:.4f} s/min, "
                f"{result.idle_wakeups_per_min:.0f} wake-ups/min, "
                f"{result.calls_cpu_ms_per_1000:.0f} ms CPU/1000 calls, "
                f"p50 {result.rtt_p50_ms:.3f} ms, p99 {result.rtt_p99_ms:.3f} ms"
            )
    summary = {who: medians(results) for who, results in runs.items()}
    for who, results in runs.items():  # every start counts: the full runs' and the extra ones
        samples = [r.start_to_boot_ms for r in results] + starts[who]
        summary[who]["start_to_boot_ms"] = statistics.median(samples)
        summary[who]["start_samples"] = len(samples)
    return {
        "median": summary,
        "runs": {who: [asdict(r) for r in results] for who, results in runs.items()},
        "starts": starts,
    }


async def on_real_drivers(settings: Settings, progress: Callable[[str], None]) -> dict[str, Any]:
    """ocppd on sim drivers and on real ones (bench/devices.py), alternating: RSS once
    settled, and for the real drivers an idle window (half the comparison's) with the meter
    polled every 5 s. No CSMS calls: those do not touch the drivers."""
    plain_settings = Settings(runs=settings.runs, idle_s=0, calls=0)
    real_settings = Settings(runs=settings.runs, idle_s=settings.idle_s / 2, calls=0)
    plain: list[RunResult] = []
    real: list[RunResult] = []
    meter_reads: list[int] = []
    for run in range(1, settings.runs + 1):
        progress(f"real drivers {run}/{settings.runs}")
        plain.append(await measure("ocppd", 100 + run, plain_settings))
        with real_drivers() as devices:
            real.append(await measure("ocppd", 200 + run, real_settings, devices=devices))
            meter_reads.append(len(devices.slave.requests))
        if not meter_reads[-1]:
            raise RuntimeError("ocppd on real drivers never read the meter")
        progress(
            f"  sim {plain[-1].settled_rss_mb:.1f} MB; real drivers "
            f"{real[-1].settled_rss_mb:.1f} MB settled, {real[-1].idle_rss_mb:.1f} MB idle, "
            f"{real[-1].idle_cpu_s_per_min:.4f} s/min, "
            f"{real[-1].idle_wakeups_per_min:.0f} wake-ups/min, {meter_reads[-1]} meter reads"
        )
    sim_median, real_median = medians(plain), medians(real)
    return {
        "plain_settled_rss_mb": sim_median["settled_rss_mb"],
        "real_settled_rss_mb": real_median["settled_rss_mb"],
        "real_idle_rss_mb": real_median["idle_rss_mb"],
        "real_peak_rss_mb": real_median["peak_rss_mb"],
        "real_idle_cpu_s_per_min": real_median["idle_cpu_s_per_min"],
        "real_idle_wakeups_per_min": real_median["idle_wakeups_per_min"],
        "idle_s": real_settings.idle_s,
        "meter_poll_s": METER_POLL_S,
        "meter_reads": meter_reads,
        "runs_plain": [asdict(r) for r in plain],
        "runs_real": [asdict(r) for r in real],
    }
