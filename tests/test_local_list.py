"""The local authorization list (1.6 §3.5.2-3.5.3, §5.10, §5.15, §9.3) against the independent
central system: SendLocalList and GetLocalListVersion accepted and refused, the list before
the cache online and offline, LocalListConflict, ``ocppctl tag``, and the OCTT cases TC_008,
TC_042_1/2, TC_043, TC_043_1/2/3 replayed from their texts (OCPP 1.6 CTT Test Case Document,
Trial 2025-06, as quoted on ocpplab.com; index in docs/octt.md)."""

from __future__ import annotations

from typing import Any

import pytest
import trio

from ocppd.ctl import format_status, format_tag
from tests.harness import ControlRefused, charger
from tests.netutil import Proxy
from tests.test_offline import Disk

LISTED = "FLEET001"
BLOCKED = "FLEET666"


def entry(id_tag: str, status: str | None = "Accepted", **info: Any) -> dict[str, Any]:
    if status is None:
        return {"idTag": id_tag}
    return {"idTag": id_tag, "idTagInfo": {"status": status, **info}}


async def send_list(
    station: Any, version: int, update: str, entries: list[dict[str, Any]] | None
) -> str:
    payload: dict[str, Any] = {"listVersion": version, "updateType": update}
    if entries is not None:
        payload["localAuthorizationList"] = entries
    answer = await station.call_raw("SendLocalList", payload, timeout=60)
    return str(answer.status)


async def list_version(station: Any) -> int:
    answer = await station.call_raw("GetLocalListVersion", {})
    return int(answer.list_version)


async def lookup(cp: Any, id_tag: str) -> dict[str, Any]:
    result: dict[str, Any] = await cp.control({"cmd": "tag", "id_tag": id_tag})
    return result


# --- GetLocalListVersion ---------------------------------------------------------------------


async def test_an_empty_list_has_version_zero(nursery, start_csms, autojump_clock):
    csms = await start_csms()
    async with charger(nursery, csms) as cp:
        station = await cp.registered()
        assert await list_version(station) == 0
        profiles = await station.call_raw("GetConfiguration", {"key": ["SupportedFeatureProfiles"]})
        assert "LocalAuthListManagement" in profiles.configuration_key[0]["value"].split(",")


async def test_a_disabled_list_answers_minus_one_and_refuses_updates(
    nursery, start_csms, autojump_clock
):
    """LocalAuthListEnabled false is a charger without a list in use: GetLocalListVersion -1
    (TC_042_1_CS allows -1 or a CallError NotSupported), SendLocalList NotSupported (TC_043_1_CS,
    written for a charger without the profile, allows the status or a CallError NotSupported)."""
    csms = await start_csms()
    async with charger(nursery, csms) as cp:
        station = await cp.registered()
        assert await send_list(station, 4, "Full", [entry(LISTED)]) == "Accepted"
        changed = await station.call_raw(
            "ChangeConfiguration", {"key": "LocalAuthListEnabled", "value": "false"}
        )
        assert changed.status == "Accepted"
        assert await list_version(station) == -1
        assert await send_list(station, 5, "Full", [entry("OTHER001")]) == "NotSupported"
        assert await send_list(station, 5, "Differential", [entry("OTHER001")]) == "NotSupported"
        assert (await lookup(cp, LISTED))["source"] == "unknown"  # not in use, not asked
        await station.call_raw(
            "ChangeConfiguration", {"key": "LocalAuthListEnabled", "value": "true"}
        )
        assert await list_version(station) == 4  # nothing was changed meanwhile
        assert (await lookup(cp, "OTHER001"))["source"] == "unknown"


# --- SendLocalList ---------------------------------------------------------------------------


