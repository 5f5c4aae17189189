"""``python -m bench.soak`` (``make soak``, not in CI): 24 simulated hours of charging sessions.

The daemon runs in this process on trio's virtual clock (a MockClock that jumps
whenever every task waits, as ``ocppd demo --fast`` does), with the journal inline
and real loopback sockets: the lean central system of :mod:`bench.csms` and the
control socket that ``ocppctl`` uses. A seeded driver plugs in, shows a tag,
charges for 15 minutes to 2.5 hours (MeterValues every 60 s, clock-aligned values
every 15 min), stops, unplugs and waits; every 6 hours the central system is down
for 45 minutes, so transaction messages queue in the journal and drain on the
reconnect.

Once per simulated hour it records the process's RSS, Python's allocated blocks,
the number of objects the garbage collector tracks, the journal's size on disk
(database, WAL and shared memory), the queue and the ledger. Memory and journal
size should be flat after the first hour; the summary says by how much they moved.
"""

from __future__ import annotations

import argparse
import gc
import json
import logging
import os
import random
import signal
import sys
import tempfile
import time
import tracemalloc
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import trio
import trio.testing

from bench import procstat
from bench.csms import CentralSystem
from bench.journal import journal_bytes
from bench.launch import OCPPD_CONFIG, ROOT
from ocppd import config
from ocppd.app import Daemon, Parts
from ocppd.clock import Clock

RESULTS = ROOT / "bench" / "results"
EPOCH = 1_790_000_000.0  # a fixed wall-clock start (2026-09-21), so runs are comparable
CP_ID = "SOAK-CP"
TAGS = ("04A2B3C4", "0B3C4D5E", "DEADBEEF")
HOUR = 3600.0


@dataclass
class Sample:
    hour: float
    sessions: int
    rss_mb: float
    py_blocks: int
    gc_objects: int
    journal_kb: float  # database + WAL + shared memory
    wal_kb: float
    queued: int
    ledger_rows: int
    transaction_messages: int  # received by the central system so far
    connected: bool


async def control(socket: Path, request: dict[str, Any]) -> Any:
    """One request over the control socket, as ``ocppctl`` sends it."""
    stream = await trio.open_unix_socket(str(socket))
    async with stream:
        await stream.send_all(json.dumps(request).encode() + b"\n")
        data = b""
        while not data.endswith(b"\n"):
            chunk = await stream.receive_some(65536)
            if not chunk:
                break
            data += chunk
    reply = json.loads(data)
    if not reply.get("ok"):
        raise RuntimeError(f"{request}: {reply.get('error')}")
    return reply["result"]


