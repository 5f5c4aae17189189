"""OCPP 2.0.1 local authorization list (D01 SendLocalList, D02 GetLocalListVersion) and the
authorization it drives (C13 offline, C14 online) against the independent 2.0.1 CSMS (every
frame the station sends is schema-checked), and the one list both versions share.

The OCTT's 2.0.1 charging-station cases of block D are not among the stored OCTT texts
(ocpplab.com has their CSMS twins, e.g. TC_D_01_CSMS "Send Local Authorization List -
Full"), so these tests are named by the requirements they check (D01.FR.*, D02.FR.*,
C13/C14); where a test follows the scenario of a known case, its docstring names it.
"""

from __future__ import annotations

from typing import Any

import pytest
import trio
from ocpp.v201 import call

from tests.harness import ControlRefused, charger
from tests.netutil import Proxy
from tests.test_offline import Disk
from tests.v201.harness import charger201, registered

LISTED = "FLEET001"
BLOCKED = "FLEET666"


def entry(token: str, status: str | None = "Accepted", kind: str = "ISO14443", **info: Any):
    data: dict[str, Any] = {"idToken": {"idToken": token, "type": kind}}
    if status is not None:
        data["idTokenInfo"] = {"status": status, **info}
    return data


async def send_list(
    station: Any, version: int, update: str, entries: list[dict[str, Any]] | None = None
) -> Any:
    payload: dict[str, Any] = {"versionNumber": version, "updateType": update}
    if entries is not None:
        payload["localAuthorizationList"] = entries
    return await station.call_raw("SendLocalList", payload, timeout=60)


async def list_version(station: Any) -> int:
    answer = await station.call_raw("GetLocalListVersion", {})
    return int(answer.version_number)


async def variables(station: Any, *names: tuple[str, str]) -> list[Any]:
    data = [{"component": {"name": c}, "variable": {"name": v}} for c, v in names]
    answer = await station.call(call.GetVariables(get_variable_data=data))
    return [r["attribute_value"] for r in answer.get_variable_result]


async def set_variable(station: Any, component: str, variable: str, value: str) -> str:
    answer = await station.call(
        call.SetVariables(
            set_variable_data=[
                {
                    "component": {"name": component},
                    "variable": {"name": variable},
                    "attribute_value": value,
                }
            ]
        )
    )
    return str(answer.set_variable_result[0]["attribute_status"])


async def source(cp: Any, token: str) -> str:
    return str((await cp.control({"cmd": "tag", "id_tag": token}))["source"])


async def test_d01_full_then_differential_updates(nursery, start_csms201, autojump_clock) -> None:
    """D01.FR.01, D02.FR.01 (the scenario of TC_D_01_CSMS, then Differential
    updates as 1.6's TC_043_CS): a Full list
    replaces, a Differential one adds, replaces and (without idTokenInfo) removes; the
    version is the one sent; the entries keep their group and expiry."""
    csms = await start_csms201()
    async with charger201(nursery, csms) as cp:
        station = await registered(cp)
        assert await list_version(station) == 0  # D02.FR.02: no list yet
        full = [
            entry(LISTED, groupIdToken={"idToken": "DEPOT", "type": "Central"}),
            entry(BLOCKED, "Blocked"),
            entry("gone0001", cacheExpiryDateTime="2099-01-01T00:00:00Z"),
        ]
        assert (await send_list(station, 3, "Full", full)).status == "Accepted"
        assert await list_version(station) == 3
        found = await cp.charger.authorizer.lookup(LISTED)
        assert found.source == "local-list" and found.info.parent_id_tag == "DEPOT"
        assert (await cp.charger.authorizer.lookup("GONE0001")).info.expiry.year == 2099
        update = [entry("GONE0001", None), entry("NEW00001"), entry(LISTED, "Expired")]
        assert (await send_list(station, 4, "Differential", update)).status == "Accepted"
        assert await list_version(station) == 4
        assert await source(cp, "gone0001") == "unknown"
        assert await source(cp, "NEW00001") == "local-list"
        assert (await cp.charger.authorizer.lookup(LISTED)).info.status == "Expired"
        # D01.FR.05: a Differential update without a list changes no entry
        assert (await send_list(station, 5, "Differential")).status == "Accepted"
        assert await source(cp, "NEW00001") == "local-list"
        assert await variables(station, ("LocalAuthListCtrlr", "Entries")) == ["3"]
    assert csms.violations == []