async def test_full_then_differential_updates(nursery, start_csms, autojump_clock):
    csms = await start_csms()
    async with charger(nursery, csms) as cp:
        station = await cp.registered()
        full = [entry(LISTED), entry(BLOCKED, "Blocked"), entry("gone0001")]
        assert await send_list(station, 1, "Full", full) == "Accepted"
        assert await list_version(station) == 1
        update = [entry("GONE0001", None), entry("NEW00001"), entry(LISTED, "Expired")]
        assert await send_list(station, 2, "Differential", update) == "Accepted"
        assert await list_version(station) == 2
        assert await lookup(cp, "gone0001") == {"source": "unknown", "status": None, "expiry": None}
        assert (await lookup(cp, "new00001"))["status"] == "Accepted"
        assert (await lookup(cp, LISTED))["status"] == "Expired"
        assert (await lookup(cp, BLOCKED))["status"] == "Blocked"
        status = await cp.status()
        assert status["local_list"] == {"enabled": True, "version": 2, "entries": 3}
        assert "local list    version 2, 3 tag(s)" in format_status(status)
        # a Full update replaces everything; an empty one empties the list: version 0
        assert await send_list(station, 7, "Full", [entry("ONLY0001")]) == "Accepted"
        assert (await lookup(cp, "NEW00001"))["source"] == "unknown"
        assert await send_list(station, 8, "Full", None) == "Accepted"
        assert await list_version(station) == 0
        assert (await cp.status())["local_list"]["entries"] == 0


async def test_a_differential_update_that_is_not_newer_is_a_version_mismatch(
    nursery, start_csms, autojump_clock
):
    csms = await start_csms()
    async with charger(nursery, csms) as cp:
        station = await cp.registered()
        assert await send_list(station, 5, "Full", [entry(LISTED)]) == "Accepted"
        for version in (5, 4, 1):
            answer = await send_list(station, version, "Differential", [entry(LISTED, None)])
            assert answer == "VersionMismatch"
        assert await list_version(station) == 5
        assert (await lookup(cp, LISTED))["source"] == "local-list"
        # a Full update may go back to a lower version
        assert await send_list(station, 3, "Full", [entry(LISTED)]) == "Accepted"
        assert await list_version(station) == 3


async def test_updates_that_cannot_be_stored_fail_and_change_nothing(
    nursery, start_csms, autojump_clock
):
    csms = await start_csms()
    async with charger(
        nursery, csms, keys={"SendLocalListMaxLength": 3, "LocalAuthListMaxLength": 4}
    ) as cp:
        station = await cp.registered()
        assert await send_list(station, 1, "Full", [entry("A1"), entry("A2")]) == "Accepted"
        refused: list[tuple[int, str, list[dict[str, Any]]]] = [
            # more than SendLocalListMaxLength in one request
            (2, "Full", [entry(f"B{i}") for i in range(4)]),
            # the list would hold more than LocalAuthListMaxLength
            (2, "Differential", [entry("C1"), entry("C2"), entry("C3")]),
            # one tag twice (in any case)
            (2, "Differential", [entry("D1"), entry("d1", None)]),
            # a Full entry without idTagInfo
            (2, "Full", [entry("E1"), entry("E2", None)]),
            # version 0 (errata 3.52: 0 means an empty list)
            (0, "Full", [entry("F1")]),
        ]
        for version, update, entries in refused:
            assert await send_list(station, version, update, entries) == "Failed", entries
        assert await list_version(station) == 1
        for tag in ("A1", "A2"):
            assert (await lookup(cp, tag))["source"] == "local-list"
        for tag in ("B0", "C1", "D1", "E1", "F1"):
            assert (await lookup(cp, tag))["source"] == "unknown"
        # within the limits the same kind of update is accepted
        grow = [entry("C1"), entry("C2"), entry("A1", None)]
        assert await send_list(station, 2, "Differential", grow) == "Accepted"
        assert (await cp.status())["local_list"] == {"enabled": True, "version": 2, "entries": 3}
        readonly = await station.call_raw(
            "ChangeConfiguration", {"key": "LocalAuthListMaxLength", "value": "100"}
        )
        assert readonly.status == "Rejected"


# --- authorization with the list -----------------------------------------------------------------


async def test_a_listed_tag_starts_at_once_online_with_local_pre_authorize(
    nursery, start_csms, autojump_clock
):
    """1.6 §3.5.2 with LocalPreAuthorize true: no Authorize.req for a valid listed tag (the
    rule TC_008_CS relies on; that case is replayed below)."""
    csms = await start_csms()
    async with charger(nursery, csms, keys={"LocalPreAuthorize": True}) as cp:
        station = await cp.registered()
        assert await send_list(station, 1, "Full", [entry(LISTED)]) == "Accepted"
        await cp.sim("plug", 1)
        assert "charging on connector 1" in await cp.swipe(LISTED.lower())
        start = await station.wait_for("StartTransaction")
        assert start.payload["idTag"] == LISTED  # tags are sent upper-cased
        assert not station.calls("Authorize")
        assert cp.world(1).contactor_closed
        await cp.swipe(LISTED)
        await station.wait_for("StopTransaction")
        # the central system's answers about it never go into the cache
        assert await cp.journal.cache_lookup(LISTED) is None


