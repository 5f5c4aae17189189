"""The device model over OCPP 2.0.1 (B05-B08) against the independent 2.0.1 CSMS: every
frame the charger sends is validated by the ``ocpp`` package (``csms.violations``), the
OCTT cases replayed are named in each test."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
import trio
from ocpp.v201 import call

from ocppd.testing.csms import NoAnswer
from tests.harness import CP_ID
from tests.v201.harness import charger201, registered
from tests.v201.test_device_model_table import REQUIRED

PASSWORD = "0123456789abcdef0123456789abcdef01234567"  # 20 bytes as hex: an AuthorizationKey


def item(component: str, variable: str, value: str | None = None, **extra: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"component": {"name": component}, "variable": {"name": variable}}
    if value is not None:
        data["attribute_value"] = value
    data.update(extra)
    return data


async def set_variables(station: Any, *items: dict[str, Any]) -> list[dict[str, Any]]:
    answer = await station.call(call.SetVariables(set_variable_data=list(items)))
    return list(answer.set_variable_result)


async def get_variables(station: Any, *items: dict[str, Any]) -> list[dict[str, Any]]:
    answer = await station.call(call.GetVariables(get_variable_data=list(items)))
    return list(answer.get_variable_result)


async def report(station: Any, request_id: int, base: str) -> list[dict[str, Any]]:
    """GetBaseReport, then every NotifyReport of it in order (B07.FR.04-06 checked)."""
    answer = await station.call(call.GetBaseReport(request_id=request_id, report_base=base))
    assert answer.status == "Accepted"
    return await notified(station, request_id)


async def notified(station: Any, request_id: int) -> list[dict[str, Any]]:
    with trio.fail_after(60):
        await station.wait_for(
            "NotifyReport", lambda p: p["requestId"] == request_id and not p.get("tbc", False)
        )
    parts = [
        c.payload for c in station.calls("NotifyReport") if c.payload["requestId"] == request_id
    ]
    assert [p["seqNo"] for p in parts] == list(range(len(parts)))
    assert [p.get("tbc", False) for p in parts] == [True] * (len(parts) - 1) + [False]
    assert len({p["generatedAt"] for p in parts}) == 1
    return [data for p in parts for data in p["reportData"]]


def slot(data: dict[str, Any]) -> tuple[str, str, str | None]:
    return (data["component"]["name"], data["variable"]["name"], data["variable"].get("instance"))


async def test_tc_b_09_tc_b_10_and_tc_b_06_cs_set_then_get(nursery, start_csms201, autojump_clock):
    """TC_B_09_CS / TC_B_10_CS: SetVariables of OfflineThreshold = 300 and AuthCtrlr's
    LocalAuthorizeOffline, each Accepted with attributeType Actual (B05.FR.10, B05.FR.12);
    TC_B_06_CS: GetVariables reads 300 back (B06.FR.10); TC_B_07_CS: two at once."""
    csms = await start_csms201()
    async with charger201(nursery, csms) as cp:
        station = await registered(cp)
        results = await set_variables(
            station,
            item("OCPPCommCtrlr", "OfflineThreshold", "300", attribute_type="Actual"),
            item("AuthCtrlr", "LocalAuthorizeOffline", "false"),
        )
        assert [(r["attribute_status"], r["attribute_type"]) for r in results] == [
            ("Accepted", "Actual"),
            ("Accepted", "Actual"),
        ]
        assert [r["variable"]["name"] for r in results] == [
            "OfflineThreshold",
            "LocalAuthorizeOffline",
        ]
        assert cp.charger.policies.auth.local_authorize_offline is False
        got = await get_variables(
            station,
            item("OCPPCommCtrlr", "OfflineThreshold", attribute_type="Actual"),
            item("AuthCtrlr", "AuthorizeRemoteStart"),
        )
        assert [
            (g["attribute_status"], g["attribute_type"], g["attribute_value"]) for g in got
        ] == [
            ("Accepted", "Actual", "300"),
            ("Accepted", "Actual", "false"),
        ]
    assert csms.violations == []


async def test_tc_b_11_and_tc_b_33_to_35_cs_refusals_per_item(
    nursery, start_csms201, autojump_clock
):
    """TC_B_11_CS: an invalidly formatted value is Rejected (B05.FR.07); TC_B_33_CS /
    TC_B_34_CS / TC_B_35_CS: unknown variable and component, in Get and Set (B05.FR.04-05,
    B06.FR.06-07); a read-only variable is Rejected (B05.FR.08); each item on its own."""
    csms = await start_csms201()
    async with charger201(nursery, csms) as cp:
        station = await registered(cp)
        before = cp.keys.text("HeartbeatInterval")
        results = await set_variables(
            station,
            item("OCPPCommCtrlr", "HeartbeatInterval", "-5"),
            item("OCPPCommCtrlr", "UnknownVariable", "1"),
            item("UnknownComponent", "OfflineThreshold", "1"),
            item("ChargingStation", "VendorName", "Other"),
            item("OCPPCommCtrlr", "HeartbeatInterval", "1", attribute_type="Target"),
            item("TxCtrlr", "EVConnectionTimeOut", "77"),
        )
        assert [r["attribute_status"] for r in results] == [
            "Rejected",
            "UnknownVariable",
            "UnknownComponent",
            "Rejected",
            "NotSupportedAttributeType",
            "Accepted",
        ]
        assert cp.keys.text("HeartbeatInterval") == before
        assert cp.keys.text("ConnectionTimeOut") == "77"
        got = await get_variables(
            station,
            item("OCPPCommCtrlr", "UnknownVariable"),
            item("UnknownComponent", "HeartbeatInterval"),
            {**item("EVSE", "AvailabilityState"), "component": {"name": "EVSE", "evse": {"id": 9}}},
            {**item("EVSE", "AvailabilityState"), "component": {"name": "EVSE", "evse": {"id": 1}}},
        )
        assert [g["attribute_status"] for g in got] == [
            "UnknownVariable",
            "UnknownComponent",
            "UnknownComponent",
            "Accepted",
        ]
        assert got[3]["attribute_value"] == "Available"
    assert csms.violations == []


async def test_tc_b_13_and_tc_b_53_cs_full_inventory(nursery, start_csms201, autojump_clock):
    """TC_B_13_CS / TC_B_53_CS: FullInventory: Accepted, then NotifyReports with the
    requestId, seqNo from 0 and tbc until the last (B07.FR.04-06), every variable with its
    characteristics (B07.FR.08), the required ones among them, every list with its
    valuesList."""
    csms = await start_csms201()
    async with charger201(nursery, csms, connectors=2) as cp:
        station = await registered(cp)
        data = await report(station, 42, "FullInventory")
        parts = station.calls("NotifyReport")
        assert len(parts) >= 2  # more variables than ItemsPerMessageGetReport
        assert all(len(p.payload["reportData"]) <= 50 for p in parts)
        have = {slot(d) for d in data}
        assert [s for s in REQUIRED if s not in have] == []
        evses = {
            (
                d["component"]["name"],
                d["component"]["evse"]["id"],
                d["component"]["evse"].get("connectorId"),
            )
            for d in data
            if "evse" in d["component"]
        }
        assert evses == {
            ("EVSE", 1, None),
            ("EVSE", 2, None),
            ("Connector", 1, 1),
            ("Connector", 2, 1),
        }
        for d in data:
            characteristics = d["variableCharacteristics"]
            if characteristics["dataType"] in ("OptionList", "SequenceList", "MemberList"):
                assert characteristics["valuesList"], slot(d)
    assert csms.violations == []


async def test_tc_b_12_cs_configuration_inventory_is_what_can_be_set(
    nursery, start_csms201, autojump_clock
):
    """TC_B_12_CS: ConfigurationInventory: the variables with mutability ReadWrite or WriteOnly
    (B07.FR.07), with their characteristics."""
    csms = await start_csms201()
    async with charger201(nursery, csms) as cp:
        station = await registered(cp)
        data = await report(station, 7, "ConfigurationInventory")
        assert {d["variableAttribute"][0]["mutability"] for d in data} == {"ReadWrite", "WriteOnly"}
        assert all("variableCharacteristics" in d for d in data)
        assert ("SampledDataCtrlr", "TxUpdatedInterval", None) in {slot(d) for d in data}
    assert csms.violations == []


async def test_tc_b_14_cs_summary_inventory(nursery, start_csms201, autojump_clock):
    """TC_B_14_CS: SummaryInventory: the availability of the station, each EVSE and each
    connector (B07.FR.09)."""
    csms = await start_csms201()
    async with charger201(nursery, csms) as cp:
        station = await registered(cp)
        data = await report(station, 8, "SummaryInventory")
        assert [(d["component"]["name"], d["variableAttribute"][0]["value"]) for d in data] == [
            ("ChargingStation", "Available"),
            ("EVSE", "Available"),
            ("Connector", "Available"),
        ]
    assert csms.violations == []


async def test_get_report_by_component_and_an_empty_result(nursery, start_csms201, autojump_clock):
    """B08: GetReport of one component's variables; nothing found is EmptyResultSet."""
    csms = await start_csms201()
    async with charger201(nursery, csms) as cp:
        station = await registered(cp)
        answer = await station.call(
            call.GetReport(request_id=9, component_variable=[{"component": {"name": "TxCtrlr"}}])
        )
        assert answer.status == "Accepted"
        data = await notified(station, 9)
        assert {slot(d)[0] for d in data} == {"TxCtrlr"}
        empty = await station.call(
            call.GetReport(request_id=10, component_variable=[{"component": {"name": "Nothing"}}])
        )
        assert empty.status == "EmptyResultSet"
    assert csms.violations == []