async def test_d01_a_full_update_without_a_list_empties_it(
    nursery, start_csms201, autojump_clock
) -> None:
    """Full without localAuthorizationList removes every entry; the version of an empty list
    is 0 (D02.FR.02; 1.6's TC_042_2_CS says the same: one list, one version)."""
    csms = await start_csms201()
    async with charger201(nursery, csms) as cp:
        station = await registered(cp)
        await send_list(station, 2, "Full", [entry(LISTED)])
        assert (await send_list(station, 3, "Full")).status == "Accepted"
        assert await source(cp, LISTED) == "unknown"
        assert await list_version(station) == 0
        assert await variables(station, ("LocalAuthListCtrlr", "Entries")) == ["0"]
    assert csms.violations == []


@pytest.mark.parametrize(
    ("version", "update", "entries", "status", "reason"),
    [
        (0, "Full", [entry("NEW00001")], "Failed", "InvalidVersion"),  # D01.FR.18
        (-3, "Full", [entry("NEW00001")], "Failed", "InvalidVersion"),
        (5, "Differential", [entry("NEW00001")], "VersionMismatch", "VersionNotNewer"),
        (4, "Differential", [entry("NEW00001")], "VersionMismatch", "VersionNotNewer"),
        (0, "Differential", [entry("NEW00001")], "Failed", "InvalidVersion"),
        # D01.FR.06: one identifier once, whatever its type
        (6, "Full", [entry("A0000001"), entry("a0000001", kind="Central")], "Failed",
         "DuplicateIdToken"),
        (6, "Full", [entry("A0000001"), entry("B0000001", None)], "Failed",
         "MissingIdTokenInfo"),
        (6, "Full", [entry(f"T{i:07d}") for i in range(6)], "Failed", "TooManyElements"),
        (6, "Differential", [entry(f"T{i:07d}") for i in range(4)], "Failed", "ListFull"),
    ],
)  # fmt: skip
async def test_refused_updates_change_nothing(
    nursery,
    start_csms201,
    autojump_clock,
    version: int,
    update: str,
    entries: list[dict[str, Any]],
    status: str,
    reason: str,
) -> None:
    """Refusals (D01.FR.18, D01.FR.19, D01.FR.06, the size limits: at most
    ItemsPerMessage entries per update, LocalAuthListCtrlr.Entries' maximum in the list):
    answered with a reasonCode, and the list and its version are as before."""
    csms = await start_csms201()
    limits = {"SendLocalListMaxLength": 5, "LocalAuthListMaxLength": 5}
    async with charger201(nursery, csms, keys=limits) as cp:
        station = await registered(cp)
        before = [entry(LISTED), entry(BLOCKED, "Blocked")]
        assert (await send_list(station, 5, "Full", before)).status == "Accepted"
        answer = await send_list(station, version, update, entries)
        assert answer.status == status
        assert answer.status_info["reason_code"] == reason
        assert await list_version(station) == 5
        assert await source(cp, LISTED) == "local-list"
        assert await source(cp, "NEW00001") == "unknown"
        assert await variables(station, ("LocalAuthListCtrlr", "Entries")) == ["2"]
    assert csms.violations == []


