"""Display messages (block O, O01-O06) against the independent 2.0.1 CSMS: set, get, clear,
replace, the refusals, transaction messages, time windows, the bound, restart.

The charger has the sim display (``[display]``): without a local display it refuses every
message (``NoDisplay``).
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import trio
from ocpp.v201 import call

from tests.harness import csms_now
from tests.test_display import screen, with_display
from tests.v201.harness import charger201, registered
from tests.v201.test_reset import OFFLINE_START, charging


def message(
    message_id: int = 1,
    content: str = "Free charging today",
    priority: str = "NormalCycle",
    fmt: str = "UTF8",
    **fields: Any,
) -> dict[str, Any]:
    return {
        "id": message_id,
        "priority": priority,
        "message": {"format": fmt, "content": content, "language": "en"},
        **fields,
    }


async def set_message(station: Any, **kwargs: Any) -> Any:
    return await station.call(call.SetDisplayMessage(message=message(**kwargs)))


async def reported(station: Any, request_id: int) -> list[dict[str, Any]]:
    """The messages the NotifyDisplayMessages of ``request_id`` carried, every part."""
    with trio.fail_after(30):
        while True:
            parts = [
                r.payload
                for r in station.calls("NotifyDisplayMessages")
                if r.payload["requestId"] == request_id
            ]
            if parts and not parts[-1].get("tbc", False):
                return [info for p in parts for info in p["messageInfo"]]
            await trio.sleep(0.5)


def stamp(seconds: float) -> str:
    return (csms_now() + timedelta(seconds=seconds)).isoformat().replace("+00:00", "Z")


async def test_tc_o_01_cs_and_tc_o_02_cs_set_then_get_all(
    nursery, start_csms201, autojump_clock
) -> None:
    """TC_O_01_CS: Accepted (O01.FR.01); TC_O_02_CS: GetDisplayMessages without filters is
    Accepted and NotifyDisplayMessages carries the message as set; TC_O_03_CS: none set
    is Unknown."""
    csms = await start_csms201()
    async with charger201(nursery, csms, **with_display()) as cp:
        station = await registered(cp)
        empty = await station.call(call.GetDisplayMessages(request_id=7))
        assert empty.status == "Unknown"
        answer = await set_message(station, state="Idle")
        assert answer.status == "Accepted"
        answer = await station.call(call.GetDisplayMessages(request_id=8))
        assert answer.status == "Accepted"
        infos = await reported(station, 8)
        assert infos == [message(state="Idle")]
    assert csms.violations == []


async def test_tc_o_07_08_09_11_cs_get_specific_messages(
    nursery, start_csms201, autojump_clock
) -> None:
    """TC_O_07_CS by id, TC_O_08_CS by priority, TC_O_09_CS by state; TC_O_11_CS, TC_O_34_CS,
    TC_O_35_CS: a filter nothing matches is Unknown (every filter given must match)."""
    csms = await start_csms201()
    async with charger201(nursery, csms, **with_display()) as cp:
        station = await registered(cp)
        await set_message(station, message_id=1, priority="InFront", state="Charging")
        await set_message(station, message_id=2, priority="NormalCycle", state="Idle")
        await set_message(station, message_id=3, priority="NormalCycle")
        cases = [
            ({"id": [2]}, [2]),
            ({"priority": "NormalCycle"}, [2, 3]),
            ({"state": "Charging"}, [1]),
            ({"id": [1, 3], "priority": "NormalCycle"}, [3]),
        ]
        for request_id, (filters, ids) in enumerate(cases, start=20):
            answer = await station.call(call.GetDisplayMessages(request_id=request_id, **filters))
            assert answer.status == "Accepted"
            assert [i["id"] for i in await reported(station, request_id)] == ids
        for filters in (
            {"id": [9]},
            {"id": [1], "state": "Idle"},
            {"id": [2], "priority": "InFront"},
        ):
            answer = await station.call(call.GetDisplayMessages(request_id=40, **filters))
            assert answer.status == "Unknown", filters
    assert csms.violations == []


async def test_tc_o_04_05_12_cs_clear_and_replace(nursery, start_csms201, autojump_clock) -> None:
    """TC_O_12_CS: a second message of the same id replaces the first (O06); TC_O_04_CS:
    clear it, Accepted; TC_O_05_CS: an unknown id is Unknown."""
    csms = await start_csms201()
    async with charger201(nursery, csms, **with_display()) as cp:
        station = await registered(cp)
        await set_message(station, message_id=5, content="first")
        answer = await set_message(station, message_id=5, content="second", priority="InFront")
        assert answer.status == "Accepted"
        assert [n.text for n in cp.charger.notices.all()] == ["second"]
        assert (await station.call(call.ClearDisplayMessage(id=5))).status == "Accepted"
        assert (await station.call(call.ClearDisplayMessage(id=5))).status == "Unknown"
        assert cp.charger.notices.all() == []
    assert csms.violations == []


async def test_tc_o_19_cs_html_and_uri_are_not_supported_formats(
    nursery, start_csms201, autojump_clock
) -> None:
    """TC_O_19_CS: the 128x64 panel draws text only: HTML and URI are
    NotSupportedMessageFormat, and SupportedFormats says ASCII,UTF8."""
    csms = await start_csms201()
    async with charger201(nursery, csms, **with_display()) as cp:
        station = await registered(cp)
        for fmt in ("HTML", "URI"):
            answer = await set_message(station, fmt=fmt, content="<b>hi</b>")
            assert answer.status == "NotSupportedMessageFormat"
        assert (await set_message(station, fmt="ASCII")).status == "Accepted"
        answer = await station.call(
            call.GetVariables(
                get_variable_data=[
                    {"component": {"name": "DisplayMessageCtrlr"}, "variable": {"name": name}}
                    for name in ("SupportedFormats", "SupportedPriorities", "Available")
                ]
            )
        )
        values = [r["attribute_value"] for r in answer.get_variable_result]
        assert values == ["ASCII,UTF8", "AlwaysFront,InFront,NormalCycle", "true"]
    assert csms.violations == []


async def test_tc_o_26_cs_rejected_when_full_disabled_or_without_a_display(
    nursery, start_csms201, autojump_clock
) -> None:
    """TC_O_26_CS: Rejected. The room is bounded (DisplayMessageCtrlr.DisplayMessages): a new
    id beyond it is Rejected, a known id is still replaced; Enabled false is Rejected; a
    charger without a display Rejects every message and says Available false."""
    csms = await start_csms201()
    keys = {'"DisplayMessageCtrlr.DisplayMessages"': 2}  # quoted: a dotted TOML key is a table
    async with charger201(nursery, csms, keys=keys, **with_display()) as cp:
        station = await registered(cp)
        assert (await set_message(station, message_id=1)).status == "Accepted"
        assert (await set_message(station, message_id=2)).status == "Accepted"
        full = await set_message(station, message_id=3)
        assert full.status == "Rejected" and full.status_info["reason_code"] == "NoCapacity"
        assert (await set_message(station, message_id=2, content="again")).status == "Accepted"
        assert len(cp.charger.notices) == 2
        answer = await station.call(
            call.SetVariables(
                set_variable_data=[
                    {
                        "component": {"name": "DisplayMessageCtrlr"},
                        "variable": {"name": "Enabled"},
                        "attribute_value": "false",
                    }
                ]
            )
        )
        assert answer.set_variable_result[0]["attribute_status"] == "Accepted"
        assert (await set_message(station, message_id=1)).status == "Rejected"
    async with charger201(nursery, csms) as cp:
        station = await registered(cp, connection=2)
        answer = await set_message(station)
        assert answer.status == "Rejected" and answer.status_info["reason_code"] == "NoDisplay"
    assert csms.violations == []


async def test_tc_o_06_10_cs_a_transaction_message_ends_with_its_transaction(
    nursery, start_csms201, autojump_clock
) -> None:
    """TC_O_10_CS: a transactionId that runs nowhere is UnknownTransaction; TC_O_06_CS: one
    that runs is Accepted, shown during it, and removed when it ends (the schema: SHALL be
    removed after the transaction ended)."""
    csms = await start_csms201()
    async with charger201(nursery, csms, keys=OFFLINE_START, **with_display()) as cp:
        station = await registered(cp)
        tx = await charging(cp)
        unknown = await set_message(station, transaction_id="no-such-transaction")
        assert unknown.status == "UnknownTransaction"
        answer = await set_message(
            station,
            content="Thanks for charging",
            priority="InFront",
            transaction_id=str(tx.transaction_id),
        )
        assert answer.status == "Accepted"
        await trio.sleep(1)
        assert "Thanks for charging" in await screen(cp)
        await cp.sim("unplug", 1)
        await trio.sleep(5)
        assert cp.charger.notices.all() == []
        assert "Thanks for charging" not in await screen(cp)
    assert csms.violations == []


async def test_tc_o_13_14_cs_shown_from_its_start_and_removed_after_its_end(
    nursery, start_csms201, autojump_clock
) -> None:
    """TC_O_13_CS: not shown before startDateTime, shown from it; TC_O_14_CS: removed after
    endDateTime (GetDisplayMessages no longer has it)."""
    csms = await start_csms201()
    async with charger201(nursery, csms, **with_display()) as cp:
        station = await registered(cp)
        answer = await set_message(
            station,
            content="Maintenance tonight",
            priority="AlwaysFront",
            startDateTime=stamp(120),
            endDateTime=stamp(600),
        )
        assert answer.status == "Accepted"
        await trio.sleep(1)
        assert "Maintenance tonight" not in await screen(cp)
        await trio.sleep(180)
        assert "Maintenance tonight" in await screen(cp)
        await trio.sleep(600)
        assert "Maintenance tonight" not in await screen(cp)
        assert cp.charger.notices.all() == []
        answer = await station.call(call.GetDisplayMessages(request_id=1))
        assert answer.status == "Unknown"
        past = await set_message(station, endDateTime=stamp(-60))
        assert past.status == "Rejected"
    assert csms.violations == []


async def test_tc_o_20_cs_messages_survive_a_restart(
    nursery, start_csms201, autojump_clock, tmp_path: Path
) -> None:
    """TC_O_20_CS: persistent over reboot: the messages come back from the journal, with
    every field as set, and are shown again."""
    csms = await start_csms201()
    options: dict[str, Any] = {"state_dir": tmp_path, **with_display()}
    async with charger201(nursery, csms, **options) as cp:
        station = await registered(cp)
        await set_message(station, message_id=4, content="Welcome back", state="Idle")
        await set_message(station, message_id=9, priority="InFront", endDateTime=stamp(86400))
    async with charger201(nursery, csms, **options) as cp:
        station = await registered(cp, connection=2)
        assert [n.notice_id for n in cp.charger.notices.all()] == [4, 9]
        answer = await station.call(call.GetDisplayMessages(request_id=3, id=[4]))
        assert answer.status == "Accepted"
        assert await reported(station, 3) == [
            message(message_id=4, content="Welcome back", state="Idle")
        ]
    assert csms.violations == []
