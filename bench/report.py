"""The readable table: ocppd beside the peer, the goal of the issue, met or not."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Metric:
    key: str
    label: str
    unit: str
    goal: float | None  # an upper bound, unless lower_is_worse
    digits: int = 1
    lower_is_worse: bool = False

    def met(self, value: float) -> bool | None:
        if self.goal is None:
            return None
        return value >= self.goal if self.lower_is_worse else value <= self.goal


COMPARED = (
    Metric("start_to_boot_ms", "process start to BootNotification", "ms", 200, 0),
    Metric("idle_rss_mb", "idle RSS (sim drivers)", "MB", 30, 1),
    Metric("peak_rss_mb", "peak RSS (VmHWM, after the calls)", "MB", None, 1),
    Metric("idle_cpu_s_per_min", "idle CPU per minute", "s", 0.01, 4),
    Metric("idle_wakeups_per_min", "idle wake-ups per minute (voluntary switches)", "", 60, 0),
    Metric("idle_switches_per_min", "idle context switches per minute (all)", "", None, 0),
    Metric("calls_cpu_ms_per_1000", "CPU per 1000 CSMS calls", "ms", 190, 0),
    Metric("rtt_p50_ms", "call round trip p50", "ms", 0.30, 3),
    Metric("rtt_p99_ms", "call round trip p99", "ms", 0.50, 3),
)


def _fmt(value: float | None, digits: int) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _verdict(metric: Metric, value: float) -> str:
    met = metric.met(value)
    return "" if met is None else ("met" if met else "MISSED")


def table(rows: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    out = []
    for n, row in enumerate(rows):
        cells = [
            c.ljust(w) if i == 0 else c.rjust(w)
            for i, (c, w) in enumerate(zip(row, widths, strict=True))
        ]
        out.append("  ".join(cells).rstrip())
        if n == 0:
            out.append("  ".join("-" * w for w in widths))
    return "\n".join(out)


def render(results: dict[str, Any]) -> str:
    parts: list[str] = []
    env = results["environment"]
    parts.append(
        f"ocppd bench, {env['started']}: {env['cpu']} x{env['cpus']}, Python {env['python']}, "
        f"load {env['load_before']} -> {env['load_after']}"
    )
    compared = results.get("compare")
    if compared:
        ours, peer = compared["median"]["ocppd"], compared["median"]["peer"]
        s = compared["settings"]
        parts.append(
            f"\nocppd vs the reference peer (ocpp {env['versions'].get('ocpp')} on asyncio + "
            f"websockets {env['versions'].get('websockets')}): medians of {ours['runs']} "
            f"alternating runs, idle window {s['idle_s']:g} s, {s['calls']} x "
            f"GetConfiguration\n"
        )
        rows = [["metric", "ocppd", "peer", "ocppd/peer", "goal", ""]]
        for metric in COMPARED:
            m = metric
            a, b = ours[m.key], peer[m.key]
            if m.key == "start_to_boot_ms" and "start_samples" in ours:
                m = Metric(m.key, f"{m.label} ({ours['start_samples']} starts)", m.unit, m.goal, 0)
            ratio = f"{a / b:.2f}" if b else "-"
            goal = "" if m.goal is None else f"<= {_fmt(m.goal, m.digits)}"
            rows.append(
                [
                    f"{m.label} ({m.unit})" if m.unit else m.label,
                    _fmt(a, m.digits),
                    _fmt(b, m.digits),
                    ratio,
                    goal,
                    _verdict(m, a),
                ]
            )
        half = peer["calls_cpu_ms_per_1000"] / 2
        rows.append(
            [
                "CPU per 1000 calls vs half the peer (ms)",
                _fmt(ours["calls_cpu_ms_per_1000"], 0),
                "",
                "",
                f"<= {half:.0f}",
                _verdict(Metric("", "", "", half), ours["calls_cpu_ms_per_1000"]),
            ]
        )
        parts.append(table(rows))
    devices = results.get("devices")
    if devices and "real_idle_rss_mb" in devices:
        plain = devices["plain_settled_rss_mb"]
        idle = devices["real_idle_rss_mb"]
        window = (
            f"{devices['idle_s']:g} s idle window, meter read every {devices['meter_poll_s']:g} s"
        )
        parts.append(
            "\nocppd on real drivers: GPIO (MockFactory pins), an SDM630 on Modbus TCP, an "
            f"RDM6300 on a pty ({window}; medians):\n"
            + table(
                [
                    ["figure", "value", "goal", ""],
                    [
                        "RSS 3 s after the StatusNotifications, sim drivers (MB)",
                        _fmt(plain, 1),
                        "",
                        "",
                    ],
                    [
                        "RSS 3 s after the StatusNotifications, real drivers (MB)",
                        _fmt(devices["real_settled_rss_mb"], 1),
                        "",
                        "",
                    ],
                    [
                        "idle RSS, real drivers (MB)",
                        _fmt(idle, 1),
                        "<= 38",
                        _verdict(Metric("", "", "", 38), idle),
                    ],
                    [
                        "idle CPU per minute, real drivers (s)",
                        _fmt(devices["real_idle_cpu_s_per_min"], 4),
                        "",
                        "",
                    ],
                    [
                        "idle wake-ups per minute, real drivers",
                        _fmt(devices["real_idle_wakeups_per_min"], 0),
                        "",
                        "",
                    ],
                ]
            )
        )
    journal = results.get("journal")
    if journal:
        j = journal["median"]
        growth = j["rss_draining_max_mb"] - j["rss_offline_queued_mb"]
        rows = [
            ["journal (ocppd)", "value", "goal", ""],
            ["durable appends per second (synchronous=FULL)", _fmt(j["appends_per_s"], 0), "", ""],
            ["  time per append (ms)", _fmt(j["append_ms"], 3), "", ""],
            [
                f"drain {int(j['messages'])} queued messages after a reconnect (s)",
                _fmt(j["drain_s"], 2),
                "",
                "",
            ],
            [
                "  messages per second",
                _fmt(j["messages_per_s"], 0),
                ">= 1000",
                _verdict(Metric("", "", "", 1000, lower_is_worse=True), j["messages_per_s"]),
            ],
            ["  daemon CPU per message (ms)", _fmt(j["cpu_ms_per_message"], 3), "", ""],
            [
                "RSS offline with 100 queued (MB)",
                _fmt(j.get("rss_offline_small_queue_mb"), 1),
                "",
                "",
            ],
            ["RSS offline with 10,000 queued (MB)", _fmt(j["rss_offline_queued_mb"], 1), "", ""],
            [
                "  difference (MB)",
                _fmt(j["rss_offline_queued_mb"] - j.get("rss_offline_small_queue_mb", 0), 1),
                "<= 1.0",
                _verdict(
                    Metric("", "", "", 1.0),
                    j["rss_offline_queued_mb"] - j.get("rss_offline_small_queue_mb", 0),
                ),
            ],
            ["RSS while draining, max (MB)", _fmt(j["rss_draining_max_mb"], 1), "", ""],
            [
                "  growth while draining (MB)",
                _fmt(growth, 1),
                "<= 1.0",
                _verdict(Metric("", "", "", 1.0), growth),
            ],
        ]
        parts.append(f"\nJournal, medians of {len(journal['runs'])} run(s):\n" + table(rows))
    return "\n".join(parts) + "\n"


Progress = Callable[[str], None]