async def test_without_local_pre_authorize_a_listed_tag_is_asked_and_not_cached(
    nursery, start_csms, autojump_clock
):
    """LocalPreAuthorize false: Authorize.req first; the answer is not cached either."""
    csms = await start_csms()
    async with charger(nursery, csms) as cp:
        station = await cp.registered()
        assert await send_list(station, 1, "Full", [entry(LISTED)]) == "Accepted"
        await cp.sim("plug", 1)
        await cp.swipe(LISTED)
        await station.wait_for("StartTransaction")
        assert [c.payload["idTag"] for c in station.calls("Authorize")] == [LISTED]
        assert await cp.journal.cache_lookup(LISTED) is None
        # a tag not in the list is cached as before
        await cp.swipe(LISTED)
        await station.wait_for("StopTransaction")
        await cp.sim("unplug", 1)
        await cp.sim("plug", 1)
        await cp.swipe("OTHER001")
        await station.wait_for("StartTransaction", count=2)
        assert (await lookup(cp, "OTHER001"))["source"] == "cache"


async def test_offline_the_list_decides_and_wins_over_the_cache(
    nursery, start_csms, autojump_clock
):
    """1.6 §3.5.4: offline, a listed valid tag starts; a tag the list blocks is refused even
    with AllowOfflineTxForUnknownId and a valid cache entry."""
    csms = await start_csms()
    proxy = await nursery.start(Proxy(csms.port).serve)
    async with charger(
        nursery, csms, url=proxy.url, keys={"AllowOfflineTxForUnknownId": True}
    ) as cp:
        station = await cp.registered()
        # BLOCKED gets into the cache as Accepted first, then the list blocks it
        await cp.sim("plug", 1)
        await cp.swipe(BLOCKED)
        await station.wait_for("StartTransaction")
        await cp.swipe(BLOCKED)
        await station.wait_for("StopTransaction")
        await cp.sim("unplug", 1)
        assert (await lookup(cp, BLOCKED))["source"] == "cache"
        update = [
            entry(LISTED),
            entry(BLOCKED, "Blocked"),
            entry("OLD00001", "Accepted", expiryDate="2026-11-21T09:00:00Z"),
        ]
        assert await send_list(station, 1, "Full", update) == "Accepted"
        assert await lookup(cp, BLOCKED) == {
            "source": "local-list",
            "status": "Blocked",
            "expiry": None,
        }
        proxy.refuse = True
        proxy.cut()
        await trio.sleep(5)
        assert cp.parts.connection.state != "connected"
        await cp.sim("plug", 1)
        with pytest.raises(ControlRefused, match="in the local list as Blocked"):
            await cp.swipe(BLOCKED)
        with pytest.raises(ControlRefused, match="in the local list as Expired"):
            await cp.swipe("OLD00001")  # Accepted in the list, but its expiryDate passed
        assert "charging on connector 1" in await cp.swipe(LISTED)
        assert cp.world(1).contactor_closed
        await cp.swipe(LISTED)
        proxy.refuse = False
        second = await cp.station(connection=2)
        await second.wait_for("StopTransaction")
        assert not second.calls("Authorize")


async def test_offline_a_listed_tag_needs_local_authorize_offline(
    nursery, start_csms, autojump_clock
):
    csms = await start_csms()
    proxy = await nursery.start(Proxy(csms.port).serve)
    async with charger(nursery, csms, url=proxy.url, keys={"LocalAuthorizeOffline": False}) as cp:
        station = await cp.registered()
        assert await send_list(station, 1, "Full", [entry(LISTED)]) == "Accepted"
        proxy.refuse = True
        proxy.cut()
        await trio.sleep(5)
        await cp.sim("plug", 1)
        with pytest.raises(ControlRefused, match="LocalAuthorizeOffline is off"):
            await cp.swipe(LISTED)


# --- LocalListConflict ---------------------------------------------------------------------------