async def test_the_basic_auth_password_is_write_only_and_never_logged(
    nursery, start_csms201, autojump_clock, caplog: pytest.LogCaptureFixture
):
    """A01: BasicAuthPassword (the AuthorizationKey) is never read back (GetVariables
    Rejected, B06), never reported, never in the log; TC_A_09_CS's SetVariables of a new one
    is Accepted and the link re-dials with it."""
    caplog.set_level(logging.DEBUG)
    csms = await start_csms201()
    async with charger201(nursery, csms, keys={"AuthorizationKey": PASSWORD}) as cp:
        station = await registered(cp)
        got = await get_variables(station, item("SecurityCtrlr", "BasicAuthPassword"))
        assert got[0]["attribute_status"] == "Rejected"
        assert "attribute_value" not in got[0]
        data = await report(station, 11, "ConfigurationInventory")
        (password,) = [d for d in data if d["variable"]["name"] == "BasicAuthPassword"]
        assert "value" not in password["variableAttribute"][0]
        renewed = PASSWORD[::-1]
        results = await set_variables(station, item("SecurityCtrlr", "BasicAuthPassword", renewed))
        assert results[0]["attribute_status"] == "Accepted"
        assert cp.keys.get_str("AuthorizationKey") == renewed
        assert csms.violations == []
        await cp.station(connection=2)  # a new password: the link re-dials with it
    assert PASSWORD not in caplog.text
    assert renewed not in caplog.text


