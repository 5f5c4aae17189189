"""Journal figures: durable appends per second, and draining 10,000 queued messages.

Appends. The bench process opens a journal the way the daemon does (``Journal.open``,
writer thread, WAL, ``synchronous=FULL``) in a fresh state directory and queues a
StartTransaction, ``n - 2`` MeterValues and the StopTransaction of one transaction
through the public API, one commit each, one after the other. The MeterValues part
is timed: durable appends per second.

Drain. That state directory (10,000 queued messages) is handed to an ocppd process
whose central system refuses connections at first (HTTP 503): the daemon runs
offline with the full queue for a few seconds, then the central system accepts and
the courier drains. Timed from the first to the last transaction message at the
central system; the daemon's RSS is sampled every 100 ms all along.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import trio

from bench import procstat
from bench.csms import CentralSystem
from bench.launch import ocppd_command, ocppd_config, spawn
from ocppd.features.core.transactions import V16_WORDS as WORDS
from ocppd.journal import Journal

QUEUED = 10_000
SMALL_QUEUE = 100  # the reference for "RSS stays flat however long the queue"
OFFLINE_S = 3.0
DRAIN_TIMEOUT_S = 300.0
SAMPLE_S = 0.1


def _stamp(i: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(1_767_225_600 + i))


def meter_payload(i: int) -> dict[str, Any]:
    """A MeterValues payload as the daemon queues it (without transactionId)."""
    energy = 1000 + i * 10
    return {
        "connectorId": 1,
        "meterValue": [
            {
                "timestamp": _stamp(i),
                "sampledValue": [
                    {
                        "value": str(energy),
                        "context": "Sample.Periodic",
                        "measurand": "Energy.Active.Import.Register",
                        "unit": "Wh",
                    },
                    {
                        "value": "11000",
                        "context": "Sample.Periodic",
                        "measurand": "Power.Active.Import",
                        "unit": "W",
                    },
                ],
            }
        ],
    }


def journal_bytes(state_dir: Path) -> int:
    """Size of the journal with its WAL and shared-memory files."""
    return sum(f.stat().st_size for f in state_dir.glob("journal.db*"))


async def fill(state_dir: Path, total: int = QUEUED) -> dict[str, float]:
    """Queue ``total`` transaction messages; returns the append figures."""
    journal = await Journal.open(state_dir)
    try:
        start = _stamp(0)
        local_id = await journal.start_transaction(
            connector_id=1,
            id_tag="BENCH",
            meter_start_wh=1000,
            timestamp=start,
            reservation_id=None,
            payload={"connectorId": 1, "idTag": "BENCH", "meterStart": 1000, "timestamp": start},
            words=WORDS,
        )
        appends = total - 2
        began = time.perf_counter()
        for i in range(appends):
            await journal.add_meter_values(
                local_id, connector_id=1, payload=meter_payload(i), droppable=True, words=WORDS
            )
        elapsed = time.perf_counter() - began
        stop = _stamp(appends)
        meter_stop = 1000 + appends * 10
        await journal.stop_transaction(
            local_id,
            meter_stop_wh=meter_stop,
            timestamp=stop,
            reason="Local",
            id_tag=None,
            payload={"meterStop": meter_stop, "timestamp": stop, "reason": "Local"},
            words=WORDS,
        )
        stats = await journal.queue_stats()
    finally:
        await journal.aclose()
    if stats.pending != total:
        raise RuntimeError(f"queued {stats.pending} messages, wanted {total}")
    return {
        "appends": appends,
        "append_s": elapsed,
        "appends_per_s": appends / elapsed,
        "append_ms": elapsed / appends * 1000,
        "journal_bytes": journal_bytes(state_dir),
    }


async def drain_once(total: int = QUEUED) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="ocppd-bench-drain-") as tmp:
        workdir = Path(tmp)
        state_dir = workdir / "state"
        appended = await fill(state_dir, total)
        cp_id = "ocppd-drain"
        samples: list[tuple[float, str, int]] = []
        async with trio.open_nursery() as nursery:
            csms = await nursery.start(CentralSystem(accepting=False).serve)
            config = ocppd_config(
                csms.url, cp_id, workdir, reconnect_min_s=0.2, reconnect_max_s=0.5
            )
            async with spawn("ocppd", ocppd_command(config), workdir) as child:
                phase = "offline"

                async def sample() -> None:
                    while True:
                        try:
                            rss = procstat.rss_kb(child.pid)
                        except procstat.ProcessGone:
                            return  # stopped at the end of the run (or died: checked below)
                        samples.append((trio.current_time(), phase, rss))
                        await trio.sleep(SAMPLE_S)

                with trio.fail_after(30):
                    while csms.refused == 0:
                        child.check_alive()
                        await trio.sleep(0.05)
                nursery.start_soon(sample)
                await trio.sleep(OFFLINE_S)
                meter = procstat.Meter(child.pid)
                meter.start()
                phase = "draining"
                csms.accepting = True
                with trio.fail_after(DRAIN_TIMEOUT_S):
                    station = await csms.wait_station(cp_id)
                    while station.transaction_messages() < total:
                        child.check_alive()
                        with trio.move_on_after(0.5):
                            await csms._changed.wait()
                cpu = meter.stop()
                phase = "drained"
                await trio.sleep(1.0)
                child.check_alive()
                nursery.cancel_scope.cancel()  # the sampler stops before the daemon does
    first = station.first_at["StartTransaction"]
    last = station.last_at["StopTransaction"]
    boot = station.first_at["BootNotification"]
    drain_s = (last - first) / 1e9
    by_phase: dict[str, list[int]] = {}
    for _, name, rss in samples:
        by_phase.setdefault(name, []).append(rss)
    return {
        **appended,
        "messages": station.transaction_messages(),
        "meter_values": station.counts["MeterValues"],
        "drain_s": drain_s,
        "messages_per_s": (total - 1) / drain_s,
        "boot_to_last_s": (last - boot) / 1e9,
        "cpu_s": cpu.cpu_s,
        "cpu_ms_per_message": cpu.cpu_s * 1000 / total,
        "rss_offline_queued_mb": statistics.median(by_phase.get("offline", [0])) / 1024,
        "rss_draining_max_mb": max(by_phase.get("draining", [0])) / 1024,
        "rss_draining_min_mb": min(by_phase.get("draining", [0])) / 1024,
        "rss_drained_mb": statistics.median(by_phase.get("drained", [0])) / 1024,
        "rss_samples": len(samples),
    }


async def offline_rss(total: int) -> float:
    """RSS (MB) of a daemon running offline with ``total`` queued messages, once settled."""
    with tempfile.TemporaryDirectory(prefix="ocppd-bench-queued-") as tmp:
        workdir = Path(tmp)
        await fill(workdir / "state", total)
        samples: list[int] = []
        async with trio.open_nursery() as nursery:
            csms = await nursery.start(CentralSystem(accepting=False).serve)
            config = ocppd_config(
                csms.url, "ocppd-queued", workdir, reconnect_min_s=0.2, reconnect_max_s=0.5
            )
            async with spawn("ocppd", ocppd_command(config), workdir) as child:
                with trio.fail_after(30):
                    while csms.refused == 0:
                        child.check_alive()
                        await trio.sleep(0.05)
                end = trio.current_time() + OFFLINE_S
                while trio.current_time() < end:
                    samples.append(procstat.rss_kb(child.pid))
                    await trio.sleep(SAMPLE_S)
                child.check_alive()
            nursery.cancel_scope.cancel()
    return statistics.median(samples[len(samples) // 2 :]) / 1024


async def journal_figures(runs: int, progress: Callable[[str], None]) -> dict[str, Any]:
    results = []
    for run in range(1, runs + 1):
        progress(f"journal {run}/{runs}: queue {QUEUED} messages, then drain them")
        result = await drain_once()
        result["rss_offline_small_queue_mb"] = await offline_rss(SMALL_QUEUE)
        results.append(result)
        progress(
            f"  {result['appends_per_s']:.0f} appends/s; drained {result['messages']} in "
            f"{result['drain_s']:.2f} s ({result['messages_per_s']:.0f}/s); RSS offline "
            f"{result['rss_offline_queued_mb']:.1f} MB ({SMALL_QUEUE} queued: "
            f"{result['rss_offline_small_queue_mb']:.1f} MB), draining max "
            f"{result['rss_draining_max_mb']:.1f} MB"
        )
    keys = [k for k, v in results[0].items() if isinstance(v, int | float)]
    return {
        "median": {k: statistics.median(r[k] for r in results) for k in keys},
        "runs": results,
    }