async def test_a_start_the_central_system_contradicts_raises_local_list_conflict(
    nursery, start_csms, autojump_clock
):
    """1.6 §3.5.3: the list says Accepted, StartTransaction.conf says Blocked: connector 0
    reports LocalListConflict until the list is updated."""
    csms = await start_csms(tags={LISTED: "Blocked"})
    async with charger(nursery, csms, keys={"LocalPreAuthorize": True}) as cp:
        station = await cp.registered()
        assert await send_list(station, 1, "Full", [entry(LISTED)]) == "Accepted"
        await cp.sim("plug", 1)
        await cp.swipe(LISTED)
        conflict = await station.wait_for(
            "StatusNotification",
            lambda p: p["connectorId"] == 0 and p["errorCode"] == "LocalListConflict",
        )
        assert conflict.payload["status"] == "Available"
        assert conflict.payload["info"] == "local list Accepted, CSMS Blocked"  # no tag
        point = (await cp.status())["charge_point"]
        assert point["error_code"] == "LocalListConflict"
        stop = await station.wait_for("StopTransaction")  # the 1.6 rules on an invalid tag
        assert stop.payload["reason"] == "DeAuthorized"
        assert await send_list(station, 2, "Differential", [entry(LISTED, "Blocked")]) == (
            "Accepted"
        )
        await station.wait_for(
            "StatusNotification",
            lambda p: p["connectorId"] == 0 and p["errorCode"] == "NoError",
        )
        assert (await cp.status())["charge_point"]["error_code"] == "NoError"


async def test_an_authorize_answer_that_contradicts_the_list_is_a_conflict_too(
    nursery, start_csms, autojump_clock
):
    csms = await start_csms(tags={BLOCKED: "Accepted"})
    async with charger(nursery, csms) as cp:
        station = await cp.registered()
        assert await send_list(station, 1, "Full", [entry(BLOCKED, "Blocked")]) == "Accepted"
        await cp.sim("plug", 1)
        await cp.swipe(BLOCKED)  # online, no LocalPreAuthorize: the central system decides
        await station.wait_for(
            "StatusNotification",
            lambda p: p["connectorId"] == 0 and p["errorCode"] == "LocalListConflict",
        )
        await station.wait_for("StartTransaction")


async def test_agreeing_answers_raise_no_conflict(nursery, start_csms, autojump_clock):
    csms = await start_csms()
    async with charger(nursery, csms, keys={"LocalPreAuthorize": True}) as cp:
        station = await cp.registered()
        assert await send_list(station, 1, "Full", [entry(LISTED)]) == "Accepted"
        await cp.sim("plug", 1)
        await cp.swipe(LISTED)
        await station.wait_for("StartTransaction")
        await cp.settle(10)
        codes = [c.payload["errorCode"] for c in station.calls("StatusNotification")]
        assert "LocalListConflict" not in codes


# --- ocppctl tag ---------------------------------------------------------------------------------


async def test_ocppctl_tag_says_list_cache_or_unknown(nursery, start_csms, autojump_clock):
    csms = await start_csms(tags={"CACHED01": "Blocked"})
    async with charger(nursery, csms) as cp:
        station = await cp.registered()
        update = [
            entry(LISTED, "Accepted", expiryDate="2027-01-01T00:00:00Z", parentIdTag="SECRETPARENT")
        ]
        assert await send_list(station, 1, "Full", update) == "Accepted"
        await cp.sim("plug", 1)
        with pytest.raises(ControlRefused):
            await cp.swipe("CACHED01")
        listed = await lookup(cp, LISTED.lower())
        assert listed == {
            "source": "local-list",
            "status": "Accepted",
            "expiry": "2027-01-01T00:00:00Z",
        }
        assert "SECRETPARENT" not in str(listed)  # the parent tag is not shown
        assert format_tag(listed) == "local list: Accepted until 2027-01-01T00:00:00Z"
        cached = await lookup(cp, "CACHED01")
        assert format_tag(cached) == "authorization cache: Blocked"
        unknown = await lookup(cp, "NOBODY01")
        assert format_tag(unknown).startswith("unknown")
        assert not [c for c in station.calls("Authorize") if c.payload["idTag"] == "NOBODY01"]
        with pytest.raises(ControlRefused, match="at most 20"):
            await lookup(cp, "X" * 21)


# --- thousands of entries ----------------------------------------------------------------------

FLEET = 10_000


def fleet_tag(i: int) -> str:
    return f"FLT{i:05d}"


