"""One crash run: N lives of the real daemon, each ended by SIGKILL or SIGTERM at a random point.

    result = await run_crash(seed=1234, lives=20)
    result.assert_ok()

Set-up: the central system (``ocppd.testing.csms``, in this process, real time,
127.0.0.1 port 0) behind a TCP proxy (``tests.netutil.Proxy``); the daemon dials the
proxy. The central system answers transaction messages after a random delay now
and then, refuses one with a CALLERROR or leaves it unanswered (the daemon times
out) once in a while, and gives one transactionId per StartTransaction content (a
repeated Start gets the same id, as a real central system would do).

Each life: spawn ``python -m ocppd run`` on the run's state dir; once it answers
``status`` the driver plugs, swipes, charges and unplugs on every connector; at a
random moment (sometimes during start-up and recovery) the test sends SIGKILL, or
(one life in five, once it is up) SIGTERM. Meanwhile the link goes down now and
then (every connection cut and new ones refused, or a blackhole that keeps sockets
open and drops every byte) and comes back, independently of the lives, so lives
start, charge and die offline too. At the end: link up, one last life that only
drains the queue (bounded wait), SIGTERM, read the journal, run the oracle.

Everything is seeded from ``seed``; timing is real, so a seed reproduces the plan
(what is done when), not the exact interleaving.
"""

from __future__ import annotations

import itertools
import os
import random
import shutil
import signal
import tempfile
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import trio

from ocppd.journal import DeadLetter, Journal, QueueStats, TxRecord
from ocppd.testing.csms import CentralSystem, Delay, ErrorAnswer, Frame, NoAnswer, Station
from tests.crash.daemon import (
    CP_ID,
    KEYS,
    POWER_W,
    ControlUnreachable,
    DaemonProcess,
    Life,
    config_text,
)
from tests.crash.driver import Action, Driver
from tests.crash.oracle import Answer, Call, Evidence, Violation, check, start_key
from tests.crash.oracle201 import check201
from tests.netutil import Proxy

V16, V201 = "ocpp1.6", "ocpp2.0.1"  # the versions a run can speak (one per run)
RUN_LIVES = 20  # lives per run: the short test is one run, the full test many
TERM_SHARE = 0.2  # lives ended by SIGTERM instead of SIGKILL (they take longer: 5-12 s)
TERM_KILL_SHARE = 0.25  # of those: SIGKILL too if still running up to a second later
EARLY_SHARE = 0.15  # kills within the first second (start-up, recovery, registration)
LIFE_S = (0.8, 3.5)  # otherwise a life lasts this long (seconds after spawn)
DRAIN_TIMEOUT_S = 120.0


POINTS_SALT = 0x7C5  # the points' generator: the run's seed with this salt
START_POINTS = ("PowerPathClosed", "EVConnected", "Authorized", "EnergyTransfer")
STOP_POINTS = (*START_POINTS, "EVConnected,Authorized")


def tx_points(rng: random.Random) -> dict[str, Any]:
    """A 2.0.1 run's TxStartPoint and TxStopPoint (one in three runs the default, 1.6's
    rule) and, one run in six, AuthCtrlr.Enabled false (anyone charges)."""
    keys: dict[str, Any] = {}
    if rng.random() < 2 / 3:
        keys["TxCtrlr.TxStartPoint"] = rng.choice(START_POINTS)
        keys["TxCtrlr.TxStopPoint"] = rng.choice(STOP_POINTS)
    if rng.random() < 1 / 6:
        keys["AuthCtrlr.Enabled"] = False
    return keys


