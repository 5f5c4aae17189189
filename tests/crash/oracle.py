"""The oracle: what "nothing lost" means, checked over everything the central system received.

Inputs (:class:`Evidence`): every CALL the charge point sent as the central system
received it (with the answers it gave), the journal's ledger read after the daemon
stopped, the lives of the daemon process (spawn, signal, death, first status, log),
what the driver did, and when the test disturbed things (kill, term, link cut,
blackhole). Output: a list of :class:`Violation`, empty when every rule holds.

Rules (shared/notes/ocpp16-rules.md (b), plus the crash contract of INTERFACE.md):

- L1 completeness: every ledger transaction has its Start and its Stop at the central
  system, fields equal to the ledger (connectorId, idTag, meterStart, timestamp;
  meterStop, timestamp, reason, idTag), each answered with a CALLRESULT; no Start or
  Stop the ledger does not know; the transactions the central system saw stopped are
  exactly the ledger's.
- L2 generated once, delivered at least once: one message id per Start, per Stop and
  per MeterValues; a message id never carries two different payloads; a copy is sent
  again only when the previous copy got no CALLRESULT the daemon could have read and
  committed: none was sent; or, with no other transaction message sent in between (the
  outbox moves on only once its head is acknowledged), a kill, SIGTERM, cut or
  blackhole came between the answer and the repeat, or the answer's connection ended
  (e.g. a missed pong) with no later CALL over it and the repeat came over another.
- L3 order per connector (first arrival of each message): Start < its MeterValues <
  Stop < the next transaction's Start; MeterValues timestamps strictly increase
  within a transaction; samples every MeterValueSampleInterval +/- 1 s (OCTT TC_036: no
  gap over the interval + 1 s between the start, the samples and the stop or kill).
- L4 energy (Energy.Active.Import.Register, Wh), with P the simulated EV's power:
  (a) within a transaction meterStart <= every register value sent (MeterValues in
  order, transactionData) <= meterStop, never decreasing; transactionData's
  Transaction.Begin is meterStart and Transaction.End is meterStop; a PowerLoss
  meterStop is at least the last journaled reading;
  (b) per connector the next meterStart equals the previous meterStop: the register
  never goes backwards, and no energy is counted outside a transaction (the contactor
  is open between transactions);
  (c) meterStop - meterStart <= P x (stop - start) + 1 Wh, where for PowerLoss "stop"
  is the moment of the SIGKILL (the sim meter persists its register on every read, so
  a kill loses what flowed since the last read, never more); for an orderly stop
  (Local, EVDisconnected, Reboot) also >= P x (stop - start - SLACK_S) - 1 Wh.
- L5 identity: every MeterValues and Stop carries the transactionId the central
  system assigned to that transaction's Start (-1 is never expected here: no Start is
  given up while the central system answers).
- L6 time: no timestamp before 2020 or outside the test's wall-clock window;
  timestamps within a transaction never decrease (start <= samples <= stop).
- C crash contract: a transaction whose life ended with SIGKILL (also a SIGKILL soon after
  SIGTERM, as systemd's stop timeout does) is stopped PowerLoss,
  exactly once, at the next start that got as far as answering ``status`` (recovery
  precedes the control socket); SIGTERM stops it Reboot in the same life; Local and
  EVDisconnected stops follow a swipe of that tag / an unplug of that connector;
  every start shows every contactor open and no transaction running; SIGTERM exits 0;
  the daemon never dies on its own; its log has no traceback and no damaged or quarantined
  journal; the queue is empty at the end with no dead letters.
"""

from __future__ import annotations

import itertools
import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ocppd.journal import DeadLetter, QueueStats, TxRecord
from tests.crash.daemon import Life
from tests.crash.driver import Action

START, STOP, METER_VALUES = "StartTransaction", "StopTransaction", "MeterValues"
REGISTER = "Energy.Active.Import.Register"
FLOOR = datetime(2020, 1, 1, tzinfo=UTC).timestamp()
SLACK_S = 1.5  # contactor closes after the Start timestamp; the stop timestamp follows the cause
ANSWER_MARGIN_S = 0.5  # an answer this close before a disruption may not have arrived
LIFE_SLACK_S = 0.05
SAMPLE_TOLERANCE_S = 1.0  # OCTT TC_036: samples spaced by MeterValueSampleInterval +/- 1 s


