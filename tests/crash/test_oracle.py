"""The oracle catches what it claims to catch: one clean history, then the known bugs injected.

The history: life 0 starts transaction 1 on connector 1, stops it with the same tag
(Local), starts transaction 2 and is SIGKILLed; life 1 (the final one) stops 2 with
PowerLoss at start-up and drains. Each mutation is one bug from the rules note (c).
"""

from __future__ import annotations

import copy
import dataclasses
import json
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from ocppd.journal import QueueStats, TxRecord
from tests.crash.daemon import Life
from tests.crash.driver import Action
from tests.crash.oracle import Answer, Call, Evidence, check, start_key

BASE = datetime(2026, 1, 1, tzinfo=UTC).timestamp()  # wall = BASE + t (t: the test's clock)
P = 18000.0  # W: 5 Wh/s


def iso(t: float) -> str:
    return datetime.fromtimestamp(BASE + t, UTC).isoformat(timespec="milliseconds")[:-6] + "Z"


def mv(t: float, wh: float, context: str = "Sample.Periodic") -> dict[str, Any]:
    value = {
        "value": str(round(wh)),
        "context": context,
        "measurand": "Energy.Active.Import.Register",
    }
    return {"timestamp": iso(t), "sampledValue": [{**value, "unit": "Wh"}]}


def tx(local_id: int, tx_id: int, start: float, meter_start: int, **stop: Any) -> TxRecord:
    return TxRecord(
        local_id=local_id,
        connector_id=1,
        id_tag=f"TAG{local_id}",
        reservation_id=None,
        meter_start_wh=meter_start,
        started_at=iso(start),
        transaction_id=tx_id,
        start_status="Accepted",
        meter_last_wh=stop.pop("meter_last_wh", None),
        meter_last_at=None,
        state="done",
        meter_stop_wh=stop["meter_stop"],
        stopped_at=iso(stop["at"]),
        stop_reason=stop["reason"],
        stop_id_tag=stop.get("id_tag"),
    )


def clean(tmp_path: Path) -> Evidence:
    lives = []
    for index, (end, spawned, died) in enumerate((("kill", 0.0, 7.0), ("final", 8.0, 20.0))):
        log = tmp_path / f"life-{index}.log"
        log.write_text("x INFO ocppd.app: ocppd 0.1.0 running: 1 connector(s)\n")
        life = Life(index, end, log, spawned_wall=BASE + spawned, spawned_t=spawned)
        life.ready_wall = BASE + spawned + 0.8
        life.first_status = {
            "connectors": [{"id": 1, "contactor_closed": False, "transaction": None}]
        }
        life.died_wall, life.died_t = BASE + died, died
        life.signalled_wall = BASE + died - 0.01
        life.returncode = -9 if end == "kill" else 0
        lives.append(life)
    one = tx(1, 1, 1.0, 1000, meter_stop=1010, at=3.0, reason="Local", id_tag="TAG1")
    two = tx(2, 2, 4.0, 1010, meter_stop=1020, at=8.5, reason="PowerLoss", meter_last_wh=1020.0)
    start1 = {"connectorId": 1, "idTag": "TAG1", "meterStart": 1000, "timestamp": iso(1.0)}
    start2 = {"connectorId": 1, "idTag": "TAG2", "meterStart": 1010, "timestamp": iso(4.0)}
    stop1 = {
        "meterStop": 1010,
        "timestamp": iso(3.0),
        "reason": "Local",
        "idTag": "TAG1",
        "transactionData": [mv(1.0, 1000, "Transaction.Begin"), mv(3.0, 1010, "Transaction.End")],
        "transactionId": 1,
    }
    stop2 = {"meterStop": 1020, "timestamp": iso(8.5), "reason": "PowerLoss", "transactionId": 2}
    calls = [
        Call(0, 1.1, 1, "a-1", "StartTransaction", start1),
        Call(
            2,
            2.1,
            1,
            "a-2",
            "MeterValues",
            {"connectorId": 1, "transactionId": 1, "meterValue": [mv(2.0, 1005)]},
        ),
        Call(4, 3.1, 1, "a-3", "StopTransaction", stop1),
        Call(6, 4.1, 1, "a-4", "StartTransaction", start2),
        Call(
            8,
            5.1,
            1,
            "a-5",
            "MeterValues",
            {"connectorId": 1, "transactionId": 2, "meterValue": [mv(5.0, 1015)]},
        ),
        Call(10, 9.0, 2, "b-1", "StopTransaction", stop2),
    ]
    answers = {
        "a-1": [Answer(1.2, 3, {"transactionId": 1}, 1)],
        "a-2": [Answer(2.2, 3, {}, 1)],
        "a-3": [Answer(3.2, 3, {}, 1)],
        "a-4": [Answer(4.2, 3, {"transactionId": 2}, 1)],
        "a-5": [Answer(5.2, 3, {}, 1)],
        "b-1": [Answer(9.1, 3, {}, 2)],
    }
    return Evidence(
        calls=calls,
        answers=answers,
        ledger=[one, two],
        stats=QueueStats(pending=0, dead=0, dropped=0, bytes=0, max_bytes=1),
        dead=[],
        lives=lives,
        actions=[
            Action(0, BASE + 2.9, 2.9, "swipe", 1, "TAG1", "transaction on connector 1 stopped")
        ],
        seen={},
        disruptions=[(6.99, "kill"), (19.99, "term")],
        schema_violations=[],
        assigned={start_key(start1): 1, start_key(start2): 2},
        wall_window=(BASE - 1, BASE + 21),
        power_w=P,
        sample_interval=1.0,
    )


