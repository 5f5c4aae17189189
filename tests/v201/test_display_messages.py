"""Display messages (block O, O01-O06) against the independent 2.0.1 CSMS: set, get, clear,
replace, the refusals, transaction messages, time windows, the bound, restart.

The charger has the sim display (``[display]``): without a local display it refuses every
message (``NoDisplay``).
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import trio
from ocpp.v201 import call

from ocppd.ctl import format_messages
from tests.harness import ControlRefused, csms_now
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


async def shown_over(cp: Any, seconds: float, step: float = 1.0) -> list[str]:
    """What the screen said at each ``step`` for ``seconds``."""
    seen = []
    for _ in range(int(seconds / step)):
        seen.append(await screen(cp))
        await trio.sleep(step)
    return seen


async def test_tc_o_22_24_cs_priorities_on_the_screen(
    nursery, start_csms201, autojump_clock
) -> None:
    """NormalCycle takes turns with the charger's page; InFront ones take turns before it
    (TC_O_22_CS: multiple InFront); the newest AlwaysFront replaces everything, a refused
    card's page included (TC_O_24_CS: a second AlwaysFront replaces the first)."""
    csms = await start_csms201(tags={"BADCAFE1": "Invalid"})
    async with charger201(nursery, csms, **with_display()) as cp:
        station = await registered(cp)
        await set_message(station, message_id=1, content="Cycle one")
        seen = await shown_over(cp, 12)
        assert any("Cycle one" in s for s in seen) and any("Ready" in s for s in seen)
        await set_message(station, message_id=2, content="Ahead two", priority="InFront")
        await set_message(station, message_id=3, content="Ahead three", priority="InFront")
        seen = await shown_over(cp, 12)
        assert any("Ahead two" in s for s in seen) and any("Ahead three" in s for s in seen)
        assert not any("Ready" in s or "Cycle one" in s for s in seen)
        await set_message(station, message_id=4, content="Front four", priority="AlwaysFront")
        await set_message(station, message_id=5, content="Front five", priority="AlwaysFront")
        seen = await shown_over(cp, 12)
        assert all("Front five" in s for s in seen)
        with pytest.raises(ControlRefused):
            await cp.swipe("BADCAFE1")
        await trio.sleep(0.5)
        assert cp.connector(1).refusal_shown is not None
        assert "Front five" in await screen(cp)
        await station.call(call.ClearDisplayMessage(id=5))
        await trio.sleep(0.5)
        assert "Front four" in await screen(cp)  # the first one was kept
        listed = await cp.control({"cmd": "messages"})
        assert [m["id"] for m in listed["messages"]] == [1, 2, 3, 4]
        assert listed["capacity"] == 32
        text = format_messages(listed)
        assert text.startswith("4 display message(s) of at most 32")
        assert "#4 AlwaysFront UTF8" in text and "    Front four" in text
        listed = await cp.control({"cmd": "messages", "clear": 4})  # the installer's escape
        assert [m["id"] for m in listed["messages"]] == [1, 2, 3]
        with pytest.raises(ControlRefused, match="no display message 4"):
            await cp.control({"cmd": "messages", "clear": 4})
        answer = await station.call(call.GetDisplayMessages(request_id=9, id=[4]))
        assert answer.status == "Unknown"
    assert csms.violations == []


async def test_tc_o_36_38_cs_a_message_of_a_state_shows_in_that_state(
    nursery, start_csms201, autojump_clock
) -> None:
    """TC_O_36_CS: state Charging shows while charging only; TC_O_38_CS: state Unavailable
    while the EVSE is out of service (ChangeAvailability) only."""
    csms = await start_csms201()
    async with charger201(nursery, csms, keys=OFFLINE_START, **with_display()) as cp:
        station = await registered(cp)
        await set_message(
            station, message_id=1, content="Enjoy", priority="InFront", state="Charging"
        )
        await set_message(
            station, message_id=2, content="Closed", priority="InFront", state="Unavailable"
        )
        await trio.sleep(1)
        text = await screen(cp)
        assert "Enjoy" not in text and "Closed" not in text and "Ready" in text
        await charging(cp)
        await trio.sleep(1)
        assert "Enjoy" in await screen(cp)
        await cp.sim("unplug", 1)
        await trio.sleep(2)
        assert "Enjoy" not in await screen(cp)
        answer = await station.call(
            call.ChangeAvailability(operational_status="Inoperative", evse={"id": 1})
        )
        assert answer.status == "Accepted"
        await trio.sleep(1)
        assert "Closed" in await screen(cp)
    assert csms.violations == []