@dataclass
class RunResult:
    seed: int
    version: str
    lives: list[Life]
    violations: list[Violation]
    stats: dict[str, Any]
    seconds: float
    workdir: Path
    kept: bool
    tails: dict[int, str]  # life -> last lines of its log (taken before the temp dir goes)

    def summary(self) -> str:
        s = self.stats
        ends = {
            k: sum(1 for life in self.lives if life.end == k) for k in ("kill", "term", "term-kill")
        }
        alive = sum(life.died_t - life.spawned_t for life in self.lives if life.end != "final")
        final = self.lives[-1] if self.lives and self.lives[-1].end == "final" else None
        drain = f"{final.died_t - final.spawned_t:.0f} s" if final else "-"
        return (
            f"{self.version} seed {self.seed}{self._points()}: {len(self.lives) - 1} lives "
            f"({ends['kill']} SIGKILL, "
            f"{ends['term']} SIGTERM, {ends['term-kill']} SIGTERM+SIGKILL, {alive:.0f} s) "
            f"+ final drain ({drain}) "
            f"in {self.seconds:.0f} s; "
            f"{s.get('transactions', 0)} transactions, stop reasons {s.get('reasons', {})}, "
            f"{s.get('energy_wh', 0)} Wh; link down {s.get('link_downs', 0)} times; "
            f"central system refused {s.get('refused', 0)}, ignored {s.get('ignored', 0)}, "
            f"delayed {s.get('delayed', 0)} transaction messages; "
            f"{s.get('repeats', 0)} repeated frames; "
            f"longest gap between samples {s.get('max_sample_gap_s', 0)} s; "
            f"{len(self.violations)} violation(s)"
        )

    def _points(self) -> str:
        if self.version != V201:
            return ""
        shown = tx_points(random.Random(self.seed ^ POINTS_SALT))
        return f" ({', '.join(f'{k}={v}' for k, v in shown.items()) or 'default points'})"

    def report(self, context: str = "") -> str:
        lines = [
            f"crash test FAILED {context}".rstrip(),
            self.summary(),
            f"reproduce: CRASH_SEED={self.seed} .venv/bin/pytest -q tests/test_crash.py "
            f"-k 'short and {self.version}' "
            "(timing is real: the seed fixes the plan, not the interleaving; "
            "CRASH_KEEP=1 keeps the state dir and logs)",
            "",
        ]
        lines += [str(v) for v in self.violations[:40]]
        if len(self.violations) > 40:
            lines.append(f"... {len(self.violations) - 40} more violations")
        for index, tail in self.tails.items():
            life = self.lives[index]
            lines += ["", f"--- daemon log of life {index} ({life.end}), last lines ---", tail]
        if self.kept:
            lines.append(f"\nstate dir and every life's log kept in {self.workdir}")
        return "\n".join(lines)

    def assert_ok(self, context: str = "") -> None:
        assert not self.violations, self.report(context)


