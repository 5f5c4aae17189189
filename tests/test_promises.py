"""What an Accepted answer promises survives the link (issue 11 item 5, review D2): the work
runs in a nursery the daemon owns, and starts only once the answer is on the wire."""

from __future__ import annotations

from typing import Any

import trio
from ocpp.v16 import call

from ocppd.testing.csms import NoAnswer, Station
from tests.harness import CP_ID, charger

TAG = "0A0B0C0D"


async def arrival(station: Station, action: str, **kwargs: Any) -> Any:
    """The next ``action`` the central system receives (``Station.wait_for``), in bounded time."""
    with trio.fail_after(120):
        return await station.wait_for(action, **kwargs)


def actions(csms: Any) -> list[str]:
    return [c.action for c in csms.all_calls(CP_ID) if c.action != "Heartbeat"]


async def test_a_remote_start_survives_the_link_dropping_during_its_authorize(
    nursery, start_csms, autojump_clock
):
    """AuthorizeRemoteTxRequests: the whole Authorize round trip follows the Accepted answer.
    The link drops meanwhile: the offline rules decide, the transaction starts, and its
    StartTransaction is delivered after reconnecting."""
    first = trio.Event()

    async def drop_the_link(station: Station, payload: dict[str, Any]) -> Any:
        if not first.is_set():
            first.set()
            await station.close()
        return NoAnswer()

    csms = await start_csms(overrides={"Authorize": drop_the_link})
    keys = {"AuthorizeRemoteTxRequests": True, "AllowOfflineTxForUnknownId": True}
    async with charger(nursery, csms, keys=keys) as cp:
        station = await cp.registered()
        await cp.sim("plug", 1)
        answer = await station.call(call.RemoteStartTransaction(id_tag=TAG, connector_id=1))
        assert answer.status == "Accepted"
        again = await cp.station(connection=2)
        with trio.fail_after(120):
            start = await again.wait_for("StartTransaction")
        assert start.payload["idTag"] == TAG
        assert cp.world(1).contactor_closed
        calls = actions(csms)
        assert calls.index("Authorize") < calls.index("StartTransaction")
    assert not csms.violations


async def test_a_remote_start_survives_the_link_dropping_while_the_meter_is_read(
    nursery, start_csms, autojump_clock
):
    """A slow meter (an RS-485 bus at its timeout): the start reads it after the answer."""
    csms = await start_csms()
    async with charger(nursery, csms) as cp:
        station = await cp.registered()
        await cp.sim("plug", 1)
        cp.world(1).meter_delay_s = 5.0
        answer = await station.call(call.RemoteStartTransaction(id_tag=TAG, connector_id=1))
        assert answer.status == "Accepted"
        await trio.sleep(1)
        assert not station.calls("StartTransaction")
        await station.close()
        again = await cp.station(connection=2)
        with trio.fail_after(120):
            start = await again.wait_for("StartTransaction")
        assert start.payload["idTag"] == TAG
        sent = [c for c in csms.all_calls(CP_ID) if c.action == "StartTransaction"]
        assert len(sent) == 1, "delivered once, over the new connection"
    assert not csms.violations


async def test_a_remote_stop_survives_the_link_dropping_while_it_waits_for_the_connector(
    nursery, start_csms, autojump_clock
):
    """The stop waits for the connector while a periodic sample reads a slow meter; the link
    drops meanwhile. The transaction still stops (reason Remote), delivered after reconnecting."""
    csms = await start_csms()
    keys = {"MeterValueSampleInterval": 60}
    async with charger(nursery, csms, keys=keys) as cp:
        station = await cp.registered()
        await cp.sim("plug", 1)
        await cp.swipe(TAG)
        started = await arrival(station, "StartTransaction")
        cp.world(1).meter_delay_s = 10.0  # the sample at +60 s holds the connector until +70 s
        await trio.sleep_until(started.t + 62)
        answer = await station.call(call.RemoteStopTransaction(transaction_id=1))
        assert answer.status == "Accepted"
        await station.close()
        again = await cp.station(connection=2)
        with trio.fail_after(120):
            stop = await again.wait_for("StopTransaction")
        assert stop.payload["reason"] == "Remote" and stop.payload["transactionId"] == 1
        assert not cp.world(1).contactor_closed
    assert not csms.violations
