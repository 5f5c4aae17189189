"""CustomerInformation (N09, N10) against the independent 2.0.1 CSMS: what the charger holds
about an idToken (cache entry, local list entry, transactions), reported in
NotifyCustomerInformation parts; a clear removes the cache entry and keeps the ledger."""

from __future__ import annotations

from typing import Any

import trio
from ocpp.v201 import call

from ocppd.features.v201.customer import chunks
from tests.v201.harness import charger201, registered

TAG = "AABBCCDD"
TOKEN = {"id_token": TAG, "type": "ISO14443"}


async def session(cp: Any, tag: str = TAG) -> Any:
    """One finished transaction of ``tag`` (authorised online, so its verdict is cached)."""
    await cp.sim("plug", 1)
    await cp.swipe(tag)
    with trio.fail_after(60):
        while cp.connector(1).tx is None:
            await trio.sleep(0.5)
    tx = cp.connector(1).tx
    await trio.sleep(30)
    await cp.sim("unplug", 1)
    with trio.fail_after(60):
        while cp.connector(1).tx is not None:
            await trio.sleep(0.5)
    return tx


async def notified(station: Any, request_id: int) -> list[dict[str, Any]]:
    """Every NotifyCustomerInformation of ``request_id``, once the last (tbc false) came."""
    with trio.fail_after(30):
        while True:
            parts = [
                r.payload
                for r in station.calls("NotifyCustomerInformation")
                if r.payload["requestId"] == request_id
            ]
            if parts and not parts[-1].get("tbc", False):
                return parts
            await trio.sleep(0.5)


def text_of(parts: list[dict[str, Any]]) -> str:
    assert [p["seqNo"] for p in parts] == list(range(len(parts)))
    return "\n".join(p["data"] for p in parts)


async def ask(station: Any, request_id: int, *, report: bool, clear: bool, **who: Any) -> Any:
    return await station.call(
        call.CustomerInformation(request_id=request_id, report=report, clear=clear, **who)
    )


async def test_tc_n_27_30_cs_report_then_clear_and_report(
    nursery, start_csms201, autojump_clock
) -> None:
    """TC_N_27_CS: Accepted and the data (the cache entry, the transaction: when, energy);
    TC_N_30_CS: clear and report: the cache entry is removed, the ledger's transaction kept
    (billing record) and named as kept; a report after it no longer has the cache entry."""
    csms = await start_csms201()
    async with charger201(nursery, csms) as cp:
        station = await registered(cp)
        tx = await session(cp)
        answer = await ask(station, 1, report=True, clear=False, id_token=TOKEN)
        assert answer.status == "Accepted"
        text = text_of(await notified(station, 1))
        assert text.startswith(f"idToken {TAG} (ISO14443)")
        assert "authorization cache: Accepted" in text
        assert f"transaction {tx.transaction_id}: EVSE 1" in text and " Wh" in text
        answer = await ask(station, 2, report=True, clear=True, id_token=TOKEN)
        assert answer.status == "Accepted"
        text = text_of(await notified(station, 2))
        assert "cleared authorization cache: Accepted" in text
        assert f"kept (billing record) transaction {tx.transaction_id}" in text
        assert await cp.journal.cache_lookup(TAG) is None
        assert [t.id_tag for t in await cp.journal.transactions()] == [TAG]
        await ask(station, 3, report=True, clear=False, id_token=TOKEN)
        text = text_of(await notified(station, 3))
        assert "authorization cache" not in text and f"transaction {tx.transaction_id}" in text
    assert csms.violations == []


async def test_tc_n_28_31_32_62_cs_no_data_and_clear_without_report(
    nursery, start_csms201, autojump_clock
) -> None:
    """TC_N_28_CS / TC_N_31_CS: a customer the charger holds nothing of: Accepted and one
    message saying no data was found (N09.FR.06, N10.FR.04); TC_N_32_CS: clear without
    report still says it was cleared (N10.FR.06); TC_N_62_CS: a customerIdentifier (the
    charger keeps none): no data."""
    csms = await start_csms201()
    async with charger201(nursery, csms) as cp:
        station = await registered(cp)
        await ask(station, 1, report=True, clear=False, id_token=TOKEN)
        assert text_of(await notified(station, 1)).endswith(
            f"no data found for idToken {TAG} (ISO14443)"
        )
        await ask(station, 2, report=True, clear=True, id_token=TOKEN)
        assert "no data found" in text_of(await notified(station, 2))
        answer = await ask(station, 3, report=False, clear=True, id_token=TOKEN)
        assert answer.status == "Accepted"
        assert len(await notified(station, 3)) == 1
        answer = await ask(
            station, 4, report=True, clear=True, customer_identifier="OpenChargeAlliance"
        )
        assert answer.status == "Accepted"
        assert "no data found for customerIdentifier OpenChargeAlliance" in text_of(
            await notified(station, 4)
        )
    assert csms.violations == []


async def test_tc_n_29_cs_rejected_or_invalid_requests(
    nursery, start_csms201, autojump_clock
) -> None:
    """TC_N_29_CS: neither report nor clear is Rejected (N09.FR.07); no customer named, or
    two at once, is Invalid; neither sends a notification."""
    csms = await start_csms201()
    async with charger201(nursery, csms) as cp:
        station = await registered(cp)
        answer = await ask(station, 1, report=False, clear=False, id_token=TOKEN)
        assert answer.status == "Rejected"
        answer = await ask(station, 2, report=True, clear=False)
        assert answer.status == "Invalid"
        answer = await ask(
            station, 3, report=True, clear=False, id_token=TOKEN, customer_identifier="x"
        )
        assert answer.status == "Invalid"
        await trio.sleep(5)
        assert station.calls("NotifyCustomerInformation") == []
    assert csms.violations == []


def test_a_report_is_cut_into_messages_of_512_characters() -> None:
    lines = [f"line {i} " + "x" * 100 for i in range(20)] + ["y" * 1200]
    parts = chunks(lines)
    assert all(0 < len(p) <= 512 for p in parts)
    assert "".join(p.replace("\n", "") for p in parts) == "".join(lines)
    assert chunks([]) == [""]