def test_a_clean_history_passes(tmp_path: Path) -> None:
    violations, stats = check(clean(tmp_path))
    assert violations == []
    assert stats["reasons"] == {"Local": 1, "PowerLoss": 1}


def test_a_repeat_after_an_answer_lost_with_its_connection_is_allowed(tmp_path: Path) -> None:
    """The answer to the last MeterValues went out on connection 1 just as it ended (a missed
    pong): nothing else came over connection 1, and the copy on connection 2 is legitimate."""
    e = clean(tmp_path)
    e.disruptions = [(19.99, "term")]  # no kill: life 0 ended some other way, say
    e.lives[0].end = "term"
    e.lives[0].returncode = 0
    again = e.calls[4]
    e.calls.insert(5, Call(9, 5.8, 2, again.unique_id, again.action, again.payload))
    e.answers["a-5"].append(Answer(5.9, 3, {}, 2))
    violations, _ = check(e)
    assert [v for v in violations if v.rule == "L2"] == []


def _replace_call(e: Evidence, uid: str, **payload: Any) -> None:
    for i, c in enumerate(e.calls):
        if c.unique_id == uid:
            e.calls[i] = Call(
                c.index, c.t, c.connection, c.unique_id, c.action, {**c.payload, **payload}
            )


def stop_sent_twice_after_reboot(e: Evidence) -> None:  # libocpp #239, #907
    again = copy.deepcopy(e.calls[-1])
    e.calls.append(Call(12, 10.0, 2, "b-2", again.action, again.payload))
    e.answers["b-2"] = [Answer(10.1, 3, {}, 2)]


def stop_with_minus_one(e: Evidence) -> None:  # libocpp #495
    _replace_call(e, "b-1", transactionId=-1)


def start_lost_in_a_reset(e: Evidence) -> None:  # MicroOcpp #454
    e.calls = [c for c in e.calls if c.unique_id != "a-4"]


def start_retried_under_a_new_id(e: Evidence) -> None:  # libocpp #688
    first = e.calls[3]
    e.answers["a-4"] = [Answer(4.2, 4, ["InternalError", "", {}], 1)]
    e.calls.insert(4, Call(7, 4.5, 1, "a-4b", first.action, first.payload))
    e.answers["a-4b"] = [Answer(4.6, 3, {"transactionId": 2}, 1)]


def resent_after_its_answer(e: Evidence) -> None:
    again = e.calls[1]
    e.calls.insert(2, Call(3, 2.5, 1, again.unique_id, again.action, again.payload))


def resent_after_the_queue_moved_on(e: Evidence) -> None:
    # the first MeterValues was answered and the Stop after it was sent: its answer was
    # committed (the outbox sends in order), so a copy after the restart is a bug
    again = e.calls[1]
    e.calls.append(Call(11, 9.5, 2, again.unique_id, again.action, again.payload))


