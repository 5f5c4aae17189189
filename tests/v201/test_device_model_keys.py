"""One key store for both versions (design decision 4), in the real daemon: a variable set
through the 2.0.1 device model's SetVariables changes the policy a 1.6 ChangeConfiguration
changes, persists in the journal like a 1.6 key, and a 1.6 change is what 2.0.1 reads.

The 2.0.1 calls go through the daemon's own 2.0.1 handler table (as a 2.0.1 session would
call them) while the independent 1.6 central system is connected; the same calls over a
2.0.1 link are in test_device_model.py."""

from __future__ import annotations

import itertools
from pathlib import Path

import trio
from ocpp.v16 import call

from ocppd.protocol.rpc import IncomingCall
from ocppd.protocol.v201 import messages as m
from ocppd.protocol.v201.enums import GetVariableStatusEnumType, SetVariableStatusEnumType
from tests.harness import charger


async def ask(cp, action: str, request):  # type: ignore[no-untyped-def]
    handlers = cp.parts.dialect_handlers["ocpp2.0.1"]
    return await handlers[action](IncomingCall("1", action, request))


def set_request(component: str, variable: str, value: str) -> m.SetVariablesRequest:
    return m.SetVariablesRequest(
        set_variable_data=(
            m.SetVariableDataType(
                attribute_value=value,
                component=m.ComponentType(name=component),
                variable=m.VariableType(name=variable),
            ),
        )
    )


def get_request(component: str, variable: str) -> m.GetVariablesRequest:
    return m.GetVariablesRequest(
        get_variable_data=(
            m.GetVariableDataType(
                component=m.ComponentType(name=component), variable=m.VariableType(name=variable)
            ),
        )
    )


async def test_tx_updated_interval_set_in_2_0_1_changes_the_sampling_and_survives_a_restart(
    nursery, start_csms, autojump_clock, tmp_path: Path
):
    csms = await start_csms()
    async with charger(
        nursery,
        csms,
        state_dir=tmp_path,
        keys={"MeterValueSampleInterval": 60},
    ) as cp:
        station = await cp.registered()
        await cp.sim("plug", 1)
        await cp.swipe("TAG001")
        await station.wait_for("StatusNotification", lambda p: p["status"] == "Charging")
        await station.wait_for("MeterValues")
        answer = await ask(
            cp, "SetVariables", set_request("SampledDataCtrlr", "TxUpdatedInterval", "15")
        )
        (result,) = answer.set_variable_result
        assert result.attribute_status is SetVariableStatusEnumType.ACCEPTED
        assert cp.charger.policies.meter.sample_interval_s == 15
        seen = len(station.calls("MeterValues"))
        await trio.sleep(61)
        times = [c.t for c in station.calls("MeterValues")[seen:]]
        assert len(times) >= 3
        assert all(abs((b - a) - 15) < 1 for a, b in itertools.pairwise(times))
        shown = await station.call(call.GetConfiguration(key=["MeterValueSampleInterval"]))
        assert shown.configuration_key[0]["value"] == "15"
    csms2 = await start_csms()
    async with charger(nursery, csms2, state_dir=tmp_path) as cp:
        station = await cp.registered()
        assert cp.charger.policies.meter.sample_interval_s == 15
        answer = await ask(cp, "GetVariables", get_request("SampledDataCtrlr", "TxUpdatedInterval"))
        assert answer.get_variable_result[0].attribute_value == "15"
    assert not csms.violations and not csms2.violations


async def test_a_1_6_change_is_what_2_0_1_reads(nursery, start_csms, autojump_clock):
    csms = await start_csms()
    async with charger(nursery, csms) as cp:
        station = await cp.registered()
        answer = await station.call(call.ChangeConfiguration(key="ConnectionTimeOut", value="45"))
        assert answer.status == "Accepted"
        got = await ask(cp, "GetVariables", get_request("TxCtrlr", "EVConnectionTimeOut"))
        (result,) = got.get_variable_result
        assert result.attribute_status is GetVariableStatusEnumType.ACCEPTED
        assert result.attribute_value == "45"
        assert cp.charger.policies.tx.connection_timeout_s == 45
        # and back: 2.0.1 sets, 1.6 reads, the policy follows
        await ask(cp, "SetVariables", set_request("TxCtrlr", "EVConnectionTimeOut", "90"))
        shown = await station.call(call.GetConfiguration(key=["ConnectionTimeOut"]))
        assert shown.configuration_key[0]["value"] == "90"
        assert cp.charger.policies.tx.connection_timeout_s == 90
        # the 2.0.1-only keys mean nothing in 1.6: a 1.6 central system does not reach them
        listed = await station.call(call.GetConfiguration(key=["OCPPCommCtrlr.OfflineThreshold"]))
        assert listed.unknown_key == ["OCPPCommCtrlr.OfflineThreshold"]
        everything = await station.call(call.GetConfiguration())
        assert not any("." in k["key"] for k in everything.configuration_key)
        changed = await station.call(
            call.ChangeConfiguration(key="OCPPCommCtrlr.OfflineThreshold", value="5")
        )
        assert changed.status == "NotSupported"
        assert cp.keys.get_int("OCPPCommCtrlr.OfflineThreshold") == 0
    assert not csms.violations


async def test_a_refused_set_changes_nothing(nursery, start_csms, autojump_clock):
    csms = await start_csms()
    async with charger(nursery, csms) as cp:
        await cp.registered()
        before = cp.keys.text("HeartbeatInterval")
        answer = await ask(
            cp, "SetVariables", set_request("OCPPCommCtrlr", "HeartbeatInterval", "soon")
        )
        (result,) = answer.set_variable_result
        assert result.attribute_status is SetVariableStatusEnumType.REJECTED
        assert result.attribute_status_info.reason_code == "InvalidValue"
        assert cp.keys.text("HeartbeatInterval") == before
        stored = await cp.journal.settings()
        assert not any(k.endswith("HeartbeatInterval") for k in stored)


async def test_more_items_than_items_per_message(nursery, start_csms, autojump_clock):
    """TC_B_08_CS: ItemsPerMessageGetVariables + 1 items: the first answered, the last
    Rejected; the same for SetVariables, where the item beyond is not applied."""
    csms = await start_csms()
    async with charger(nursery, csms) as cp:
        await cp.registered()
        limit = cp.keys.get_int("DeviceDataCtrlr.ItemsPerMessageGetVariables")
        item = get_request("OCPPCommCtrlr", "HeartbeatInterval").get_variable_data[0]
        answer = await ask(cp, "GetVariables", m.GetVariablesRequest((item,) * (limit + 1)))
        statuses = [r.attribute_status for r in answer.get_variable_result]
        assert statuses == [GetVariableStatusEnumType.ACCEPTED] * limit + [
            GetVariableStatusEnumType.REJECTED
        ]
        first = set_request("OCPPCommCtrlr", "HeartbeatInterval", "100").set_variable_data[0]
        last = set_request("OCPPCommCtrlr", "HeartbeatInterval", "200").set_variable_data[0]
        answer = await ask(cp, "SetVariables", m.SetVariablesRequest((first,) * limit + (last,)))
        assert answer.set_variable_result[-1].attribute_status is SetVariableStatusEnumType.REJECTED
        assert cp.keys.text("HeartbeatInterval") == "100"
