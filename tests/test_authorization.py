"""Authorization: Authorize online, the cache (persisted), and the offline rules (1.6 §3.5)."""

from __future__ import annotations

import pytest
import trio
from ocpp.v16 import call

from tests.harness import ControlRefused, charger
from tests.netutil import Proxy

TAG = "CAFE0001"


async def test_online_every_tag_is_asked_and_refusals_are_reported(
    nursery, start_csms, autojump_clock
):
    csms = await start_csms(
        tags={"BAD00001": "Blocked", "OLD00001": "Expired", "NOPE0001": "Invalid"}
    )
    async with charger(nursery, csms) as cp:
        station = await cp.registered()
        await cp.sim("plug", 1)
        for tag, status in (
            ("BAD00001", "Blocked"),
            ("OLD00001", "Expired"),
            ("NOPE0001", "Invalid"),
        ):
            with pytest.raises(ControlRefused, match=f"central system says {status}"):
                await cp.swipe(tag)
        assert [c.payload["idTag"] for c in station.calls("Authorize")] == [
            "BAD00001",
            "OLD00001",
            "NOPE0001",
        ]
        assert not station.calls("StartTransaction")


async def test_the_cache_is_kept_across_restarts_and_used_offline(
    nursery, start_csms, autojump_clock, tmp_path
):
    csms = await start_csms()
    proxy = await nursery.start(Proxy(csms.port).serve)
    state = tmp_path / "state"
    state.mkdir()
    async with charger(nursery, csms, url=proxy.url, state_dir=state) as cp:
        station = await cp.registered()
        await cp.sim("plug", 1)
        await cp.swipe(TAG)
        await station.wait_for("StartTransaction")
        await cp.swipe(TAG)
        await station.wait_for("StopTransaction")
    proxy.refuse = True  # the central system is gone when the charger comes back
    async with charger(nursery, csms, url=proxy.url, state_dir=state) as cp:
        await trio.sleep(5)
        assert cp.parts.connection.state != "connected"
        await cp.sim("plug", 1)
        reply = await cp.swipe(TAG.lower())
        assert "charging on connector 1" in reply
        assert cp.world(1).contactor_closed
        await cp.swipe(TAG)
        await cp.sim("unplug", 1)
        await cp.sim("plug", 1)
        with pytest.raises(ControlRefused, match="unknown"):
            await cp.swipe("DEAD0001")  # unknown, AllowOfflineTxForUnknownId is false


async def test_offline_unknown_tags_charge_only_when_allowed(nursery, start_csms, autojump_clock):
    csms = await start_csms()
    proxy = await nursery.start(Proxy(csms.port).serve)
    proxy.refuse = True
    async with charger(
        nursery, csms, url=proxy.url, keys={"AllowOfflineTxForUnknownId": True}
    ) as cp:
        await cp.sim("plug", 1)
        await cp.swipe("NEW00001")
        assert cp.connector(1).tx is not None
        proxy.refuse = False
        station = await cp.station()
        start = await station.wait_for("StartTransaction")
        assert start.payload["idTag"] == "NEW00001"


async def test_offline_a_blocked_or_expired_tag_never_charges_even_when_unknown_ids_may(
    nursery, start_csms, autojump_clock, tmp_path
):
    csms = await start_csms(tags={"BAD00001": "Blocked"})
    proxy = await nursery.start(Proxy(csms.port).serve)
    state = tmp_path / "state"
    state.mkdir()

    def info(tag: str) -> dict:
        if tag == "OLD00001":  # valid for half an hour more
            return {"status": "Accepted", "expiryDate": "2026-11-21T10:30:00Z"}
        return csms.id_tag_info(tag)

    csms.overrides["Authorize"] = lambda st, p: {"idTagInfo": info(p["idTag"])}
    csms.overrides["StartTransaction"] = lambda st, p: {
        "transactionId": 1,
        "idTagInfo": info(p["idTag"]),
    }
    csms.overrides["StopTransaction"] = lambda st, p: {"idTagInfo": info(p["idTag"])}
    keys = {"AllowOfflineTxForUnknownId": True}
    async with charger(nursery, csms, url=proxy.url, state_dir=state, keys=keys) as cp:
        await cp.registered()
        await cp.sim("plug", 1)
        with pytest.raises(ControlRefused):
            await cp.swipe("BAD00001")
        await cp.swipe("OLD00001")  # accepted now; it expires in half an hour
        await cp.swipe("OLD00001")
        await cp.sim("unplug", 1)
        await cp.sim("plug", 1)
        proxy.refuse = True
        proxy.cut()
        await trio.sleep(3600)
        with pytest.raises(ControlRefused, match="cached as Blocked"):
            await cp.swipe("BAD00001")
        with pytest.raises(ControlRefused, match="cached as Expired"):
            await cp.swipe("OLD00001")