class _Run:
    def __init__(
        self, seed: int, lives: int, connectors: int, workdir: Path, version: str = V16
    ) -> None:
        self.seed = seed
        self.version = version
        self.planned = lives
        self.connectors = connectors
        self.rng = random.Random(seed)
        self.csms_rng = random.Random(self.rng.getrandbits(64))
        self.link_rng = random.Random(self.rng.getrandbits(64))
        self.workdir = workdir
        self.state_dir = workdir / "state"
        self.socket = workdir / "control.sock"
        self.config = workdir / "ocppd.toml"
        self.run_tag = f"{seed % 0xFFFF:04X}"
        # how each life ends: exactly TERM_SHARE of them by SIGTERM (a steady run time)
        terms = set(self.rng.sample(range(lives), round(lives * TERM_SHARE)))
        self.ends = [
            ("term-kill" if self.rng.random() < TERM_KILL_SHARE else "term")
            if i in terms
            else "kill"
            for i in range(lives)
        ]
        self.lives: list[Life] = []
        self.actions: list[Action] = []
        self.seen: dict[int, dict[str, Any]] = {}  # local id -> transaction as status showed it
        self.disruptions: list[tuple[float, str]] = []
        self.assigned: dict[str, int] = {}
        self.transaction_ids = itertools.count(1)
        self.connection_of_frame: list[int] = []
        self.counts = {"refused": 0, "ignored": 0, "delayed": 0, "link_downs": 0}
        self.csms = self._central_system()
        self.proxy: Proxy | None = None
        # 2.0.1: where this run's transactions begin and end (E01, E06), from a generator of
        # its own so the 1.6 plan of a seed stays what it was
        self.points = tx_points(random.Random(seed ^ POINTS_SALT)) if version == V201 else {}

    # --- the central system's behaviour ---

    def _central_system(self) -> CentralSystem:
        """The independent central system of the run's version, its transaction messages
        answered by :meth:`_behave`."""
        if self.version == V201:
            from ocppd.testing.csms201 import CentralSystem201

            return CentralSystem201(
                overrides={"TransactionEvent": self._on_event}, on_frame=self._on_frame
            )
        return CentralSystem(
            overrides={
                "StartTransaction": self._on_start,
                "StopTransaction": self._on_stop,
                "MeterValues": self._on_meter_values,
            },
            on_frame=self._on_frame,
        )

    def _on_event(self, station: Station, payload: dict[str, Any]) -> Any:
        """TransactionEvent: a verdict on the token when one is named (E.. "idTokenInfo is
        required when the request contained an idToken")."""
        return self._behave({"idTokenInfo": {"status": "Accepted"}} if "idToken" in payload else {})

    def _on_frame(self, cp_id: str, frame: Frame) -> None:
        self.connection_of_frame.append(len(self.csms.connections))

    def _behave(self, answer: dict[str, Any]) -> Any:
        r = self.csms_rng.random()
        if r < 0.03:
            self.counts["refused"] += 1
            return ErrorAnswer("InternalError", "crash test: refused once")
        if r < 0.05:
            self.counts["ignored"] += 1
            return NoAnswer()
        if r < 0.30:
            self.counts["delayed"] += 1
            return Delay(self.csms_rng.uniform(0.05, 1.0), answer)
        return answer

    def _on_start(self, station: Station, payload: dict[str, Any]) -> Any:
        key = start_key(payload)
        if key not in self.assigned:
            self.assigned[key] = next(self.transaction_ids)
        return self._behave(
            {"transactionId": self.assigned[key], "idTagInfo": {"status": "Accepted"}}
        )

    def _on_stop(self, station: Station, payload: dict[str, Any]) -> Any:
        return self._behave({"idTagInfo": {"status": "Accepted"}} if payload.get("idTag") else {})

    def _on_meter_values(self, station: Station, payload: dict[str, Any]) -> Any:
        return self._behave({})

    # --- the link ---

    def link_down(self, mode: str) -> None:
        assert self.proxy is not None
        self.counts["link_downs"] += 1
        self.disruptions.append((trio.current_time(), mode))
        if mode == "cut":
            self.proxy.refuse = True
            self.proxy.cut()
        else:
            self.proxy.blackhole()

    def link_up(self) -> None:
        assert self.proxy is not None
        self.proxy.refuse = False
        self.proxy.restore()

    async def link_schedule(self) -> None:
        rng = self.link_rng
        while True:
            await trio.sleep(rng.uniform(3.0, 15.0))
            self.link_down(rng.choice(("cut", "blackhole")))
            await trio.sleep(rng.uniform(2.0, 12.0))
            self.link_up()

    # --- lives ---

    def _life(self, index: int, end: str) -> tuple[Life, DaemonProcess]:
        life = Life(index, end, self.workdir / f"life-{index:03d}.log")
        self.lives.append(life)
        return life, DaemonProcess(self.config, self.socket, life)

    async def life(self, index: int) -> None:
        end = self.ends[index]
        grace = self.rng.uniform(0.0, 1.0)
        early = end == "kill" and self.rng.random() < EARLY_SHARE
        duration = self.rng.uniform(0.0, 1.0) if early else self.rng.uniform(*LIFE_S)
        driver = Driver(
            self.socket,
            random.Random(self.rng.getrandbits(64)),
            self.connectors,
            index,
            self.run_tag,
        )
        life, proc = self._life(index, end)
        try:
            await proc.start()
            up = trio.Event()  # the daemon answered status, or is known dead
            async with trio.open_nursery() as nursery:

                async def come_up_and_drive() -> None:
                    try:
                        await proc.wait_ready()
                    except ControlUnreachable as exc:
                        if life.signalled_wall is None:  # it died on its own
                            life.notes.append(str(exc))
                        return
                    finally:
                        up.set()
                    await driver.run()

                nursery.start_soon(come_up_and_drive)
                if end != "kill":  # an orderly stop of a daemon that is up (or dead)
                    with trio.fail_after(40):
                        await up.wait()
                await trio.sleep_until(life.spawned_t + duration)
                self.disruptions.append((trio.current_time(), end))
                proc.send_signal(signal.SIGKILL if end == "kill" else signal.SIGTERM)
                nursery.cancel_scope.cancel()
            if end == "kill":
                await proc.reap(10.0)
            elif end == "term":
                await proc.reap_term(30.0)
            else:
                await proc.reap_or_kill(grace)
                if life.returncode == -9:
                    self.disruptions.append((trio.current_time(), "kill"))
        finally:
            await proc.aclose()
            self.actions += driver.actions
            self.seen.update(driver.seen)

    async def final_life(self) -> None:
        """Link up, start once more, wait until the queue is empty, SIGTERM."""
        self.link_up()
        life, proc = self._life(len(self.lives), "final")
        try:
            await proc.start()
            await proc.wait_ready()
            status: dict[str, Any] = {}
            try:
                with trio.fail_after(DRAIN_TIMEOUT_S):
                    while True:
                        status = await proc.status()
                        conn = status["connection"]
                        if (
                            conn["state"] == "connected"
                            and conn["registration"] == "Accepted"
                            and status["queue"]["pending"] == 0
                        ):
                            break
                        await trio.sleep(0.25)
            except trio.TooSlowError:
                life.notes.append(f"queue not drained within {DRAIN_TIMEOUT_S} s: {status}")
            self.disruptions.append((trio.current_time(), "term"))
            await proc.terminate()
        finally:
            await proc.aclose()

    async def run(self) -> None:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(self._sigterm_ends_the_run)
            await nursery.start(self.csms.serve)
            self.proxy = await nursery.start(Proxy(self.csms.port).serve)
            assert self.proxy is not None
            self.config.write_text(
                config_text(
                    url=self.proxy.url,
                    state_dir=self.state_dir,
                    socket=self.socket,
                    connectors=self.connectors,
                    log_level=os.environ.get("CRASH_LOG_LEVEL", "info"),
                    version=self.version,
                    more_keys=self.points,
                )
            )
            async with trio.open_nursery() as links:
                links.start_soon(self.link_schedule)
                for index in range(self.planned):
                    await self.life(index)
                links.cancel_scope.cancel()
            await self.final_life()
            nursery.cancel_scope.cancel()

    async def _sigterm_ends_the_run(self) -> None:
        """SIGTERM to the test (make's ``timeout``): unwind, so every daemon is killed and
        reaped by its life's ``finally`` instead of being left behind."""
        with trio.open_signal_receiver(signal.SIGTERM) as signals:
            async for _ in signals:
                raise KeyboardInterrupt("SIGTERM: the crash test was stopped")

    # --- evidence ---

    def evidence(
        self,
        ledger: list[TxRecord],
        stats: QueueStats,
        dead: list[DeadLetter],
        window: tuple[float, float],
    ) -> Evidence:
        calls: list[Call] = []
        answers: dict[str, list[Answer]] = {}
        for index, ((cp_id, frame), connection) in enumerate(
            zip(self.csms.frames, self.connection_of_frame, strict=True)
        ):
            if cp_id != CP_ID:
                continue
            if frame.direction == "in" and frame.message_type == 2:
                calls.append(
                    Call(
                        index,
                        frame.t,
                        connection,
                        frame.unique_id,
                        frame.action or "",
                        frame.payload,
                    )
                )
            elif frame.direction == "out" and frame.message_type in (3, 4):
                answers.setdefault(frame.unique_id, []).append(
                    Answer(frame.t, frame.message_type, frame.payload, connection)
                )
        return Evidence(
            calls=calls,
            answers=answers,
            ledger=ledger,
            stats=stats,
            dead=dead,
            lives=self.lives,
            actions=self.actions,
            seen=self.seen,
            disruptions=self.disruptions,
            schema_violations=[f"{v.what}: {v.frame[:300]}" for v in self.csms.violations],
            assigned=self.assigned,
            wall_window=window,
            power_w=POWER_W,
            sample_interval=float(KEYS["MeterValueSampleInterval"]),
        )


