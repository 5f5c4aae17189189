"""What the kernel says about one process: memory, CPU time and context switches.

Memory comes from ``/proc/<pid>/status`` (VmRSS now, VmHWM the peak). CPU time and
context switches are summed over the process's threads (``/proc/<pid>/task/*``):
``schedstat`` gives CPU time in nanoseconds, where ``/proc/<pid>/stat`` only has
10 ms ticks (too coarse for an idle minute that should cost under 10 ms). A thread
that exits between two reads keeps the figures it had at the last read, so
:class:`Meter` polls while a window is open (:meth:`Meter.poll`).

Every voluntary context switch is a sleep that ended in a wake-up, so the voluntary
count is what the report calls wake-ups.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


class ProcessGone(Exception):
    """The measured process exited."""


@dataclass(frozen=True)
class ThreadTimes:
    cpu_ns: int
    voluntary: int
    involuntary: int


@dataclass(frozen=True)
class Totals:
    """Figures accumulated over a window (every thread seen during it)."""

    cpu_s: float
    voluntary: int
    involuntary: int

    @property
    def switches(self) -> int:
        return self.voluntary + self.involuntary


def _status_fields(path: Path) -> dict[str, str]:
    out = {}
    for line in path.read_text().splitlines():
        key, _, value = line.partition(":")
        out[key] = value.strip()
    return out


def memory_kb(pid: int) -> tuple[int, int]:
    """(VmRSS, VmHWM) in kB."""
    try:
        fields = _status_fields(Path(f"/proc/{pid}/status"))
    except (FileNotFoundError, ProcessLookupError) as exc:
        raise ProcessGone(pid) from exc
    if "VmRSS" not in fields:  # a zombie: exited, not yet reaped
        raise ProcessGone(pid)
    return int(fields["VmRSS"].split()[0]), int(fields["VmHWM"].split()[0])


def rss_kb(pid: int) -> int:
    return memory_kb(pid)[0]


def cpu_ticks_s(pid: int) -> float:
    """utime + stime from ``/proc/<pid>/stat`` (every thread, dead ones too), in seconds."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError) as exc:
        raise ProcessGone(pid) from exc
    fields = text.rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _thread_cpu_ns(task: Path) -> int:
    """CPU time of one thread: schedstat (ns) where the kernel has it, else stat's ticks."""
    try:
        return int((task / "schedstat").read_text().split()[0])
    except FileNotFoundError:
        if not task.exists():
            raise
    fields = (task / "stat").read_text().rpartition(")")[2].split()
    ticks = int(fields[11]) + int(fields[12])
    return ticks * 1_000_000_000 // os.sysconf("SC_CLK_TCK")


def threads(pid: int) -> dict[int, ThreadTimes]:
    """Per-thread CPU time (ns) and context switches, for every live thread of ``pid``."""
    base = Path(f"/proc/{pid}/task")
    out: dict[int, ThreadTimes] = {}
    try:
        tids = [int(name) for name in os.listdir(base)]
    except (FileNotFoundError, ProcessLookupError) as exc:
        raise ProcessGone(pid) from exc
    for tid in tids:
        try:
            cpu_ns = _thread_cpu_ns(base / str(tid))
            fields = _status_fields(base / str(tid) / "status")
        except (FileNotFoundError, ProcessLookupError):
            continue  # the thread ended just now
        out[tid] = ThreadTimes(
            cpu_ns,
            int(fields["voluntary_ctxt_switches"]),
            int(fields["nonvoluntary_ctxt_switches"]),
        )
    if not out:
        raise ProcessGone(pid)
    return out


class Meter:
    """CPU time and context switches of one process over a window.

    ``start()`` opens the window, ``poll()`` (call it every second or so) keeps the
    last figures of threads that may exit, ``stop()`` closes it and returns the totals.
    """

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self._first: dict[int, ThreadTimes] = {}
        self._last: dict[int, ThreadTimes] = {}

    def __repr__(self) -> str:
        return f"<Meter pid={self.pid} threads={len(self._last)}>"

    def start(self) -> None:
        self._first = threads(self.pid)
        self._last = dict(self._first)

    def poll(self) -> None:
        self._last.update(threads(self.pid))

    def stop(self) -> Totals:
        self.poll()
        zero = ThreadTimes(0, 0, 0)
        cpu = vol = invol = 0
        for tid, last in self._last.items():
            first = self._first.get(tid, zero)
            cpu += last.cpu_ns - first.cpu_ns
            vol += last.voluntary - first.voluntary
            invol += last.involuntary - first.involuntary
        return Totals(cpu / 1e9, vol, invol)
