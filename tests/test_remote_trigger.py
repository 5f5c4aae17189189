"""TriggerMessage against the independent central system (1.6 §5.17; errata 2025-04 §3.40
and §3.46), with the OCTT cases TC_054 (Trigger Message) and TC_055 (Trigger Message - Rejected)."""

from __future__ import annotations

from typing import Any

import pytest
import trio
from ocpp.v16 import call

from ocppd.app import build_triggers
from ocppd.features import PROFILES
from ocppd.features.profile import Profile, TypedHandler
from ocppd.protocol.v16.dialect import V16
from ocppd.testing.csms import NoAnswer, Station
from tests.harness import charger


async def trigger(station: Station, message: str, connector_id: int | None = None) -> str:
    answer = await station.call(
        call.TriggerMessage(requested_message=message, connector_id=connector_id)
    )
    return str(answer.status)


def answered_before(cp: Any, message: str) -> None:
    """The TriggerMessage's answer went out before the first triggered ``message`` after it
    (the frames as the central system saw them, in order)."""
    frames = [f for cp_id, f in cp.csms.frames if cp_id == cp.settings.ocpp.charge_point_id]
    asked = max(
        i for i, f in enumerate(frames) if f.direction == "out" and f.action == "TriggerMessage"
    )
    uid = frames[asked].unique_id
    answer = next(
        i
        for i, f in enumerate(frames)
        if f.direction == "in" and f.message_type == 3 and f.unique_id == uid
    )
    sent = next(
        i
        for i, f in enumerate(frames)
        if i > asked and f.direction == "in" and f.message_type == 2 and f.action == message
    )
    assert answer < sent


async def test_tc054_heartbeat_is_sent_after_the_answer(nursery, start_csms, autojump_clock):
    csms = await start_csms(heartbeat_interval=3600)
    async with charger(nursery, csms) as cp:
        station = await cp.registered()
        assert station.calls("Heartbeat") == []
        assert await trigger(station, "Heartbeat") == "Accepted"
        with trio.fail_after(5):
            await station.wait_for("Heartbeat")
        answered_before(cp, "Heartbeat")
        assert not csms.violations
        for action, handler in cp.parts.handlers.items():  # every profile's handlers are typed
            assert isinstance(handler, TypedHandler)
            assert handler.request_type is V16.requests[action]


async def test_tc054_status_notification_of_one_connector_or_of_all(
    nursery, start_csms, autojump_clock
):
    csms = await start_csms(heartbeat_interval=3600)
    async with charger(nursery, csms, connectors=2) as cp:
        station = await cp.registered()
        await cp.sim("plug", 2)
        await station.wait_for("StatusNotification", lambda p: p["status"] == "Preparing")
        before = len(station.calls("StatusNotification"))
        assert await trigger(station, "StatusNotification", 2) == "Accepted"
        await station.wait_for("StatusNotification", count=before + 1)
        answered_before(cp, "StatusNotification")
        sent = [c.payload for c in station.calls("StatusNotification")[before:]]
        assert [(p["connectorId"], p["status"]) for p in sent] == [(2, "Preparing")]
        before += 1
        assert await trigger(station, "StatusNotification") == "Accepted"
        await station.wait_for("StatusNotification", count=before + 3)
        sent = [c.payload for c in station.calls("StatusNotification")[before:]]
        assert [(p["connectorId"], p["status"]) for p in sent] == [
            (0, "Available"),
            (1, "Available"),
            (2, "Preparing"),
        ]
        assert await trigger(station, "StatusNotification", 0) == "Accepted"
        await station.wait_for("StatusNotification", count=before + 4)
        assert station.calls("StatusNotification")[-1].payload["connectorId"] == 0
        assert not csms.violations


async def test_tc054_meter_values_use_context_trigger_and_the_sampled_measurands(
    nursery, start_csms, autojump_clock
):
    csms = await start_csms(heartbeat_interval=3600)
    keys = {
        "MeterValuesSampledData": "Energy.Active.Import.Register,Power.Active.Import",
        "MeterValueSampleInterval": 0,  # no periodic values: every MeterValues is triggered
    }
    async with charger(nursery, csms, connectors=2, keys=keys) as cp:
        station = await cp.registered()
        await cp.sim("plug", 1)
        await cp.swipe("CAFE0001")
        start = await station.wait_for("StartTransaction")
        await trio.sleep(10)
        assert station.calls("MeterValues") == []
        # one connector: its transaction's id, fresh values, context Trigger
        assert await trigger(station, "MeterValues", 1) == "Accepted"
        one = await station.wait_for("MeterValues")
        answered_before(cp, "MeterValues")
        assert one.payload["connectorId"] == 1
        assert one.payload["transactionId"] == 1
        [value] = one.payload["meterValue"]
        sampled = value["sampledValue"]
        assert {s["measurand"] for s in sampled} == {
            "Energy.Active.Import.Register",
            "Power.Active.Import",
        }
        assert {s["context"] for s in sampled} == {"Trigger"}
        energy = next(s for s in sampled if s["measurand"] == "Energy.Active.Import.Register")
        assert float(energy["value"]) > start.payload["meterStart"]  # newest, not meterStart
        # without connectorId: every connector; the idle one has no transactionId
        assert await trigger(station, "MeterValues") == "Accepted"
        await station.wait_for("MeterValues", count=3)
        both = [c.payload for c in station.calls("MeterValues")[1:]]
        assert [(p["connectorId"], "transactionId" in p) for p in both] == [(1, True), (2, False)]
        assert not csms.violations