async def read_journal(state_dir: Path) -> tuple[list[TxRecord], QueueStats, list[DeadLetter]]:
    """The ledger, queue counts and dead letters, read after the daemon has stopped."""
    journal = await Journal.open(state_dir)
    try:
        return (
            await journal.transactions(),
            await journal.queue_stats(),
            await journal.dead_letters(),
        )
    finally:
        await journal.aclose()


async def run_crash(
    seed: int,
    lives: int = RUN_LIVES,
    *,
    connectors: int = 2,
    limit_s: float | None = None,
    version: str = V16,
) -> RunResult:
    """One run (at most ``limit_s`` seconds) in OCPP ``version``; the temp dir is removed
    afterwards unless CRASH_KEEP=1 and the run failed."""
    workdir = Path(tempfile.mkdtemp(prefix=f"ocppd-crash-{seed}-"))
    run = _Run(seed, lives, connectors, workdir, version)
    began_wall, began_t = time.time(), trio.current_time()
    kept = False
    try:
        try:
            with trio.fail_after(limit_s or lives * 20 + DRAIN_TIMEOUT_S + 60):
                await run.run()
        except Exception as exc:  # the run itself broke: report it with the seed and the logs
            trace = "".join(traceback.format_exception(exc))
            violations = [
                Violation(
                    "run",
                    f"the run did not complete:\n{trace}",
                    life=run.lives[-1].index if run.lives else None,
                )
            ]
            found: dict[str, Any] = {}
            transactions = 0
        else:
            ledger, stats, dead = await read_journal(run.state_dir)
            evidence = run.evidence(ledger, stats, dead, (began_wall, time.time()))
            violations, found = (check201 if version == V201 else check)(evidence)
            transactions = len(ledger)
        for life in run.lives:
            for note in life.notes:
                violations.append(Violation("C", f"life {life.index}: {note}", life=life.index))
        kept = bool(violations) and os.environ.get("CRASH_KEEP") == "1"
        shown = sorted({v.life for v in violations if v.life is not None})[:4]
        if violations and not shown and run.lives:
            shown = [run.lives[-1].index]
        return RunResult(
            seed=seed,
            version=version,
            lives=run.lives,
            violations=violations,
            stats={**found, **run.counts, "transactions": transactions},
            seconds=trio.current_time() - began_t,
            workdir=workdir,
            kept=kept,
            tails={i: run.lives[i].log_tail() for i in shown},
        )
    finally:
        if not kept:
            shutil.rmtree(workdir, ignore_errors=True)