async def test_a_list_that_cannot_be_stored_fails_and_the_old_one_stays(
    nursery, start_csms201, autojump_clock
) -> None:
    """A journal that cannot be written (a full disk): Failed with StorageUnavailable, the
    old list stays whole (1.6's TC_043_3_CS in 2.0.1 words); once the disk has room, the
    same update is Accepted."""
    csms = await start_csms201()
    disk = type("DiskOf", (Disk,), {"full": False})
    options = {"connection_factory": disk.factory()}
    async with charger201(nursery, csms, journal_options=options) as cp:
        station = await registered(cp)
        assert (await send_list(station, 1, "Full", [entry(LISTED)])).status == "Accepted"
        # the outbox delivered first: a delivery acknowledged on a full disk ends the
        # conversation (the courier's business, not the list's; reported to the coordinator)
        with trio.fail_after(60):
            while (await cp.status())["queue"]["pending"]:
                await trio.sleep(1)
        disk.full = True
        answer = await send_list(station, 2, "Full", [entry("NEW00001")])
        assert (answer.status, answer.status_info["reason_code"]) == (
            "Failed",
            "StorageUnavailable",
        )
        disk.full = False
        assert await list_version(station) == 1
        assert await source(cp, LISTED) == "local-list"
        assert await source(cp, "NEW00001") == "unknown"
        assert (await send_list(station, 2, "Full", [entry("NEW00001")])).status == "Accepted"
    assert csms.violations == []


async def test_d02_disabled_list_version_zero_and_updates_failed(
    nursery, start_csms201, autojump_clock
) -> None:
    """D02.FR.03: while LocalAuthListCtrlr.Enabled is false GetLocalListVersion
    answers 0 and SendLocalList Failed (2.0.1 has no NotSupported); Enabled is 1.6's
    LocalAuthListEnabled, and the list kept meanwhile is back when enabled again."""
    csms = await start_csms201()
    async with charger201(nursery, csms) as cp:
        station = await registered(cp)
        await send_list(station, 7, "Full", [entry(LISTED)])
        assert await set_variable(station, "LocalAuthListCtrlr", "Enabled", "false") == "Accepted"
        assert cp.keys.get_bool("LocalAuthListEnabled") is False
        assert await list_version(station) == 0
        answer = await send_list(station, 8, "Full", [entry("NEW00001")])
        assert answer.status == "Failed" and answer.status_info["reason_code"] == "Disabled"
        assert await source(cp, LISTED) == "unknown"  # not in use
        assert await set_variable(station, "LocalAuthListCtrlr", "Enabled", "true") == "Accepted"
        assert await list_version(station) == 7
        assert await source(cp, LISTED) == "local-list"
    assert csms.violations == []


async def test_the_local_list_controller_variables(nursery, start_csms201, autojump_clock) -> None:
    """LocalAuthListCtrlr: Available, Entries and Storage read from the journal at each
    question, ItemsPerMessage is SendLocalListMaxLength (read-only), BytesPerMessage the
    frame limit."""
    csms = await start_csms201()
    async with charger201(nursery, csms, keys={"SendLocalListMaxLength": 250}) as cp:
        station = await registered(cp)
        names = [
            ("LocalAuthListCtrlr", v)
            for v in ("Available", "Entries", "Storage", "ItemsPerMessage", "BytesPerMessage")
        ]
        assert await variables(station, *names) == ["true", "0", "0", "250", str(1024 * 1024)]
        await send_list(station, 1, "Full", [entry(LISTED), entry(BLOCKED, "Blocked")])
        available, entries, storage, *_ = await variables(station, *names)
        assert (available, entries) == ("true", "2")
        assert int(storage) >= len(LISTED + "Accepted" + BLOCKED + "Blocked")
        refused = await set_variable(station, "LocalAuthListCtrlr", "ItemsPerMessage", "10")
        assert refused == "Rejected"
    assert csms.violations == []