class Soak:
    def __init__(self, hours: float, seed: int, workdir: Path, trace: bool = False) -> None:
        self.trace = trace
        self.first_trace: tracemalloc.Snapshot | None = None
        self.growth: list[str] = []
        self.hours = hours
        self.rng = random.Random(seed)
        self.workdir = workdir
        self.csms = CentralSystem(heartbeat_interval=300, now=self._csms_now)
        self.sessions = 0
        self.samples: list[Sample] = []
        self.parts: Parts | None = None
        self.outages = 0

    def __repr__(self) -> str:
        return f"<Soak hours={self.hours} sessions={self.sessions} samples={len(self.samples)}>"

    @staticmethod
    def _wall() -> float:
        return EPOCH + trio.current_time()

    def _csms_now(self) -> str:
        return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self._wall()))

    def settings(self) -> config.Settings:
        keys = {
            "MeterValueSampleInterval": 60,
            "ClockAlignedDataInterval": 900,
            "MeterValuesSampledData": (
                '"Energy.Active.Import.Register,Power.Active.Import,Current.Import,Voltage"'
            ),
            "StopTxnSampledData": '"Energy.Active.Import.Register"',
            "LocalAuthorizeOffline": "true",  # the driver also charges during an outage
            "AllowOfflineTxForUnknownId": "true",
        }
        text = OCPPD_CONFIG.format(
            url=self.csms.url,
            cp_id=CP_ID,
            keys="\n".join(f"{k} = {v}" for k, v in keys.items()),
            state_dir=self.workdir / "state",
            socket=self.workdir / "control.sock",
            reconnect_min_s=5.0,
            reconnect_max_s=60.0,
        )
        return config.parse(text, self.workdir / "ocppd.toml")

    async def run(self) -> None:
        async with trio.open_nursery() as nursery:
            await nursery.start(self.csms.serve)
            settings = self.settings()
            daemon = Daemon(settings, clock=Clock(wall=self._wall), virtual_time=True)
            async with trio.open_nursery() as inner:
                self.parts = await inner.start(daemon.run)
                await self.csms.wait_station(CP_ID)
                async with trio.open_nursery() as side:
                    side.start_soon(self._sampler)
                    side.start_soon(self._outages)
                    await self._drive(settings.control.socket)
                    side.cancel_scope.cancel()
                self.csms.accepting = True
                await self._record()
                daemon.stop()
            nursery.cancel_scope.cancel()

    async def _drive(self, socket: Path) -> None:
        """Sessions until the simulated day is over."""
        end = self.hours * HOUR
        while trio.current_time() < end:
            await trio.sleep(self.rng.uniform(5, 45) * 60)
            if trio.current_time() >= end:
                break
            tag = self.rng.choice(TAGS)
            await control(
                socket,
                {
                    "cmd": "sim",
                    "action": "power",
                    "connector": 1,
                    "watts": self.rng.choice((3700, 7400, 11000)),
                },
            )
            await control(socket, {"cmd": "sim", "action": "plug", "connector": 1})
            await trio.sleep(self.rng.uniform(10, 120))
            await control(socket, {"cmd": "swipe", "id_tag": tag})
            await trio.sleep(self.rng.uniform(15, 150) * 60)
            await control(socket, {"cmd": "swipe", "id_tag": tag})
            await trio.sleep(self.rng.uniform(30, 600))
            await control(socket, {"cmd": "sim", "action": "unplug", "connector": 1})
            self.sessions += 1

    async def _outages(self) -> None:
        """Every 6 h the central system goes away for 45 minutes."""
        while True:
            await trio.sleep(6 * HOUR - 45 * 60)
            self.outages += 1
            self.csms.accepting = False
            station = self.csms.stations.get(CP_ID)
            if station is not None and not station.closed:
                await station.aclose()
            await trio.sleep(45 * 60)
            self.csms.accepting = True

    async def _sampler(self) -> None:
        while True:
            await self._record()
            if self.trace and self.first_trace is None and trio.current_time() >= 2 * HOUR:
                self.first_trace = tracemalloc.take_snapshot()
            await trio.sleep(HOUR)

    def trace_growth(self) -> None:
        """The allocation sites that grew most since hour 2 (``--trace``)."""
        if self.first_trace is None:
            return
        last = tracemalloc.take_snapshot()
        for stat in last.compare_to(self.first_trace, "lineno")[:12]:
            self.growth.append(str(stat))

    async def _record(self) -> None:
        assert self.parts is not None
        journal = self.parts.journal
        stats = await journal.queue_stats()
        rows = len(await journal.transactions())
        station = self.csms.stations.get(CP_ID)
        self.samples.append(
            Sample(
                hour=trio.current_time() / HOUR,
                sessions=self.sessions,
                rss_mb=procstat.rss_kb(os.getpid()) / 1024,
                py_blocks=sys.getallocatedblocks(),
                gc_objects=len(gc.get_objects()),
                journal_kb=journal_bytes(journal.path.parent) / 1024,
                wal_kb=_size(journal.path.with_name(journal.path.name + "-wal")) / 1024,
                queued=stats.pending,
                ledger_rows=rows,
                transaction_messages=self.csms.transaction_messages_total,
                connected=station is not None and not station.closed,
            )
        )


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


