"""The journal tests write OCPP 1.6 transactions, as the daemon's 1.6 recorder does.

The journal is version-neutral: it is told the 1.6 actions (`WORDS`) and the facts of
a 1.6 answer (`acknowledge`, what features/core/transactions.py's courier does).
"""

from __future__ import annotations

from typing import Any

from ocppd.journal import Journal, OutboxMessage, TxWords

WORDS = TxWords("ocpp1.6", start="StartTransaction", event="MeterValues", stop="StopTransaction")


async def acknowledge(journal: Journal, seq: int, response: dict[str, Any]) -> OutboxMessage | None:
    """Acknowledge ``seq`` with a 1.6 CALLRESULT payload (a StartTransaction.conf's
    transactionId and idTagInfo.status go to the ledger)."""
    info = response.get("idTagInfo") or {}
    return await journal.acknowledge(
        seq, transaction_id=response.get("transactionId"), start_status=info.get("status")
    )