async def test_get_report_gives_the_lists_largest_size(
    nursery, start_csms201, autojump_clock
) -> None:
    """D01.FR.12: the CSMS sends no more entries than LocalAuthListCtrlr.Entries' maxLimit;
    a GetReport gives it (LocalAuthListMaxLength) with the entries held now."""
    csms = await start_csms201()
    async with charger201(nursery, csms, keys={"LocalAuthListMaxLength": 400}) as cp:
        station = await registered(cp)
        await send_list(station, 1, "Full", [entry(LISTED)])
        wanted = [{"component": {"name": "LocalAuthListCtrlr"}, "variable": {"name": "Entries"}}]
        answer = await station.call(call.GetReport(request_id=4, component_variable=wanted))
        assert answer.status == "Accepted"
        (report,) = (await station.wait_for("NotifyReport")).payload["reportData"]
        assert report["variableAttribute"][0]["value"] == "1"
        limits = report["variableCharacteristics"]
        assert (limits["minLimit"], limits["maxLimit"]) == (0, 400)
    assert csms.violations == []


async def test_c14_online_a_listed_token_starts_without_authorize_with_local_pre_authorize(
    nursery, start_csms201, autojump_clock
) -> None:
    """C14.FR.02: online with LocalPreAuthorize an Accepted entry starts
    at once; without it (C14.FR.03-like) the CSMS is asked."""
    csms = await start_csms201()
    async with charger201(nursery, csms, keys={"LocalPreAuthorize": True}) as cp:
        station = await registered(cp)
        await send_list(station, 1, "Full", [entry(LISTED)])
        await cp.sim("plug", 1)
        assert "charging on connector 1" in await cp.swipe(LISTED)
        assert station.calls("Authorize") == []
        started = await station.wait_for("TransactionEvent", lambda p: p["eventType"] == "Started")
        assert started.payload["idToken"] == {"idToken": LISTED, "type": "ISO14443"}
        assert await set_variable(station, "AuthCtrlr", "LocalPreAuthorize", "false") == "Accepted"
        await cp.swipe(LISTED)  # its own stop
        await cp.sim("unplug", 1)
        await cp.sim("plug", 1)
        await cp.swipe(LISTED)
        assert len(station.calls("Authorize")) == 1
    assert csms.violations == []


async def test_a_conflict_with_the_csms_is_a_station_problem_until_the_list_changes(
    nursery, start_csms201, autojump_clock
) -> None:
    """The CSMS's verdict contradicts the list's (an Accepted entry, Blocked for the CSMS):
    1.6's LocalListConflict on connector 0 is, over 2.0.1, the ChargingStation's Problem
    (a NotifyEvent with techCode LocalListConflict), cleared by the next list update."""
    csms = await start_csms201(tags={LISTED: "Blocked"})
    async with charger201(nursery, csms) as cp:
        station = await registered(cp)
        await send_list(station, 1, "Full", [entry(LISTED)])
        await cp.sim("plug", 1)
        with pytest.raises(ControlRefused, match="central system says Blocked"):
            await cp.swipe(LISTED)
        event = (await station.wait_for("NotifyEvent")).payload["eventData"][0]
        assert event["component"] == {"name": "ChargingStation"}
        assert (event["actualValue"], event["techCode"]) == ("true", "LocalListConflict")
        await send_list(station, 2, "Full", [entry(LISTED, "Blocked")])
        cleared = (await station.wait_for("NotifyEvent", count=2)).payload["eventData"][0]
        assert (cleared["actualValue"], cleared.get("cleared")) == ("false", True)
    assert csms.violations == []


async def test_an_entry_matches_its_token_type_only(nursery, start_csms201, autojump_clock) -> None:
    """2.0.1 identifies a token by identifier and type: an entry for a Central token does
    not authorise an RFID card with the same identifier (the CSMS is asked about the card)."""
    csms = await start_csms201(tags={LISTED: "Blocked"})
    async with charger201(nursery, csms, keys={"LocalPreAuthorize": True}) as cp:
        station = await registered(cp)
        await send_list(station, 1, "Full", [entry(LISTED, kind="Central")])
        await cp.sim("plug", 1)
        with pytest.raises(ControlRefused, match="central system says Blocked"):
            await cp.swipe(LISTED)
        assert len(station.calls("Authorize")) == 1
    assert csms.violations == []