def id_reused_for_another_message(e: Evidence) -> None:
    e.calls[4] = Call(8, 5.1, 1, "a-2", "MeterValues", e.calls[4].payload)


def meter_values_after_the_stop(e: Evidence) -> None:
    late = e.calls[1]
    e.calls.remove(late)
    e.calls.insert(2, Call(5, 3.3, 1, late.unique_id, late.action, late.payload))


def register_goes_backwards(e: Evidence) -> None:
    e.ledger[1] = replace(e.ledger[1], meter_start_wh=1008)
    start = {**e.calls[3].payload, "meterStart": 1008}
    e.calls[3] = Call(6, 4.1, 1, "a-4", "StartTransaction", start)
    e.assigned = {start_key(e.calls[0].payload): 1, start_key(start): 2}


def more_energy_than_the_ev_can_take(e: Evidence) -> None:
    e.power_w = 1800.0  # 0.5 Wh/s: 10 Wh in 2 s is impossible


def killed_transaction_stopped_local(e: Evidence) -> None:
    e.ledger[1] = replace(e.ledger[1], stop_reason="Local", stop_id_tag="TAG2")
    _replace_call(e, "b-1", reason="Local", idTag="TAG2")


def timestamp_from_1970(e: Evidence) -> None:
    _replace_call(e, "a-2", meterValue=[{**mv(2.0, 1005), "timestamp": "1970-01-01T00:00:05Z"}])


def contactor_closed_at_start(e: Evidence) -> None:
    e.lives[1].first_status = {
        "connectors": [{"id": 1, "contactor_closed": True, "transaction": None}]
    }


def samples_missing(e: Evidence) -> None:
    e.sample_interval = 0.3  # 2 s from the last sample to the kill: several samples missing


def damaged_record(e: Evidence) -> None:  # issue 18: the journal found one at a start
    e.stats = dataclasses.replace(e.stats, quarantined=1)


def files_moved_aside(e: Evidence) -> None:  # issue 18: judged at a start, salvaged
    with e.lives[1].log_path.open("a") as f:
        f.write("x ERROR ocppd.journal.storage: journal /s/journal.db is damaged (...): moved\n")


def stop_differs_from_the_ledger(e: Evidence) -> None:
    _replace_call(e, "b-1", meterStop=1019)


MUTATIONS: dict[str, tuple[Callable[[Evidence], None], str]] = {
    "stop sent twice after a reboot (libocpp #239/#907)": (stop_sent_twice_after_reboot, "L2"),
    "stop with transactionId -1 (libocpp #495)": (stop_with_minus_one, "L1"),
    "start lost in a reset (MicroOcpp #454)": (start_lost_in_a_reset, "L1"),
    "start retried under a new id (libocpp #688)": (start_retried_under_a_new_id, "L2"),
    "a message resent after its CALLRESULT": (resent_after_its_answer, "L2"),
    "resent after the queue had moved on": (resent_after_the_queue_moved_on, "L2"),
    "a message id reused": (id_reused_for_another_message, "L2"),
    "MeterValues after the Stop": (meter_values_after_the_stop, "L3"),
    "the register goes backwards between transactions": (register_goes_backwards, "L4"),
    "more energy than the EV can take": (more_energy_than_the_ev_can_take, "L4"),
    "a killed transaction stopped Local": (killed_transaction_stopped_local, "C"),
    "a timestamp from 1970": (timestamp_from_1970, "L6"),
    "a contactor closed at start-up": (contactor_closed_at_start, "C"),
    "a Stop that differs from the ledger": (stop_differs_from_the_ledger, "L1"),
    "samples missing": (samples_missing, "L3"),
    "a damaged journal record": (damaged_record, "C"),
    "a journal file set moved aside": (files_moved_aside, "C"),
}


@pytest.mark.parametrize("name", list(MUTATIONS))
def test_the_oracle_catches(name: str, tmp_path: Path) -> None:
    mutate, rule = MUTATIONS[name]
    evidence = clean(tmp_path)
    mutate(evidence)
    violations, _ = check(evidence)
    assert rule in {v.rule for v in violations}, json.dumps([str(v) for v in violations], indent=1)