async def test_tc054_boot_notification_while_pending_and_rejected_after_accepted(
    nursery, start_csms, autojump_clock
):
    """While Pending the central system may ask for a BootNotification (1.6 §4.2, §5.17); an
    Accepted answer to it ends Pending at once. After Accepted it is Rejected (errata 2025-04
    §3.40): the registration is not started over."""
    csms = await start_csms(boot_status="Pending", heartbeat_interval=600)
    async with charger(nursery, csms) as cp:
        station = await cp.station()
        await station.wait_for("BootNotification")
        await trio.sleep(5)
        csms.boot_status = "Accepted"
        assert await trigger(station, "BootNotification") == "Accepted"
        await station.wait_for("BootNotification", count=2)
        answered_before(cp, "BootNotification")
        # registered now, long before the Pending interval (600 s) is over
        with trio.fail_after(5):
            await station.wait_for("StatusNotification", lambda p: p["connectorId"] == 1)
        assert cp.parts.registration.accepted
        since = cp.parts.registration.since
        assert await trigger(station, "BootNotification") == "Rejected"
        await trio.sleep(700)
        assert len(station.calls("BootNotification")) == 2  # the loop did not boot again
        assert cp.parts.registration.accepted and cp.parts.registration.since == since
        assert not csms.violations


async def test_tc055_unknown_connector_is_rejected_and_unimplemented_messages_say_so(
    nursery, start_csms, autojump_clock
):
    csms = await start_csms(heartbeat_interval=3600)
    async with charger(nursery, csms, connectors=2) as cp:
        station = await cp.registered()
        before = len(station.calls())
        for message in ("MeterValues", "StatusNotification"):
            assert await trigger(station, message, 3) == "Rejected"  # TC_055
        assert await trigger(station, "MeterValues", 0) == "Rejected"  # no main meter
        await trio.sleep(5)
        assert len(station.calls()) == before  # nothing was sent
        # where the connectorId does not matter it is ignored: "the message is leading"
        assert await trigger(station, "Heartbeat", 3) == "Accepted"
        await station.wait_for("Heartbeat")
        assert not csms.violations


async def test_a_profile_adds_triggerable_messages_as_data(nursery, start_csms, autojump_clock):
    """The set of triggerable messages is data: a profile lists its own, and the TriggerMessage
    of RemoteTrigger sends them (as Firmware Management adds its status notifications)."""
    sent: list[int | None] = []

    def firmware_status(services: Any, connector_id: int | None) -> Any:
        async def send() -> None:
            sent.append(connector_id)
            await services.heartbeat.send_heartbeat()  # a stand-in message on the real link

        return send

    firmware = Profile(
        "FirmwareManagement",
        keys=lambda _site: [],
        triggers={"FirmwareStatusNotification": firmware_status},
    )
    csms = await start_csms(heartbeat_interval=3600)
    others = tuple(p for p in PROFILES if p.name != "FirmwareManagement")  # the real one
    async with charger(nursery, csms, profiles=(*others, firmware)) as cp:
        station = await cp.registered()
        assert await trigger(station, "FirmwareStatusNotification") == "Accepted"
        await station.wait_for("Heartbeat")
        assert sent == [None]
        assert await trigger(station, "DiagnosticsStatusNotification") == "NotImplemented"
    twin = Profile("Twin", keys=lambda _site: [], triggers={"Heartbeat": firmware_status})
    with pytest.raises(ValueError, match="Heartbeat is triggered by two profiles"):
        build_triggers((*PROFILES, twin))


async def test_a_triggered_message_lost_with_the_link_is_a_log_line(
    nursery, start_csms, autojump_clock, caplog
):
    csms = await start_csms(heartbeat_interval=3600, response_timeout=60)
    csms.overrides["Heartbeat"] = lambda _st, _p: NoAnswer()
    async with charger(nursery, csms) as cp:
        station = await cp.registered()
        assert await trigger(station, "Heartbeat") == "Accepted"
        await trio.sleep(120)
        assert "triggered Heartbeat not delivered" in caplog.text
        # the conversation goes on
        assert await trigger(station, "StatusNotification", 1) == "Accepted"
        assert not cp.done.is_set()