async def test_local_pre_authorize_starts_without_waiting_for_the_central_system(
    nursery, start_csms, autojump_clock
):
    csms = await start_csms()
    async with charger(nursery, csms, keys={"LocalPreAuthorize": True}) as cp:
        station = await cp.registered()
        await cp.sim("plug", 1)
        await cp.swipe(TAG)
        await cp.swipe(TAG)
        await station.wait_for("StopTransaction")
        asked = len(station.calls("Authorize"))
        await cp.sim("unplug", 1)
        await cp.sim("plug", 1)
        await cp.swipe(TAG)
        await station.wait_for("StartTransaction", count=2)
        assert len(station.calls("Authorize")) == asked, "a valid cached tag is not asked again"


async def test_local_authorize_offline_off_refuses_cached_tags_offline(
    nursery, start_csms, autojump_clock
):
    csms = await start_csms()
    proxy = await nursery.start(Proxy(csms.port).serve)
    async with charger(nursery, csms, url=proxy.url, keys={"LocalAuthorizeOffline": False}) as cp:
        station = await cp.registered()
        await cp.sim("plug", 1)
        await cp.swipe(TAG)
        await cp.swipe(TAG)
        await station.wait_for("StopTransaction")
        await cp.sim("unplug", 1)
        await cp.sim("plug", 1)
        proxy.refuse = True
        proxy.cut()
        await trio.sleep(5)
        with pytest.raises(ControlRefused, match="LocalAuthorizeOffline is off"):
            await cp.swipe(TAG)


async def test_clear_cache_forgets_every_tag(nursery, start_csms, autojump_clock):
    csms = await start_csms()
    proxy = await nursery.start(Proxy(csms.port).serve)
    async with charger(nursery, csms, url=proxy.url) as cp:
        station = await cp.registered()
        await cp.sim("plug", 1)
        await cp.swipe(TAG)
        await cp.swipe(TAG)
        await station.wait_for("StopTransaction")
        answer = await station.call(call.ClearCache())
        assert answer.status == "Accepted"
        assert await cp.journal.cache_lookup(TAG) is None
        await cp.sim("unplug", 1)
        await cp.sim("plug", 1)
        proxy.refuse = True
        proxy.cut()
        await trio.sleep(5)
        with pytest.raises(ControlRefused, match="unknown"):
            await cp.swipe(TAG)


async def test_a_disabled_cache_is_not_used(nursery, start_csms, autojump_clock):
    csms = await start_csms()
    async with charger(nursery, csms, keys={"AuthorizationCacheEnabled": False}) as cp:
        station = await cp.registered()
        await cp.sim("plug", 1)
        await cp.swipe(TAG)
        await station.wait_for("StartTransaction")
        assert await cp.journal.cache_lookup(TAG) is None


async def test_a_cache_entry_from_start_transaction_answers(nursery, start_csms, autojump_clock):
    """The cache keeps what StartTransaction.conf says too (1.6 §3.5.1)."""
    csms = await start_csms()
    csms.overrides["StartTransaction"] = lambda st, p: {
        "transactionId": 3,
        "idTagInfo": {"status": "Accepted", "parentIdTag": "GROUP-9"},
    }
    async with charger(nursery, csms) as cp:
        station = await cp.registered()
        await cp.sim("plug", 1)
        await cp.swipe(TAG)
        await station.wait_for("StartTransaction")
        await trio.sleep(1)
        entry = await cp.journal.cache_lookup(TAG)
        assert entry is not None and entry.parent_id_tag == "GROUP-9"