@dataclass(frozen=True)
class Call:
    """A CALL from the charge point, as the central system received it."""

    index: int  # position among all frames
    t: float  # trio clock of the test process
    connection: int  # 1 = first websocket connection of the run
    unique_id: str
    action: str
    payload: dict[str, Any]

    def brief(self) -> str:
        text = json.dumps(self.payload, separators=(",", ":"))
        if len(text) > 400:
            text = text[:400] + "..."
        where = f"#{self.index} t={self.t:.3f} conn={self.connection}"
        return f"{where} [{self.unique_id}] {self.action} {text}"


@dataclass(frozen=True)
class Answer:
    t: float
    kind: int  # 3 CALLRESULT, 4 CALLERROR
    payload: Any
    connection: int = 0  # the websocket connection it was sent on (0: unknown)


@dataclass
class Evidence:
    calls: list[Call]
    answers: dict[str, list[Answer]]  # by message id
    ledger: list[TxRecord]
    stats: QueueStats
    dead: list[DeadLetter]
    lives: list[Life]
    actions: list[Action]
    seen: dict[int, dict[str, Any]]  # local id -> a running transaction as `status` showed it
    disruptions: list[tuple[float, str]]  # (trio time, what)
    schema_violations: list[str]
    assigned: dict[str, int]  # Start payload key -> transactionId the central system gave
    wall_window: tuple[float, float]
    power_w: float
    sample_interval: float


@dataclass
class Violation:
    rule: str
    what: str
    frames: list[Call] = field(default_factory=list)
    life: int | None = None

    def __str__(self) -> str:
        lines = [f"[{self.rule}] {self.what}"]
        lines += [f"    {c.brief()}" for c in self.frames[:12]]
        if len(self.frames) > 12:
            lines.append(f"    ... {len(self.frames) - 12} more frames")
        return "\n".join(lines)


def start_key(payload: dict[str, Any]) -> str:
    """What identifies a StartTransaction (its content, as the ledger has it)."""
    return json.dumps(
        [payload["connectorId"], payload["idTag"], payload["meterStart"], payload["timestamp"]]
    )


def ledger_key(tx: TxRecord) -> str:
    return json.dumps([tx.connector_id, tx.id_tag, tx.meter_start_wh, tx.started_at])


