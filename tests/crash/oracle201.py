"""The oracle in OCPP 2.0.1: "nothing lost" for TransactionEvent.

The rules of :mod:`tests.crash.oracle` that speak of no message (integrity of the journal
at the end, L2's "a copy is sent again only when its answer could not have been
committed", the crash contract, what ``status`` and the swipes told people, the logs) hold
as they are. The rules on the messages are 2.0.1's (issue 17: "every transaction's events
delivered, in order, once; seqNo without gaps"):

- E1 completeness: every ledger transaction (its transactionId is the charge point's,
  kept in the ledger) has a Started and an Ended at the central system, each answered
  with a CALLRESULT; no TransactionEvent names a transaction the ledger does not know; the
  transactions the central system saw ended are exactly the ledger's.
- E2 once, in order, without gaps: per transaction the seqNos, in the order of their first
  arrival, are exactly 0, 1, 2 ... n-1; each seqNo is one message (one message id, one
  payload; a repeat is a resend of the same id); Started is seqNo 0 and the only Started,
  Ended is the last and the only Ended.
- E3 facts: Started's evse and idToken are the ledger's connector and tag, its
  Transaction.Begin register is meterStart; Ended's stoppedReason is the ledger's reason
  and its Transaction.End register is meterStop; every register value sent within a
  transaction lies between them, never decreasing in seqNo order; the next transaction on
  a connector starts where the previous one ended.
- L3's cadence holds as in 1.6, for the Updated events with MeterValuePeriodic (every
  TxUpdatedInterval, the 1.6 MeterValueSampleInterval, +/- 1 s, from the start to the end
  or the SIGKILL).
- E4 time: no timestamp before 2020 or outside the test's window; event timestamps never
  decrease in seqNo order.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from tests.crash.daemon import KEYS
from tests.crash.oracle import (
    FLOOR,
    LIFE_SLACK_S,
    Call,
    Evidence,
    Oracle,
    Violation,
    register_values,
    wall,
)

EVENT = "TransactionEvent"


class Oracle201(Oracle):
    def __init__(self, e: Evidence) -> None:
        super().__init__(e)
        self.by_txid = {tx.transaction_id: tx for tx in e.ledger if tx.transaction_id is not None}

    def check(self) -> list[Violation]:
        self.integrity()
        events = self.sort_events()
        self.completeness201(events)
        starts = {
            k: [c for c in v if c.payload["eventType"] == "Started"] for k, v in events.items()
        }
        stops = {k: [c for c in v if c.payload["eventType"] == "Ended"] for k, v in events.items()}
        self.generated_once(starts, stops, {})
        self.sequence(events)
        self.cadence(
            {
                local: [c for c in calls if c.payload["triggerReason"] == "MeterValuePeriodic"]
                for local, calls in events.items()
            }
        )
        self.facts(events)
        self.time201(events)
        self.crash_contract()
        self.durable()
        return self.violations

    def driver_came_later(self, shown: str, kept: str) -> bool:
        """A transaction begun at the cable (TxStartPoint EVConnected) shows no driver until
        one is authorised; the last status before a kill may predate it."""
        return shown == "" and kept != ""

    def explained(self, tx: Any, life: int) -> bool:
        """2.0.1's own stop reasons: Timeout ends a transaction begun at the cable or the tag
        whose driver or cable did not come within EVConnectionTimeOut (E01, E03); StoppedByEV
        one whose EV stopped drawing energy (TxStopPoint EnergyTransfer)."""
        if tx.stop_reason == "Timeout":
            lasted = wall(str(tx.stopped_at)) - wall(tx.started_at)
            return lasted >= float(KEYS["ConnectionTimeOut"]) - 1
        return tx.stop_reason == "StoppedByEV"

    def sort_events(self) -> dict[int, list[Call]]:
        """TransactionEvents per ledger local id, in arrival order (phantoms are violations)."""
        events: dict[int, list[Call]] = defaultdict(list)
        counts: dict[str, int] = defaultdict(int)
        for call in self.e.calls:
            counts[call.action] += 1
            if call.action != EVENT:
                continue
            tx = self.by_txid.get(call.payload["transactionInfo"]["transactionId"])
            if tx is None:
                self.bad("E1", "TransactionEvent of no transaction in the ledger", [call])
                continue
            events[tx.local_id].append(call)
        self.stats["calls"] = dict(counts)
        return events

    def completeness201(self, events: dict[int, list[Call]]) -> None:
        ended: set[Any] = set()
        for tx in self.e.ledger:
            calls = events.get(tx.local_id, [])
            for kind in ("Started", "Ended"):
                copies = [c for c in calls if c.payload["eventType"] == kind]
                if not copies:
                    self.bad("E1", f"no {kind} for ledger transaction {tx}", calls)
                elif not any(self.answered(c.unique_id) for c in copies):
                    self.bad("E1", f"{kind} of {tx.local_id} never got a CALLRESULT", copies)
                elif kind == "Ended":
                    ended.add(tx.transaction_id)
            copies_of: dict[int, list[Call]] = defaultdict(list)
            for c in calls:
                copies_of[c.payload["seqNo"]].append(c)
            lost = [
                n
                for n, same in copies_of.items()
                if not any(self.answered(c.unique_id) for c in same)
            ]
            if lost:
                self.bad("E1", f"seqNo {sorted(lost)} of {tx.local_id} never answered", calls)
        ledger_ids = {tx.transaction_id for tx in self.e.ledger}
        if ended != ledger_ids:
            self.bad(
                "E1",
                f"the central system saw {len(ended)} transactions end, the ledger has "
                f"{len(ledger_ids)} (not ended at the CSMS: "
                f"{sorted(map(str, ledger_ids - ended))})",
            )

    def sequence(self, events: dict[int, list[Call]]) -> None:
        for local_id, calls in events.items():
            by_number: dict[int, Call] = {}
            order: list[int] = []
            for call in calls:
                number = call.payload["seqNo"]
                first = by_number.get(number)
                if first is None:
                    by_number[number] = call
                    order.append(number)
                elif first.unique_id != call.unique_id or first.payload != call.payload:
                    self.bad(
                        "E2",
                        f"seqNo {number} of transaction {local_id} is two messages",
                        [first, call],
                    )
            if order != list(range(len(order))):
                self.bad(
                    "E2",
                    f"transaction {local_id}: seqNos arrived as {order} (expected "
                    f"0..{len(order) - 1} in order, without a gap)",
                    [by_number[n] for n in order],
                )
            kinds = [by_number[n].payload["eventType"] for n in sorted(by_number)]
            if kinds[:1] != ["Started"] or kinds.count("Started") != 1:
                self.bad("E2", f"transaction {local_id}: events {kinds} (Started first, once)")
            if kinds[-1:] != ["Ended"] or kinds.count("Ended") != 1:
                self.bad("E2", f"transaction {local_id}: events {kinds} (Ended last, once)")

    def facts(self, events: dict[int, list[Call]]) -> None:
        previous_stop: dict[int, float] = {}
        self.stats["energy_wh"] = sum(
            (tx.meter_stop_wh or tx.meter_start_wh) - tx.meter_start_wh for tx in self.e.ledger
        )
        for tx in sorted(self.e.ledger, key=lambda t: t.local_id):
            calls = sorted({c.payload["seqNo"]: c for c in events.get(tx.local_id, [])}.items())
            ordered = [c for _, c in calls]
            for call in ordered:
                p = call.payload
                if p["eventType"] == "Started":
                    want = ({"id": tx.connector_id, "connectorId": 1}, tx.id_tag)
                    got = (p.get("evse"), driver_of(ordered))
                    if got != want:
                        self.bad("E3", f"Started of {tx.local_id}: {got}, ledger {want}", [call])
                    begin = [
                        v
                        for _, v, ctx in register_values(p.get("meterValue", []))
                        if ctx == "Transaction.Begin"
                    ]
                    if begin != [tx.meter_start_wh]:
                        self.bad(
                            "E3",
                            f"Started of {tx.local_id}: Begin {begin}, meterStart "
                            f"{tx.meter_start_wh}",
                            [call],
                        )
                if p["eventType"] == "Ended":
                    reason = p["transactionInfo"].get("stoppedReason")
                    if reason != tx.stop_reason:
                        self.bad(
                            "E3",
                            f"Ended of {tx.local_id}: {reason}, ledger {tx.stop_reason}",
                            [call],
                        )
                    end = [
                        v
                        for _, v, ctx in register_values(p.get("meterValue", []))
                        if ctx == "Transaction.End"
                    ]
                    if end != [tx.meter_stop_wh]:
                        self.bad(
                            "E3",
                            f"Ended of {tx.local_id}: End {end}, meterStop {tx.meter_stop_wh}",
                            [call],
                        )
            low, high = (
                tx.meter_start_wh,
                tx.meter_stop_wh if tx.meter_stop_wh is not None else 1e18,
            )
            # the events' values in seqNo order; Ended repeats the TxEndedMeasurands values
            # from the start, so its own are a run of their own
            runs = [
                [v for _, v, _ in register_values(c.payload.get("meterValue", []))]
                for c in ordered
                if c.payload["eventType"] != "Ended"
            ]
            during = [v for run in runs for v in run]
            ended = [
                [v for _, v, _ in register_values(c.payload.get("meterValue", []))]
                for c in ordered
                if c.payload["eventType"] == "Ended"
            ]
            for values in (during, *ended):
                if any(not low <= v <= high for v in values) or values != sorted(values):
                    self.bad(
                        "E3",
                        f"transaction {tx.local_id}: registers {values} not within "
                        f"{low}..{high}, never decreasing",
                        ordered,
                    )
            before = previous_stop.get(tx.connector_id)
            if before is not None and before != tx.meter_start_wh:
                self.bad(
                    "E3",
                    f"transaction {tx.local_id} starts at {tx.meter_start_wh} Wh; "
                    f"the previous one on connector {tx.connector_id} ended at {before}",
                )
            if tx.meter_stop_wh is not None:
                previous_stop[tx.connector_id] = tx.meter_stop_wh

    def time201(self, events: dict[int, list[Call]]) -> None:
        low, high = self.e.wall_window
        for local_id, calls in events.items():
            ordered = [c for _, c in sorted({c.payload["seqNo"]: c for c in calls}.items())]
            stamps = [wall(c.payload["timestamp"]) for c in ordered]
            if stamps != sorted(stamps):
                self.bad("E4", f"transaction {local_id}: event times go back", ordered)
            for call, t in zip(ordered, stamps, strict=True):
                if t < FLOOR or not low - LIFE_SLACK_S - 1 <= t <= high + 1:
                    self.bad("E4", f"timestamp outside the test's window: {t}", [call])


def driver_of(ordered: list[Call]) -> str:
    """The token of a transaction: Started's, or (begun at the cable, TxStartPoint
    EVConnected) that of the first Updated with triggerReason Authorized; empty without."""
    for call in ordered:
        p = call.payload
        token = (p.get("idToken") or {}).get("idToken")
        if p["eventType"] == "Started" and token is not None:
            return str(token)
        if p["eventType"] == "Updated" and p["triggerReason"] == "Authorized":
            return str(token)
    return ""


def check201(evidence: Evidence) -> tuple[list[Violation], dict[str, Any]]:
    oracle = Oracle201(evidence)
    violations = oracle.check()
    return violations, oracle.stats