async def test_a_2_0_1_basic_auth_password_is_used_as_written(
    nursery, start_csms201, autojump_clock
):
    """2.0.1's BasicAuthPassword is a passwordString, not the 1.6 whitepaper's hex key: a
    value that looks like hex text (the OCTT's 1.6 key) is the password as written, and the
    link re-dials with exactly that (the central system refuses any other); a 2.0.1
    password needs no hex either."""
    csms = await start_csms201(passwords={CP_ID: PASSWORD})
    ocpp = {"security_profile": 1, "authorization_key": PASSWORD}
    async with charger201(nursery, csms, ocpp=ocpp) as cp:
        station = await registered(cp)
        for n, password in enumerate(
            ["4F43415F4F4354545F61646D696E5F74657374", "a:2.0.1-password*"], start=2
        ):
            csms.passwords[CP_ID] = password
            results = await set_variables(
                station, item("SecurityCtrlr", "BasicAuthPassword", password)
            )
            assert results[0]["attribute_status"] == "Accepted"
            assert cp.keys.get_str("AuthorizationKey") == password
            station = await registered(cp, connection=n)
        spaced = "OCA OCTT admin test"  # the text a 1.6 hex key may stand for: no passwordString
        results = await set_variables(station, item("SecurityCtrlr", "BasicAuthPassword", spaced))
        assert results[0]["attribute_status"] == "Rejected"
        assert cp.keys.get_str("AuthorizationKey") == "a:2.0.1-password*"
        assert csms.violations == []
    assert csms.rejections == []