def wall(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def register_values(meter_values: Iterable[dict[str, Any]]) -> list[tuple[float, float, str]]:
    """(timestamp, Wh, context) of every energy register value, in order."""
    out = []
    for mv in meter_values:
        for sv in mv["sampledValue"]:
            if sv.get("measurand", REGISTER) == REGISTER:
                value = float(sv["value"]) * (1000.0 if sv.get("unit") == "kWh" else 1.0)
                out.append((wall(mv["timestamp"]), value, sv.get("context", "Sample.Periodic")))
    return out


class Oracle:
    def __init__(self, e: Evidence) -> None:
        self.e = e
        self.violations: list[Violation] = []
        self.by_local = {tx.local_id: tx for tx in e.ledger}
        self.by_txid = {tx.transaction_id: tx for tx in e.ledger if tx.transaction_id is not None}
        self.by_key = {ledger_key(tx): tx for tx in e.ledger}
        self.first: dict[str, Call] = {}  # message id -> its first copy on the wire
        for call in e.calls:
            self.first.setdefault(call.unique_id, call)
        self.stats: dict[str, Any] = {}

    def bad(
        self, rule: str, what: str, frames: Iterable[Call] = (), life: int | None = None
    ) -> None:
        self.violations.append(Violation(rule, what, list(frames), life))

    def check(self) -> list[Violation]:
        self.integrity()
        starts, stops, meter_values = self.sort_calls()
        self.completeness(starts, stops)
        self.generated_once(starts, stops, meter_values)
        self.order(meter_values)
        self.cadence(meter_values)
        self.energy(meter_values, stops)
        self.identity(meter_values, stops)
        self.time(meter_values, stops)
        self.crash_contract()
        self.durable()
        return self.violations

    # --- helpers ---

    def answered(self, unique_id: str) -> bool:
        return any(a.kind == 3 for a in self.e.answers.get(unique_id, []))

    def life_of(self, t_wall: float) -> int | None:
        for life in self.e.lives:
            if life.contains(t_wall, LIFE_SLACK_S):
                return life.index
        return None

    def tx_of(self, call: Call) -> TxRecord | None:
        if call.action == START:
            return self.by_key.get(start_key(call.payload))
        tx_id = call.payload.get("transactionId")
        return None if tx_id is None else self.by_txid.get(tx_id)

    def sort_calls(
        self,
    ) -> tuple[dict[int, list[Call]], dict[int, list[Call]], dict[int, list[Call]]]:
        """Transaction messages per ledger local id (phantoms are violations)."""
        starts: dict[int, list[Call]] = defaultdict(list)
        stops: dict[int, list[Call]] = defaultdict(list)
        meter_values: dict[int, list[Call]] = defaultdict(list)
        counts: dict[str, int] = defaultdict(int)
        for call in self.e.calls:
            counts[call.action] += 1
            if call.action not in (START, STOP, METER_VALUES):
                continue
            tx = self.tx_of(call)
            if tx is None:
                if call.action == METER_VALUES and "transactionId" not in call.payload:
                    self.bad("L5", "MeterValues without transactionId (none expected)", [call])
                else:
                    self.bad("L1", f"{call.action} of no transaction in the ledger", [call])
                continue
            {START: starts, STOP: stops, METER_VALUES: meter_values}[call.action][
                tx.local_id
            ].append(call)
        self.stats["calls"] = dict(counts)
        return starts, stops, meter_values

    # --- rules ---

    def integrity(self) -> None:
        e = self.e
        for v in e.schema_violations:
            self.bad("schema", f"the central system rejected a frame: {v}")
        if e.stats.pending:
            self.bad("L1", f"{e.stats.pending} message(s) still queued after the final drain")
        for d in e.dead:
            self.bad("L1", f"dead letter: {d.action} seq {d.seq} local {d.local_id}: {d.reason}")
        if e.stats.dropped:
            self.bad("L7", f"{e.stats.dropped} MeterValues dropped under the size cap")
        if e.stats.quarantined:  # kills never damage records: a damaged one is a bug
            self.bad("C", f"{e.stats.quarantined} journal record(s) found damaged")
        for tx in e.ledger:
            if tx.state != "done":
                self.bad("L1", f"ledger transaction {tx.local_id} is {tx.state}, not done: {tx}")

    def completeness(self, starts: dict[int, list[Call]], stops: dict[int, list[Call]]) -> None:
        for tx in self.e.ledger:
            s = starts.get(tx.local_id, [])
            if not s:
                self.bad("L1", f"no StartTransaction for ledger transaction {tx}")
            elif not any(self.answered(c.unique_id) for c in s):
                self.bad("L1", f"StartTransaction of {tx.local_id} never got a CALLRESULT", s)
            p = stops.get(tx.local_id, [])
            if not p:
                self.bad("L1", f"no StopTransaction for ledger transaction {tx}")
                continue
            if not any(self.answered(c.unique_id) for c in p):
                self.bad("L1", f"StopTransaction of {tx.local_id} never got a CALLRESULT", p)
            for c in p:
                want = {
                    "meterStop": tx.meter_stop_wh,
                    "timestamp": tx.stopped_at,
                    "reason": tx.stop_reason,
                    "idTag": tx.stop_id_tag,
                }
                got = {k: c.payload.get(k) for k in want}
                if got != want:
                    self.bad("L1", f"Stop of {tx.local_id} differs from the ledger: {want}", [c])
        acknowledged = {
            c.payload["transactionId"]
            for calls in stops.values()
            for c in calls
            if self.answered(c.unique_id)
        }
        ledger_ids = {tx.transaction_id for tx in self.e.ledger}
        if len(acknowledged) != len(self.e.ledger) or acknowledged != ledger_ids:
            self.bad(
                "L1",
                f"the central system acknowledged {len(acknowledged)} transactions, the ledger "
                f"has {len(self.e.ledger)} (only at the CSMS: {sorted(acknowledged - ledger_ids)}; "
                f"only in the ledger: {sorted(x or 0 for x in ledger_ids - acknowledged)})",
            )

    def _disrupted(self, since: float, until: float) -> bool:
        return any(since - ANSWER_MARGIN_S <= t <= until for t, _ in self.e.disruptions)

    def _delivered(self, uid: str, answer: Answer, repeat: Call) -> bool:
        """Did this CALLRESULT certainly reach a daemon that lived on to commit it?

        Yes if another transaction message went out between the answer and the repeat: the
        outbox sends in order, the next only after the head was acknowledged (committed).
        Otherwise no if a kill, SIGTERM, cut or blackhole came between them; else yes if the
        repeat came over the same connection, or the daemon sent another CALL over that
        connection after the answer (one CALL in flight: the answered one was over). A
        connection that just ended (a missed pong under load) may have lost it.
        """
        if any(
            c.unique_id != uid and c.action in (START, STOP, METER_VALUES)
            for c in self.e.calls
            if answer.t < c.t < repeat.t
        ):
            return True
        if self._disrupted(answer.t, repeat.t):
            return False
        if repeat.connection == answer.connection:
            return True
        return any(
            c.connection == answer.connection and answer.t < c.t < repeat.t for c in self.e.calls
        )

    def generated_once(
        self,
        starts: dict[int, list[Call]],
        stops: dict[int, list[Call]],
        meter_values: dict[int, list[Call]],
    ) -> None:
        copies: dict[str, list[Call]] = defaultdict(list)
        for call in self.e.calls:
            copies[call.unique_id].append(call)
        repeats = 0
        for uid, same in copies.items():
            first = same[0]
            for later in same[1:]:
                repeats += 1
                if (later.action, later.payload) != (first.action, first.payload):
                    self.bad(
                        "L2", f"message id {uid} carries two different messages", [first, later]
                    )
            for prev, nxt in itertools.pairwise(same):
                for answer in self.e.answers.get(uid, []):
                    if answer.kind == 3 and prev.t <= answer.t < nxt.t:
                        if self._delivered(uid, answer, nxt):
                            self.bad(
                                "L2",
                                f"{uid} sent again although its CALLRESULT (t={answer.t:.3f}, "
                                f"connection {answer.connection}) reached the daemon",
                                [prev, nxt],
                            )
                        break
        self.stats["repeats"] = repeats
        for what, table in ((START, starts), (STOP, stops)):
            for local_id, calls in table.items():
                ids = {c.unique_id for c in calls}
                if len(ids) > 1:
                    self.bad(
                        "L2",
                        f"{what} of transaction {local_id} generated {len(ids)} times",
                        calls,
                    )
        for local_id, calls in meter_values.items():
            groups: dict[str, set[str]] = defaultdict(set)
            for c in calls:
                stamps = [mv["timestamp"] for mv in c.payload["meterValue"]]
                groups[json.dumps([c.payload["connectorId"], stamps])].add(c.unique_id)
            for key, ids in groups.items():
                if len(ids) > 1:
                    self.bad(
                        "L2",
                        f"MeterValues {key} of transaction {local_id} generated {len(ids)} times",
                        [c for c in calls if c.unique_id in ids],
                    )

    def order(self, meter_values: dict[int, list[Call]]) -> None:
        seen: set[str] = set()
        per_connector: dict[int, list[tuple[Call, TxRecord]]] = defaultdict(list)
        for call in self.e.calls:
            if call.action not in (START, STOP, METER_VALUES) or call.unique_id in seen:
                continue
            seen.add(call.unique_id)
            tx = self.tx_of(call)
            if tx is not None:
                per_connector[tx.connector_id].append((call, tx))
        for connector, sequence in per_connector.items():
            current: TxRecord | None = None
            stopped: set[int] = set()
            for call, tx in sequence:
                if current is not None and tx.local_id < current.local_id:
                    self.bad(
                        "L3",
                        f"connector {connector}: {call.action} of transaction {tx.local_id} after "
                        f"messages of the later transaction {current.local_id}",
                        [call],
                    )
                    continue
                if current is None or tx.local_id != current.local_id:
                    if current is not None and current.local_id not in stopped:
                        self.bad(
                            "L3",
                            f"connector {connector}: transaction {tx.local_id} begins before the "
                            f"Stop of {current.local_id}",
                            [call],
                        )
                    if call.action != START:
                        self.bad(
                            "L3",
                            f"connector {connector}: {call.action} of {tx.local_id} "
                            "before its Start",
                            [call],
                        )
                    current = tx
                elif call.action == START:
                    self.bad("L3", f"a second StartTransaction for {tx.local_id}", [call])
                if tx.local_id in stopped:
                    self.bad("L3", f"{call.action} of {tx.local_id} after its Stop", [call])
                if call.action == STOP:
                    stopped.add(tx.local_id)
        for local_id, calls in meter_values.items():
            last: float | None = None
            firsts = [c for c in calls if c is self._first_copy(c)]
            for call in firsts:
                for mv in call.payload["meterValue"]:
                    t = wall(mv["timestamp"])
                    if last is not None and t <= last:
                        self.bad(
                            "L3",
                            f"MeterValues of {local_id}: {mv['timestamp']} is not after the "
                            "previous sample",
                            [call],
                        )
                    last = t

    def cadence(self, meter_values: dict[int, list[Call]]) -> None:
        """Samples every MeterValueSampleInterval +/- 1 s (TC_036): no gap between the start,
        the samples and the end (the stop, or the SIGKILL) over the interval + 1 s."""
        interval = self.e.sample_interval
        worst = 0.0
        for tx in self.e.ledger:
            if tx.stopped_at is None:
                continue
            start, end = wall(tx.started_at), wall(tx.stopped_at)
            if tx.stop_reason == "PowerLoss":
                life = self.life_of(start)
                end = self.e.lives[life].died_wall if life is not None else end
            stamps = [
                wall(mv["timestamp"])
                for call in meter_values.get(tx.local_id, [])
                if call is self._first_copy(call)
                for mv in call.payload["meterValue"]
            ]
            points = [start, *stamps, end]
            gap = max(b - a for a, b in itertools.pairwise(points))
            worst = max(worst, gap)
            if gap > interval + SAMPLE_TOLERANCE_S:
                self.bad(
                    "L3",
                    f"{tx.local_id}: {gap:.1f} s without a sample (MeterValueSampleInterval "
                    f"{interval} s) between {iso_list(points)}",
                    meter_values.get(tx.local_id, []),
                )
        self.stats["max_sample_gap_s"] = round(worst, 2)

    def _first_copy(self, call: Call) -> Call:
        return self.first[call.unique_id]

    def energy(self, meter_values: dict[int, list[Call]], stops: dict[int, list[Call]]) -> None:
        per_wh_s = self.e.power_w / 3600.0
        previous: dict[int, TxRecord] = {}
        delivered = 0
        for tx in self.e.ledger:
            if tx.meter_stop_wh is None or tx.stopped_at is None:
                continue
            delivered += tx.meter_stop_wh - tx.meter_start_wh
            values: list[tuple[float, float, str]] = []
            for call in meter_values.get(tx.local_id, []):
                if call is self._first_copy(call):
                    values += register_values(call.payload["meterValue"])
            chain = [tx.meter_start_wh, *(v for _, v, _ in values), tx.meter_stop_wh]
            if any(b < a for a, b in itertools.pairwise(chain)):
                self.bad(
                    "L4",
                    f"transaction {tx.local_id}: register goes backwards: meterStart, samples, "
                    f"meterStop = {chain}",
                    meter_values.get(tx.local_id, []),
                )
            data = []
            for call in stops.get(tx.local_id, [])[:1]:
                data = register_values(call.payload.get("transactionData", []))
            if data:
                begins = [v for _, v, ctx in data if ctx == "Transaction.Begin"]
                ends = [v for _, v, ctx in data if ctx == "Transaction.End"]
                if begins != [tx.meter_start_wh]:
                    self.bad(
                        "L4",
                        f"{tx.local_id}: Transaction.Begin {begins} != meterStart "
                        f"{tx.meter_start_wh}",
                        stops[tx.local_id][:1],
                    )
                if tx.stop_reason != "PowerLoss" and ends != [tx.meter_stop_wh]:
                    self.bad(
                        "L4",
                        f"{tx.local_id}: Transaction.End {ends} != meterStop {tx.meter_stop_wh}",
                        stops[tx.local_id][:1],
                    )
                series = [v for _, v, _ in data]
                if any(b < a for a, b in itertools.pairwise(series)) or (
                    series and (series[0] < tx.meter_start_wh or series[-1] > tx.meter_stop_wh)
                ):
                    self.bad(
                        "L4",
                        f"{tx.local_id}: transactionData register out of order or range: {series}",
                        stops[tx.local_id][:1],
                    )
            elif tx.stop_reason != "PowerLoss":
                self.bad(
                    "L4",
                    f"{tx.local_id}: {tx.stop_reason} stop without transactionData "
                    "(StopTxnSampledData is set)",
                    stops.get(tx.local_id, [])[:1],
                )
            last = tx.meter_last_wh
            if (
                tx.stop_reason == "PowerLoss"
                and last is not None
                and tx.meter_stop_wh < round(last)
            ):
                self.bad(
                    "L4",
                    f"{tx.local_id}: PowerLoss meterStop {tx.meter_stop_wh} below "
                    f"the last journaled reading {last}",
                )
            before = previous.get(tx.connector_id)
            if before is not None and before.meter_stop_wh != tx.meter_start_wh:
                self.bad(
                    "L4",
                    f"connector {tx.connector_id}: meterStart {tx.meter_start_wh} of "
                    f"{tx.local_id} != meterStop {before.meter_stop_wh} of {before.local_id}",
                )
            previous[tx.connector_id] = tx
            start, stop = wall(tx.started_at), wall(tx.stopped_at)
            end = stop
            if tx.stop_reason == "PowerLoss":
                life = self.life_of(start)
                end = self.e.lives[life].died_wall if life is not None else stop
            amount = tx.meter_stop_wh - tx.meter_start_wh
            most = per_wh_s * max(0.0, end - start) + 1
            if amount > most:
                self.bad(
                    "L4",
                    f"{tx.local_id}: {amount} Wh in {end - start:.2f} s is more than "
                    f"{self.e.power_w:.0f} W can give ({most:.1f} Wh)",
                )
            if tx.stop_reason in ("Local", "EVDisconnected", "Reboot"):
                least = per_wh_s * (stop - start - SLACK_S) - 1
                if amount < least:
                    self.bad(
                        "L4",
                        f"{tx.local_id} ({tx.stop_reason}): only {amount} Wh in "
                        f"{stop - start:.2f} s at {self.e.power_w:.0f} W (expected >= {least:.1f})",
                    )
        self.stats["energy_wh"] = delivered

    def identity(self, meter_values: dict[int, list[Call]], stops: dict[int, list[Call]]) -> None:
        for tx in self.e.ledger:
            assigned = self.e.assigned.get(ledger_key(tx))
            if tx.transaction_id != assigned:
                self.bad(
                    "L5",
                    f"ledger transaction {tx.local_id} has transactionId {tx.transaction_id}, the "
                    f"central system assigned {assigned}",
                )
            for call in [*meter_values.get(tx.local_id, []), *stops.get(tx.local_id, [])]:
                if call.payload.get("transactionId") != assigned:
                    self.bad(
                        "L5",
                        f"{call.action} of {tx.local_id} carries transactionId "
                        f"{call.payload.get('transactionId')}, assigned {assigned}",
                        [call],
                    )

    def time(self, meter_values: dict[int, list[Call]], stops: dict[int, list[Call]]) -> None:
        low, high = self.e.wall_window
        for call in self.e.calls:
            for stamp in _timestamps(call.payload):
                t = wall(stamp)
                if t < FLOOR or not (low - 2 <= t <= high + 2):
                    self.bad("L6", f"timestamp {stamp} before 2020 or outside the test", [call])
        for tx in self.e.ledger:
            if tx.stopped_at is None:
                continue
            start, stop = wall(tx.started_at), wall(tx.stopped_at)
            if stop < start:
                self.bad("L6", f"{tx.local_id}: stopped {tx.stopped_at} before it started")
            for call in [*meter_values.get(tx.local_id, []), *stops.get(tx.local_id, [])[:1]]:
                values = call.payload.get("meterValue") or call.payload.get("transactionData", [])
                stamps = [wall(mv["timestamp"]) for mv in values]
                if any(not (start <= s <= stop) for s in stamps) or stamps != sorted(stamps):
                    self.bad(
                        "L6",
                        f"{tx.local_id}: sample times outside [{tx.started_at}, {tx.stopped_at}] "
                        "or decreasing",
                        [call],
                    )

    def crash_contract(self) -> None:
        lives = self.e.lives
        reasons: dict[str, int] = defaultdict(int)
        for tx in self.e.ledger:
            if tx.stopped_at is None:
                continue
            reasons[str(tx.stop_reason)] += 1
            begun, ended = self.life_of(wall(tx.started_at)), self.life_of(wall(tx.stopped_at))
            if begun is None or ended is None:
                self.bad(
                    "C",
                    f"{tx.local_id}: started {tx.started_at} / stopped {tx.stopped_at} outside "
                    "every life of the daemon",
                )
                continue
            life = lives[begun]
            if tx.stop_reason == "PowerLoss":
                if not life.killed:
                    self.bad(
                        "C",
                        f"{tx.local_id}: PowerLoss but life {begun} ended {life.end}",
                        life=begun,
                    )
                if ended <= begun:
                    self.bad(
                        "C",
                        f"{tx.local_id}: PowerLoss stop in the life it started in ({begun})",
                        life=begun,
                    )
                up = lives[ended].ready_wall
                if up is not None and wall(tx.stopped_at) > up + LIFE_SLACK_S:
                    self.bad(
                        "C",
                        f"{tx.local_id}: PowerLoss stop at {tx.stopped_at}, after life {ended} "
                        "was up (recovery must come first)",
                        life=ended,
                    )
                for between in lives[begun + 1 : ended]:
                    if between.ready:
                        self.bad(
                            "C",
                            f"{tx.local_id}: killed in life {begun}, life {between.index} came up "
                            f"without stopping it; stopped only in life {ended}",
                            life=between.index,
                        )
            elif ended != begun:
                self.bad(
                    "C",
                    f"{tx.local_id}: started in life {begun} ({life.end}), stopped in life "
                    f"{ended} with reason {tx.stop_reason} (expected PowerLoss after a kill, "
                    "Reboot at SIGTERM)",
                    life=begun,
                )
            elif tx.stop_reason == "Reboot":
                if life.end not in ("term", "term-kill", "final") or (
                    life.signalled_wall is not None
                    and wall(tx.stopped_at) < life.signalled_wall - LIFE_SLACK_S
                ):
                    self.bad(
                        "C",
                        f"{tx.local_id}: Reboot stop without a SIGTERM (life {begun})",
                        life=begun,
                    )
            elif tx.stop_reason == "Local":
                if not self._did(begun, "swipe", tx, tag=tx.stop_id_tag):
                    self.bad(
                        "C",
                        f"{tx.local_id}: Local stop with no swipe of {tx.stop_id_tag} before it",
                        life=begun,
                    )
            elif tx.stop_reason == "EVDisconnected":
                if not self._did(begun, "unplug", tx):
                    self.bad(
                        "C",
                        f"{tx.local_id}: EVDisconnected without an unplug of "
                        f"connector {tx.connector_id}",
                        life=begun,
                    )
            elif not self.explained(tx, begun):
                self.bad("C", f"{tx.local_id}: unexpected stop reason {tx.stop_reason}", life=begun)
        self.stats["reasons"] = dict(reasons)
        for life in lives:
            expected = {"kill": (-9,), "term-kill": (0, -9)}.get(life.end, (0,))
            if life.exited_early or life.returncode not in expected:
                self.bad(
                    "C",
                    f"life {life.index} ({life.end}): exit status {life.returncode}"
                    f"{' before the test ended it' if life.exited_early else ''} "
                    f"(expected {expected})",
                    life=life.index,
                )
            if life.first_status is not None:
                for c in life.first_status["connectors"]:
                    if c["contactor_closed"] or c["transaction"] is not None:
                        self.bad(
                            "C",
                            f"life {life.index}: first status shows connector {c['id']} with "
                            f"contactor_closed={c['contactor_closed']} transaction="
                            f"{c['transaction']}",
                            life=life.index,
                        )
            self._log(life)

    def driver_came_later(self, shown: str, kept: str) -> bool:
        """Status showed a transaction without a driver that the ledger names (one came after
        the last look): a version's own (1.6: never)."""
        return False

    def explained(self, tx: TxRecord, life: int) -> bool:
        """A stop reason of the version's own, and whether the run explains it (1.6: none)."""
        return False

    def durable(self) -> None:
        """What the daemon told people (status, swipe answers) is in the ledger, as told."""
        for local_id, shown in self.e.seen.items():
            tx = self.by_local.get(local_id)
            told = (shown["connector"], shown["id_tag"], shown["meter_start_wh"], shown["started"])
            if tx is not None and self.driver_came_later(shown["id_tag"], tx.id_tag):
                told = (told[0], tx.id_tag, *told[2:])
            if tx is None or told != (tx.connector_id, tx.id_tag, tx.meter_start_wh, tx.started_at):
                self.bad("L1", f"status showed transaction {local_id} as {shown}; ledger: {tx}")
        for a in self.e.actions:
            if a.what != "swipe" or a.tag is None:
                continue
            tag = a.tag.upper()
            if a.result.startswith("authorised: charging on connector"):
                connector = int(a.result.rsplit(" ", 1)[1])
                if not any(t.id_tag == tag and t.connector_id == connector for t in self.e.ledger):
                    self.bad(
                        "L1",
                        f"life {a.life}: swipe said {a.result!r} for {tag}; no such "
                        "transaction in the ledger",
                        life=a.life,
                    )
            elif (
                a.result.startswith("transaction on connector")
                and a.result.endswith("stopped")
                and not any(
                    t.stop_id_tag == tag and t.stop_reason == "Local" for t in self.e.ledger
                )
            ):
                self.bad(
                    "L1",
                    f"life {a.life}: swipe said {a.result!r} for {tag}; the ledger "
                    "has no Local stop by it",
                    life=a.life,
                )

    def _did(self, life: int, what: str, tx: TxRecord, tag: str | None = None) -> bool:
        start, stop = wall(tx.started_at), wall(str(tx.stopped_at))
        for a in self.e.actions:
            if a.life != life or a.what != what or a.wall > stop + LIFE_SLACK_S:
                continue
            if what == "swipe" and a.tag is not None and tag is not None:
                if a.tag.upper() == tag.upper() and a.wall >= start - LIFE_SLACK_S:
                    return True
            elif what == "unplug" and a.connector == tx.connector_id and a.wall >= start - 1:
                return True
        return False

    def _log(self, life: Life) -> None:
        try:
            lines = life.log_path.read_text(errors="replace").splitlines()
        except OSError as exc:
            self.bad("C", f"life {life.index}: no log ({exc})", life=life.index)
            return
        running = False
        for line in lines:
            if " running: " in line:
                running = True
            if "contactor closed" in line and not running:
                self.bad(
                    "C",
                    f"life {life.index}: contactor closed before start-up ended: {line}",
                    life=life.index,
                )
            if any(word in line for word in JOURNAL_DAMAGE) or "Traceback" in line:
                self.bad("C", f"life {life.index}: {line}", life=life.index)


# What the journal logs when it finds damage (records, files) or loses a stop with the
# storage: a kill never causes either, so each is a violation.
JOURNAL_DAMAGE = ("quarantine", "was corrupt", "was damaged", "is damaged", "lost with the storage")


def iso_list(points: list[float]) -> str:
    return ", ".join(datetime.fromtimestamp(p, UTC).strftime("%H:%M:%S.%f")[:-3] for p in points)


def _timestamps(payload: Any) -> list[str]:
    out: list[str] = []
    if isinstance(payload, dict):
        for key, value in payload.items():
            if key in ("timestamp",) and isinstance(value, str):
                out.append(value)
            else:
                out += _timestamps(value)
    elif isinstance(payload, list):
        for value in payload:
            out += _timestamps(value)
    return out


def check(evidence: Evidence) -> tuple[list[Violation], dict[str, Any]]:
    oracle = Oracle(evidence)
    violations = oracle.check()
    return violations, oracle.stats