async def test_ten_thousand_tags_then_differential_updates_online_and_offline(
    nursery, start_csms, autojump_clock
):
    """A 10,000-entry Full list in one SendLocalList, differential updates on top, lookups by
    key online (LocalPreAuthorize: no Authorize.req) and offline."""
    csms = await start_csms()
    proxy = await nursery.start(Proxy(csms.port).serve)
    async with charger(
        nursery, csms, url=proxy.url, keys={"LocalPreAuthorize": True}, connectors=2
    ) as cp:
        station = await cp.registered()
        full = [
            entry(fleet_tag(i), expiryDate="2027-06-30T00:00:00Z") if i % 2 else entry(fleet_tag(i))
            for i in range(FLEET)
        ]
        assert await send_list(station, 100, "Full", full) == "Accepted"
        assert (await cp.status())["local_list"] == {
            "enabled": True,
            "version": 100,
            "entries": FLEET,
        }
        # three differential updates: delete 100, block 100, add 100
        deleted = [entry(fleet_tag(i), None) for i in range(0, 100)]
        blocked = [entry(fleet_tag(i), "Blocked") for i in range(100, 200)]
        added = [entry(fleet_tag(i)) for i in range(FLEET, FLEET + 100)]
        for version, update in ((101, deleted), (102, blocked), (103, added)):
            assert await send_list(station, version, "Differential", update) == "Accepted"
        assert await list_version(station) == 103
        assert (await cp.status())["local_list"]["entries"] == FLEET
        assert (await lookup(cp, fleet_tag(5)))["source"] == "unknown"
        assert (await lookup(cp, fleet_tag(150)))["status"] == "Blocked"
        assert (await lookup(cp, fleet_tag(FLEET + 50)))["status"] == "Accepted"
        assert (await lookup(cp, fleet_tag(9_999)))["expiry"] == "2027-06-30T00:00:00Z"

        # online: a valid listed tag starts at once, without Authorize.req
        await cp.sim("plug", 1)
        assert "charging on connector 1" in await cp.swipe(fleet_tag(7_777))
        start = await station.wait_for("StartTransaction")
        assert start.payload["idTag"] == fleet_tag(7_777)
        assert not station.calls("Authorize")
        await cp.swipe(fleet_tag(7_777))
        await station.wait_for("StopTransaction")
        await cp.sim("unplug", 1)

        # offline: the list alone decides
        proxy.refuse = True
        proxy.cut()
        await trio.sleep(5)
        assert cp.parts.connection.state != "connected"
        await cp.sim("plug", 1)
        await cp.sim("plug", 2)
        with pytest.raises(ControlRefused, match="in the local list as Blocked"):
            await cp.swipe(fleet_tag(199))
        with pytest.raises(ControlRefused, match="unknown"):
            await cp.swipe(fleet_tag(42))  # deleted by the first differential update
        assert "charging on connector" in await cp.swipe(fleet_tag(FLEET + 99))
        assert "charging on connector" in await cp.swipe(fleet_tag(3_333))
        assert cp.world(1).contactor_closed and cp.world(2).contactor_closed


# --- the OCTT cases, replayed step by step (OCPP 1.6 CTT, Trial 2025-06) ----------------------


async def test_tc_008_regular_start_with_an_id_in_the_local_list(
    nursery, start_csms, autojump_clock
):
    """TC_008_CS: LocalPreAuthorize true, AuthorizationCacheEnabled false, list enabled:
    tag first (Preparing), plug in, StartTransaction and Charging, no Authorize.req."""
    csms = await start_csms()
    keys = {"LocalPreAuthorize": True, "AuthorizationCacheEnabled": False}
    async with charger(nursery, csms, keys=keys) as cp:
        station = await cp.registered()
        version = await list_version(station)  # steps 1-2
        assert version >= 0
        assert await send_list(station, version + 1, "Full", [entry(LISTED)]) == "Accepted"
        await cp.swipe(LISTED)
        await station.wait_for(
            "StatusNotification", lambda p: p["connectorId"] == 1 and p["status"] == "Preparing"
        )
        await cp.sim("plug", 1)
        start = await station.wait_for("StartTransaction")
        assert start.payload["idTag"] == LISTED
        await station.wait_for(
            "StatusNotification", lambda p: p["connectorId"] == 1 and p["status"] == "Charging"
        )
        assert not station.calls("Authorize")
        assert not csms.violations


async def test_tc_042_1_get_local_list_version_not_supported(nursery, start_csms, autojump_clock):
    """TC_042_1_CS: LocalAuthListEnabled false: GetLocalListVersion answers -1."""
    csms = await start_csms()
    async with charger(nursery, csms, keys={"LocalAuthListEnabled": False}) as cp:
        station = await cp.registered()
        assert await list_version(station) == -1  # steps 1-2