async def test_a_listed_token_charges_only_at_its_evses(
    nursery, start_csms201, autojump_clock
) -> None:
    """idTokenInfo.evseId of an entry: the token charges only there."""
    csms = await start_csms201()
    async with charger201(nursery, csms, connectors=2, keys={"LocalPreAuthorize": True}) as cp:
        station = await registered(cp)
        await send_list(station, 1, "Full", [entry(LISTED, evseId=[2])])
        await cp.sim("plug", 1)
        with pytest.raises(ControlRefused, match="may not charge at the free connectors"):
            await cp.swipe(LISTED)
        await cp.sim("unplug", 1)
        await cp.sim("plug", 2)
        assert "charging on connector 2" in await cp.swipe(LISTED)
    assert csms.violations == []


async def test_c13_offline_the_list_decides(
    nursery, start_csms201, autojump_clock, tmp_path
) -> None:
    """C13 (C13.FR.04): offline an Accepted entry starts with
    LocalAuthorizeOffline; a Blocked entry never starts, even with
    OfflineTxForUnknownIdEnabled (that is for unknown tokens only)."""
    csms = await start_csms201()
    proxy = await nursery.start(Proxy(csms.port).serve)
    state = tmp_path / "state"
    state.mkdir()
    keys = {"AllowOfflineTxForUnknownId": True, "LocalAuthorizeOffline": True}
    async with charger201(nursery, csms, url=proxy.url, state_dir=state, keys=keys) as cp:
        station = await registered(cp)
        await send_list(station, 1, "Full", [entry(LISTED), entry(BLOCKED, "Blocked")])
    proxy.refuse = True
    async with charger201(nursery, csms, url=proxy.url, state_dir=state, keys=keys) as cp:
        await trio.sleep(5)
        assert not cp.parts.uplink.online
        await cp.sim("plug", 1)
        with pytest.raises(ControlRefused, match="in the local list as Blocked"):
            await cp.swipe(BLOCKED)
        assert "charging on connector 1" in await cp.swipe(LISTED)
    assert csms.violations == []


async def test_the_list_is_one_list_for_both_versions(
    nursery, start_csms201, start_csms, autojump_clock, tmp_path
) -> None:
    """A list set over 2.0.1 authorises over 1.6 after a restart (same version number, the
    same entries), and a 1.6 Differential update is what 2.0.1 then reads."""
    csms201 = await start_csms201()
    state = tmp_path / "state"
    state.mkdir()
    keys = {"LocalPreAuthorize": True}
    async with charger201(nursery, csms201, state_dir=state, keys=keys) as cp:
        station = await registered(cp)
        full = [entry(LISTED), entry(BLOCKED, "Blocked"), entry("APP00001", kind="Central")]
        assert (await send_list(station, 12, "Full", full)).status == "Accepted"
    csms16 = await start_csms(tags={"NEW00001": "Blocked"})
    async with charger(nursery, csms16, state_dir=state, keys=keys) as cp:
        station = await cp.registered()
        assert (await station.call_raw("GetLocalListVersion", {})).list_version == 12
        await cp.sim("plug", 1)
        assert "charging on connector 1" in await cp.swipe(LISTED)
        assert station.calls("Authorize") == []
        update = [{"idTag": "NEW00001", "idTagInfo": {"status": "Accepted"}}, {"idTag": LISTED}]
        answer = await station.call_raw(
            "SendLocalList",
            {"listVersion": 13, "updateType": "Differential", "localAuthorizationList": update},
        )
        assert answer.status == "Accepted"
    async with charger201(nursery, csms201, state_dir=state, keys=keys) as cp:
        station = await registered(cp, connection=2)
        assert await list_version(station) == 13
        assert await source(cp, LISTED) != "local-list"  # removed over 1.6
        # an entry from 1.6 names no token type: it matches the card at the reader
        await cp.sim("plug", 1)
        assert "charging on connector 1" in await cp.swipe("NEW00001")
        assert station.calls("Authorize") == []
    assert csms201.violations == [] and csms16.violations == []