async def test_a_2_0_1_setting_persists_and_the_charger_follows_it(
    nursery, start_csms201, autojump_clock, tmp_path: Path
):
    """SetVariables of OCPPCommCtrlr.HeartbeatInterval: the heartbeat follows at once, the
    value survives a restart (the journal, as a 1.6 key), GetVariables reads it after."""
    csms = await start_csms201()
    async with charger201(nursery, csms, state_dir=tmp_path) as cp:
        station = await registered(cp)
        results = await set_variables(station, item("OCPPCommCtrlr", "HeartbeatInterval", "20"))
        assert results[0]["attribute_status"] == "Accepted"
        seen = len(station.calls("Heartbeat"))
        await trio.sleep(61)
        assert len(station.calls("Heartbeat")) - seen >= 3
        await set_variables(
            station,
            item("SampledDataCtrlr", "TxUpdatedInterval", "15"),
            item("TxCtrlr", "EVConnectionTimeOut", "45"),
        )
        assert cp.charger.policies.meter.sample_interval_s == 15
    async with charger201(nursery, csms, state_dir=tmp_path) as cp:
        station = await registered(cp, connection=2)
        got = await get_variables(
            station,
            item("SampledDataCtrlr", "TxUpdatedInterval"),
            item("TxCtrlr", "EVConnectionTimeOut"),
            item("OCPPCommCtrlr", "HeartbeatInterval"),
        )
        # the BootNotification's interval sets the heartbeat again (B01.FR.03)
        assert [g["attribute_value"] for g in got] == ["15", "45", str(csms.heartbeat_interval)]
        assert cp.charger.policies.meter.sample_interval_s == 15
        assert cp.charger.policies.tx.connection_timeout_s == 45
    assert csms.violations == []


async def test_a_report_the_link_loses_ends_and_the_next_one_is_whole(
    nursery, start_csms201, autojump_clock
):
    """A report belongs to the link that asked: when that link is lost mid-report the rest
    is not sent on the next one (the CSMS asks again); the charger goes on."""

    async def drop_the_link(station: Any, payload: dict[str, Any]) -> Any:
        if payload["requestId"] == 21 and payload["seqNo"] == 1:
            await station.close()
            return NoAnswer()
        return {}

    csms = await start_csms201(overrides={"NotifyReport": drop_the_link})
    async with charger201(nursery, csms) as cp:
        station = await registered(cp)
        answer = await station.call(call.GetBaseReport(request_id=21, report_base="FullInventory"))
        assert answer.status == "Accepted"
        first = station
        station = await registered(cp, connection=2)
        sent = [c.payload["seqNo"] for c in first.calls("NotifyReport")]
        assert sent == [0, 1]  # the link was lost at the second part
        data = await report(station, 22, "FullInventory")
        assert ("OCPPCommCtrlr", "HeartbeatInterval", None) in {slot(d) for d in data}
        assert [c.payload["requestId"] for c in station.calls("NotifyReport")].count(21) == 0
    assert csms.violations == []