async def test_tc_043_1_send_local_list_not_supported(nursery, start_csms, autojump_clock):
    """TC_043_1_CS is for a charger without Local Auth List Management; ocppd has it, so the
    nearest replay is the list switched off (LocalAuthListEnabled false): SendLocalList Full
    answers NotSupported and no tag of it is authorized from a list."""
    csms = await start_csms()
    async with charger(nursery, csms, keys={"LocalAuthListEnabled": False}) as cp:
        station = await cp.registered()
        assert await send_list(station, 1, "Full", [entry(LISTED)]) == "NotSupported"
        assert (await lookup(cp, LISTED))["source"] == "unknown"


async def test_tc_042_2_get_local_list_version_of_an_empty_list(
    nursery, start_csms, autojump_clock
):
    """TC_042_2_CS: LocalAuthListEnabled true; SendLocalList Full, listVersion 1, the list
    omitted: Accepted; GetLocalListVersion: 0 (an empty list has version 0, 1.6 §5.10)."""
    csms = await start_csms()
    async with charger(nursery, csms, keys={"LocalAuthListEnabled": True}) as cp:
        station = await cp.registered()
        assert await send_list(station, 3, "Full", [entry(LISTED)]) == "Accepted"  # not empty
        assert await send_list(station, 1, "Full", None) == "Accepted"  # steps 1-2
        assert await list_version(station) == 0  # steps 3-4
        assert (await lookup(cp, LISTED))["source"] == "unknown"


async def test_tc_043_full_then_differential_authorizes_listed_drivers(
    nursery, start_csms, autojump_clock
):
    """TC_043_CS: SendLocalList Full, then Differential, both Accepted; the listed drivers are
    authorized from the list (here offline, where nothing else could authorize them)."""
    csms = await start_csms()
    proxy = await nursery.start(Proxy(csms.port).serve)
    async with charger(nursery, csms, url=proxy.url) as cp:
        station = await cp.registered()
        assert await send_list(station, 1, "Full", [entry(LISTED)]) == "Accepted"
        assert await send_list(station, 2, "Differential", [entry("DIFF0001")]) == "Accepted"
        proxy.refuse = True
        proxy.cut()
        await trio.sleep(5)
        await cp.sim("plug", 1)
        assert "charging" in await cp.swipe("DIFF0001")  # on the list: authorized offline


async def test_tc_043_2_version_mismatch(nursery, start_csms, autojump_clock):
    """TC_043_2_CS: Full v2 Accepted, version 2; Differential v5 Accepted, version 5; a
    Differential not newer: VersionMismatch, and the version stays 5."""
    csms = await start_csms()
    async with charger(nursery, csms) as cp:
        station = await cp.registered()
        assert await send_list(station, 2, "Full", [entry(LISTED)]) == "Accepted"
        assert await list_version(station) == 2
        assert await send_list(station, 5, "Differential", [entry("DIFF0001")]) == "Accepted"
        assert await list_version(station) == 5
        answer = await send_list(station, 3, "Differential", [entry("DIFF0002")])
        assert answer == "VersionMismatch"
        assert await list_version(station) == 5
        assert (await lookup(cp, "DIFF0002"))["source"] == "unknown"


async def test_tc_043_3_a_list_that_cannot_be_stored_fails(nursery, start_csms, autojump_clock):
    """TC_043_3_CS: the charger "is in a state in which it will fail to set a Local List": its
    journal cannot be written. Full, listVersion 2: Failed, and the old list stays whole."""
    csms = await start_csms()
    disk = type("DiskOf", (Disk,), {"full": False})
    options = {"connection_factory": disk.factory()}
    async with charger(nursery, csms, journal_options=options) as cp:
        station = await cp.registered()
        assert await send_list(station, 1, "Full", [entry(LISTED)]) == "Accepted"
        disk.full = True
        assert await send_list(station, 2, "Full", [entry("NEW00001")]) == "Failed"
        disk.full = False
        assert await list_version(station) == 1
        assert (await lookup(cp, LISTED))["source"] == "local-list"
        assert (await lookup(cp, "NEW00001"))["source"] == "unknown"
        assert await send_list(station, 2, "Full", [entry("NEW00001")]) == "Accepted"
