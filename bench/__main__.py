"""``python -m bench`` (``make bench``): ocppd beside the reference peer, and the journal.

Writes ``bench/results/bench-<UTC time>.json`` and ``bench/results/latest.json`` and
prints the table. ``--quick`` is for trying the harness (one run, a 15 s idle window
scaled to a minute, one journal run); its figures are not the ones to quote.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from dataclasses import asdict
from importlib import metadata
from pathlib import Path
from typing import Any

import trio

from bench.compare import Settings, compare, on_real_drivers
from bench.journal import journal_figures
from bench.launch import ROOT
from bench.report import render

RESULTS = ROOT / "bench" / "results"


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.machine()


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def _versions() -> dict[str, str]:
    out = {}
    for name in ("ocppd", "trio", "ocpp", "websockets", "jsonschema"):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "missing"
    return out


def _progress(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    p.add_argument("--runs", type=int, default=3, help="runs of each charge point (default 3)")
    p.add_argument("--idle", type=float, default=60.0, help="idle window in seconds (default 60)")
    p.add_argument("--calls", type=int, default=1000, help="CSMS calls per run (default 1000)")
    p.add_argument(
        "--starts", type=int, default=5, help="extra start-only samples per run (default 5)"
    )
    p.add_argument("--journal-runs", type=int, default=3, help="queue-and-drain runs (default 3)")
    p.add_argument("--quick", action="store_true", help="1 run, 15 s idle, 1 journal run")
    p.add_argument(
        "--display", action="store_true", help="ocppd with a sim display and sim buttons"
    )
    p.add_argument("--skip", action="append", default=[], choices=("compare", "devices", "journal"))
    p.add_argument("--out", type=Path, default=RESULTS, help="directory for the JSON results")
    p.add_argument(
        "--limit", type=float, default=3600.0, help="give up after this many seconds (3600)"
    )
    return p


async def _main(args: argparse.Namespace) -> dict[str, Any]:
    settings = Settings(
        runs=args.runs,
        idle_s=args.idle,
        calls=args.calls,
        starts=args.starts,
        display=args.display,
    )
    results: dict[str, Any] = {
        "environment": {
            "started": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
            "cpu": _cpu_model(),
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "kernel": platform.release(),
            "versions": _versions(),
            "load_before": _load(),
            "command": " ".join(["python -m bench", *sys.argv[1:]]),
        }
    }
    with trio.fail_after(args.limit):  # a hung charge point cannot keep the bench forever
        await _measure(args, settings, results)
    results["environment"]["load_after"] = _load()
    return results


async def _measure(args: argparse.Namespace, settings: Settings, results: dict[str, Any]) -> None:
    if "compare" not in args.skip:
        results["compare"] = await compare(settings, _progress)
        results["compare"]["settings"] = asdict(settings)
    if "devices" not in args.skip:
        results["devices"] = await on_real_drivers(settings, _progress)
    if "journal" not in args.skip:
        results["journal"] = await journal_figures(args.journal_runs, _progress)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.quick:
        args.runs, args.idle, args.journal_runs, args.starts = 1, 15.0, 1, 2
    _warm_up()
    results = trio.run(_main, args)
    args.out.mkdir(parents=True, exist_ok=True)
    text = json.dumps(results, indent=2)
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    (args.out / f"bench-{stamp}.json").write_text(text)
    (args.out / "latest.json").write_text(text)
    print(render(results))
    print(f"JSON: {args.out / f'bench-{stamp}.json'}")
    return 0


def _warm_up() -> None:
    """Compile every module once, so no measured start pays for writing .pyc files."""
    import subprocess

    from bench.launch import child_env

    code = "import ocppd.app, ocppd.cli, bench.peer, bench.csms"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT, env=child_env())


if __name__ == "__main__":
    raise SystemExit(main())