async def test_any_text_is_shown_and_never_stops_the_display(
    nursery, start_csms201, autojump_clock
) -> None:
    """UTF-8 beyond the panel's font (the euro sign, CJK, control characters) is drawn as
    "?" and the display keeps working (no display fault); the text model keeps the text."""
    csms = await start_csms201()
    async with charger201(nursery, csms, **with_display()) as cp:
        station = await registered(cp)
        text = "Laden 0,39 €/kWh 充电\n\tüber Nacht"
        answer = await set_message(station, content=text, priority="AlwaysFront")
        assert answer.status == "Accepted"
        await trio.sleep(1)
        assert "Laden 0,39 €/kWh 充电 über Nacht" in await screen(cp)
        shot = await cp.control({"cmd": "screen", "png": True})
        assert shot["png"]
        assert cp.charger.faults == {}
    assert csms.violations == []


async def test_a_hostile_central_system_cannot_grow_the_journal_or_break_the_handler(
    nursery, start_csms201, autojump_clock
) -> None:
    """Ids beyond an OCPP integer are Rejected (InvalidValue), not a failure; a flood of new
    ids keeps at most DisplayMessageCtrlr.DisplayMessages, in memory and in the journal."""
    csms = await start_csms201()
    async with charger201(nursery, csms, **with_display()) as cp:
        station = await registered(cp)
        for bad in (2**70, -1):
            answer = await set_message(station, message_id=bad)
            assert answer.status == "Rejected"
            assert answer.status_info["reason_code"] == "InvalidValue"
        assert (await station.call(call.ClearDisplayMessage(id=2**70))).status == "Unknown"
        answers = [(await set_message(station, message_id=i)).status for i in range(40)]
        assert answers == ["Accepted"] * 32 + ["Rejected"] * 8
        assert len(cp.charger.notices) == 32
        assert len(await cp.journal.display_messages()) == 32
        assert cp.journal.healthy
    assert csms.violations == []


async def test_tc_o_27_28_cs_a_transaction_message_with_a_start_and_an_end(
    nursery, start_csms201, autojump_clock
) -> None:
    """TC_O_27_CS: a transaction's message with a startDateTime shows from then; TC_O_28_CS:
    one with an endDateTime is removed at its end while the transaction still runs."""
    csms = await start_csms201()
    async with charger201(nursery, csms, keys=OFFLINE_START, **with_display()) as cp:
        station = await registered(cp)
        tx = await charging(cp)
        tx_id = str(tx.transaction_id)
        later = await set_message(
            station,
            message_id=1,
            content="Later",
            priority="InFront",
            transaction_id=tx_id,
            startDateTime=stamp(300),
        )
        ending = await set_message(
            station,
            message_id=2,
            content="Ending",
            priority="AlwaysFront",
            transaction_id=tx_id,
            endDateTime=stamp(120),
        )
        assert (later.status, ending.status) == ("Accepted", "Accepted")
        await trio.sleep(1)
        assert "Ending" in await screen(cp)
        await trio.sleep(180)
        assert [n.notice_id for n in cp.charger.notices.all()] == [1]
        assert "Later" not in await screen(cp)
        await trio.sleep(180)
        assert "Later" in await screen(cp)
        assert cp.connector(1).tx is tx
    assert csms.violations == []


async def test_a_transaction_message_does_not_outlive_a_restart_of_its_transaction(
    nursery, start_csms201, autojump_clock, tmp_path: Path
) -> None:
    """A transaction ends with the daemon (Reboot, or PowerLoss at the next start): its
    message is removed at start, the others come back."""
    csms = await start_csms201()
    options: dict[str, Any] = {"state_dir": tmp_path, "keys": OFFLINE_START, **with_display()}
    async with charger201(nursery, csms, **options) as cp:
        station = await registered(cp)
        tx = await charging(cp)
        await set_message(station, message_id=1, transaction_id=str(tx.transaction_id))
        await set_message(station, message_id=2)
        assert len(await cp.journal.display_messages()) == 2
    async with charger201(nursery, csms, **options) as cp:
        await registered(cp, connection=2)
        await trio.sleep(1)
        assert [n.notice_id for n in cp.charger.notices.all()] == [2]
        assert [row[0] for row in await cp.journal.display_messages()] == [2]
    assert csms.violations == []
