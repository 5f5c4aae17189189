"""The 2.0.1 oracle catches what it claims to catch: the clean history of test_oracle.py told
in TransactionEvents, then one bug injected at a time (a gap, a swap, a number given twice,
a lost Ended, facts that differ from the ledger, a transaction the ledger does not know)."""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.crash.oracle import Answer, Call, Evidence
from tests.crash.oracle201 import check201
from tests.crash.test_oracle import clean, iso

IDS = {1: "1f0c9e7a", 2: "2a9b77d0"}


def register(t: float, wh: float, context: str) -> dict[str, Any]:
    return {
        "timestamp": iso(t),
        "sampledValue": [
            {
                "value": wh,
                "context": context,
                "measurand": "Energy.Active.Import.Register",
                "unitOfMeasure": {"unit": "Wh"},
            }
        ],
    }


def event(local: int, seq_no: int, kind: str, t: float, **more: Any) -> dict[str, Any]:
    info = {"transactionId": IDS[local], **more.pop("info", {})}
    return {
        "eventType": kind,
        "timestamp": iso(t),
        "triggerReason": more.pop("trigger", "MeterValuePeriodic"),
        "seqNo": seq_no,
        "transactionInfo": info,
        **more,
    }


def clean201(tmp_path: Path) -> Evidence:
    e = clean(tmp_path)
    e.ledger = [dataclasses.replace(tx, transaction_id=IDS[tx.local_id]) for tx in e.ledger]
    e.assigned = {}

    def started(local: int, t: float, wh: int) -> dict[str, Any]:
        return event(
            local,
            0,
            "Started",
            t,
            trigger="Authorized",
            evse={"id": 1, "connectorId": 1},
            idToken={"idToken": f"TAG{local}", "type": "ISO14443"},
            meterValue=[register(t, wh, "Transaction.Begin")],
        )

    ended1 = event(
        1,
        2,
        "Ended",
        3.0,
        trigger="StopAuthorized",
        info={"stoppedReason": "Local"},
        idToken={"idToken": "TAG1", "type": "ISO14443"},
        meterValue=[
            register(1.0, 1000, "Transaction.Begin"),
            register(3.0, 1010, "Transaction.End"),
        ],
    )
    ended2 = event(
        2,
        2,
        "Ended",
        8.5,
        trigger="AbnormalCondition",
        info={"stoppedReason": "PowerLoss"},
        meterValue=[register(8.5, 1020, "Transaction.End")],
    )
    payloads = [
        started(1, 1.0, 1000),
        event(1, 1, "Updated", 2.0, meterValue=[register(2.0, 1005, "Sample.Periodic")]),
        ended1,
        started(2, 4.0, 1010),
        event(2, 1, "Updated", 5.0, meterValue=[register(5.0, 1015, "Sample.Periodic")]),
        ended2,
    ]
    e.calls = [
        dataclasses.replace(call, action="TransactionEvent", payload=payload)
        for call, payload in zip(e.calls, payloads, strict=True)
    ]
    e.answers = {
        uid: [dataclasses.replace(a, payload={}) for a in got] for uid, got in e.answers.items()
    }
    return e


def rules(e: Evidence) -> set[str]:
    violations, _ = check201(e)
    return {v.rule for v in violations}


def test_a_clean_history_passes(tmp_path: Path) -> None:
    violations, stats = check201(clean201(tmp_path))
    assert violations == []
    assert stats["reasons"] == {"Local": 1, "PowerLoss": 1}


def _set(index: int, **fields: Any) -> Callable[[Evidence], None]:
    def mutate(e: Evidence) -> None:
        call = e.calls[index]
        payload = copy.deepcopy(call.payload)
        payload.update(fields)
        e.calls[index] = dataclasses.replace(call, payload=payload)

    return mutate


def _gap(e: Evidence) -> None:
    _set(1, seqNo=3)(e)
    _set(2, seqNo=4)(e)


def _swap(e: Evidence) -> None:
    e.calls[1], e.calls[2] = (
        dataclasses.replace(e.calls[2], index=2, t=e.calls[1].t),
        dataclasses.replace(e.calls[1], index=4, t=e.calls[2].t),
    )


def _twice(e: Evidence) -> None:
    """seqNo 1 generated twice: two message ids (the same facts)."""
    again = e.calls[1]
    e.calls.insert(2, Call(3, 2.5, 1, "a-2b", again.action, again.payload))
    e.answers["a-2b"] = [Answer(2.6, 3, {}, 1)]


def _no_end(e: Evidence) -> None:
    del e.calls[5]
    del e.answers["b-1"]


def _unanswered_update(e: Evidence) -> None:
    e.answers["a-2"] = [Answer(2.2, 4, ["InternalError", "", {}], 1)]


def _phantom(e: Evidence) -> None:
    payload = copy.deepcopy(e.calls[4].payload)
    payload["transactionInfo"]["transactionId"] = "not-in-the-ledger"
    e.calls.append(Call(12, 9.5, 2, "b-2", "TransactionEvent", payload))
    e.answers["b-2"] = [Answer(9.6, 3, {}, 2)]


def _no_sample(e: Evidence) -> None:
    """Transaction 2's periodic Updated is missing (and with it seqNo 1)."""
    del e.calls[4]
    del e.answers["a-5"]


def _other_reason(e: Evidence) -> None:
    payload = copy.deepcopy(e.calls[2].payload)
    payload["transactionInfo"]["stoppedReason"] = "Remote"
    e.calls[2] = dataclasses.replace(e.calls[2], payload=payload)


@pytest.mark.parametrize(
    ("mutate", "rule"),
    [
        (_gap, "E2"),
        (_swap, "E2"),
        (_twice, "E2"),
        (_no_end, "E1"),
        (_unanswered_update, "E1"),
        (_phantom, "E1"),
        (_other_reason, "E3"),
        (_no_sample, "L3"),
        (_set(0, meterValue=[register(1.0, 999, "Transaction.Begin")]), "E3"),
        (_set(3, evse={"id": 2, "connectorId": 1}), "E3"),
        (_set(4, eventType="Started"), "E2"),
        (_set(4, timestamp=iso(3.5)), "E4"),
    ],
)
def test_each_bug_is_caught(tmp_path: Path, mutate: Callable[[Evidence], None], rule: str) -> None:
    e = clean201(tmp_path)
    mutate(e)
    assert rule in rules(e)