def summarize(samples: list[Sample], warmup_h: float) -> dict[str, Any]:
    """How much memory and the journal moved after the warm-up, in all and per 24 h."""
    settled = [s for s in samples if s.hour >= warmup_h] or samples
    first, last = settled[0], settled[-1]
    span = max(last.hour - first.hour, 1e-9)
    out: dict[str, Any] = {"from_hour": first.hour, "to_hour": last.hour}
    for key in (
        "rss_mb",
        "py_blocks",
        "gc_objects",
        "journal_kb",
        "wal_kb",
        "queued",
        "ledger_rows",
    ):
        values = [getattr(s, key) for s in settled]
        moved = getattr(last, key) - getattr(first, key)
        out[key] = {
            "min": min(values),
            "max": max(values),
            "first": getattr(first, key),
            "last": getattr(last, key),
            "moved": moved,
            "per_24h": moved * 24 / span,
        }
    return out


def render(result: dict[str, Any]) -> str:
    lines = [
        f"ocppd soak: {result['hours']:g} simulated hours in {result['real_s']:.0f} s real time, "
        f"{result['sessions']} sessions, {result['outages']} central-system outages, "
        f"{result['transaction_messages']} transaction messages delivered",
        "",
        "  hour  sessions  RSS MB  py blocks  gc objects  journal kB  (WAL)  queued  ledger rows",
    ]
    for s in result["samples"]:
        lines.append(
            f"{s['hour']:6.1f}  {s['sessions']:8d}  {s['rss_mb']:6.1f}  {s['py_blocks']:9d}  "
            f"{s['gc_objects']:10d}  {s['journal_kb']:10.0f}  {s['wal_kb']:5.0f}  "
            f"{s['queued']:6d}  {s['ledger_rows']:11d}"
        )
    lines.append("")
    summary = result["summary"]
    lines.append(
        f"from hour {summary['from_hour']:.0f} (after the warm-up) to {summary['to_hour']:.1f}:"
        "        min        max      first ->       last   per 24 h"
    )
    for key, label in (
        ("rss_mb", "RSS (MB)"),
        ("py_blocks", "Python blocks"),
        ("gc_objects", "gc objects"),
        ("journal_kb", "journal (kB)"),
        ("wal_kb", "  of which WAL (kB)"),
        ("queued", "queued messages"),
        ("ledger_rows", "ledger rows"),
    ):
        v = summary[key]
        lines.append(
            f"  {label:<20} {v['min']:>26.1f} {v['max']:>10.1f} {v['first']:>10.1f} -> "
            f"{v['last']:>10.1f} {v['per_24h']:>+10.1f}"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.soak", description=__doc__.splitlines()[0])
    p.add_argument("--hours", type=float, default=24.0, help="simulated hours (default 24)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument(
        "--warmup", type=float, default=4.0, help="hours before memory counts as settled"
    )
    p.add_argument("--out", type=Path, default=RESULTS)
    p.add_argument(
        "--trace", action="store_true", help="tracemalloc: where memory grew since hour 2"
    )
    p.add_argument(
        "--limit", type=float, default=1800.0, help="killed after this many real seconds"
    )
    p.add_argument("--log", default="error", help="log level of the daemon (default error)")
    args = p.parse_args(argv)
    logging.basicConfig(level=args.log.upper(), format="%(levelname)s %(name)s: %(message)s")
    # virtual time cannot time out a hang in real time: the kernel can
    signal.alarm(int(args.limit))
    began = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="ocppd-soak-") as tmp:
        if args.trace:
            tracemalloc.start()
        soak = Soak(args.hours, args.seed, Path(tmp), trace=args.trace)
        clock = trio.testing.MockClock(autojump_threshold=0)
        trio.run(soak.run, clock=clock, strict_exception_groups=True)
        soak.trace_growth()
    signal.alarm(0)
    result = {
        "hours": args.hours,
        "seed": args.seed,
        "real_s": time.monotonic() - began,
        "sessions": soak.sessions,
        "outages": soak.outages,
        "transaction_messages": soak.csms.transaction_messages_total,
        "samples": [asdict(s) for s in soak.samples],
        "summary": summarize(soak.samples, args.warmup),
        "growth_since_hour_2": soak.growth,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    path = args.out / f"soak-{stamp}.json"
    path.write_text(json.dumps(result, indent=2))
    print(render(result))
    if soak.growth:
        print("allocation sites that grew most since hour 2 (tracemalloc):")
        print("\n".join(f"  {line}" for line in soak.growth))
    print(f"JSON: {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
