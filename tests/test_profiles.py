"""A profile is a module: the registry makes SupportedFeatureProfiles, and a second profile
(tests/fake_profile.py) joins the daemon with one line of wiring, against the real central
system of the ``ocpp`` package."""

from __future__ import annotations

from typing import cast

import pytest
import trio
from ocpp.v16 import call
from ocpp.v16.enums import MessageTrigger

from ocppd.app import build_handlers
from ocppd.features import PROFILES, core, declared_keys
from ocppd.features.profile import Profile, Services, TypedHandler
from ocppd.model.keys import KeySpec, KeyType
from ocppd.protocol.rpc import IncomingCall
from ocppd.protocol.v16 import messages as m
from ocppd.protocol.v16.dialect import V16
from ocppd.protocol.v16.enums import ResetType
from ocppd.testing.csms import CallFailed, Station
from tests import fake_profile
from tests.harness import charger

OFFERED = (  # what is built, in registry order
    "Core",
    "LocalAuthListManagement",
    "Reservation",
    "SmartCharging",
    "RemoteTrigger",
    "FirmwareManagement",
)
OFFERED_TEXT = ",".join(OFFERED)
CORE_ONLY = (core.profile,)  # the registry a second profile joins in these tests


async def _keys(station: Station, *names: str) -> dict[str, str]:
    answer = await station.call(call.GetConfiguration(key=list(names)))
    return {k["key"]: k["value"] for k in answer.configuration_key}


def test_supported_feature_profiles_is_the_registry() -> None:
    spec = {s.name: s for s in declared_keys()}["SupportedFeatureProfiles"]
    assert spec.default == tuple(p.name for p in PROFILES if p.advertised) == OFFERED
    assert spec.readonly and spec.derived


def test_a_longer_registry_offers_every_profile_with_its_keys() -> None:
    specs = {s.name: s for s in declared_keys((*CORE_ONLY, fake_profile.profile), connectors=2)}
    assert specs["SupportedFeatureProfiles"].default == ("Core", "FakeProfile")
    assert specs["FakeProfileConnectors"].default == 2  # keys see the charger's facts
    assert "HeartbeatInterval" in specs  # the Core's keys are still there


def test_a_key_declared_by_two_profiles_is_a_mistake_that_names_both() -> None:
    twin = Profile("Twin", keys=lambda _site: [KeySpec("heartbeatinterval", KeyType.INT, 1)])
    with pytest.raises(ValueError, match="heartbeatinterval is declared by Core and by Twin"):
        declared_keys((*PROFILES, twin))


def test_an_action_handled_by_two_profiles_is_a_mistake() -> None:
    async def answer(_call: object) -> None:
        return None

    one = Profile("One", keys=lambda _site: [], handlers=lambda _s: {"Reset": answer})
    two = Profile("Two", keys=lambda _site: [], handlers=lambda _s: {"Reset": answer})
    services = cast(Services, None)  # neither profile looks at it
    assert build_handlers((one,), services) == {"Reset": answer}
    with pytest.raises(ValueError, match="Reset is handled by two profiles"):
        build_handlers((one, two), services)


async def test_a_typed_handler_refuses_a_request_of_another_type() -> None:
    async def answer(request: m.ResetRequest) -> str:
        return f"reset {request.type}"

    handler = TypedHandler(m.ResetRequest, answer)
    reset = m.ResetRequest(type=ResetType.SOFT)
    assert await handler(IncomingCall("1", "Reset", reset)) == "reset Soft"
    with pytest.raises(TypeError, match="Reset came as ClearCacheRequest, not ResetRequest"):
        await handler(IncomingCall("2", "Reset", m.ClearCacheRequest()))


async def test_without_a_profile_that_handles_it_a_call_is_not_supported(
    nursery, start_csms, autojump_clock
):
    csms = await start_csms()
    async with charger(nursery, csms, profiles=CORE_ONLY) as cp:
        station = await cp.registered()
        with pytest.raises(CallFailed) as failed:
            await station.call(call.TriggerMessage(requested_message=MessageTrigger.heartbeat))
        assert failed.value.code == "NotSupported"
        assert await _keys(station, "SupportedFeatureProfiles") == {
            "SupportedFeatureProfiles": "Core"
        }
        assert "Core" not in {owner for owner, _task in cp.parts.tasks}
        assert set(cp.parts.handlers) <= V16.actions  # a misspelt action would never be called
        for action, handler in cp.parts.handlers.items():  # each takes its action's request
            assert isinstance(handler, TypedHandler)
            assert handler.request_type is V16.requests[action]


async def test_a_second_profile_is_its_module_and_one_line_of_wiring(
    nursery, start_csms, autojump_clock
):
    csms = await start_csms(heartbeat_interval=3600)
    async with charger(nursery, csms, profiles=(*CORE_ONLY, fake_profile.profile)) as cp:
        station = await cp.registered()
        assert await _keys(station, "SupportedFeatureProfiles", "FakeProfileConnectors") == {
            "SupportedFeatureProfiles": "Core,FakeProfile",
            "FakeProfileConnectors": "1",
        }
        # its handler answers, and what it promised goes out through a Core verb
        answer = await station.call(call.TriggerMessage(requested_message=MessageTrigger.heartbeat))
        assert answer.status == "Accepted"
        with trio.fail_after(5):
            await station.wait_for("Heartbeat")
        # its task runs beside the model for as long as the daemon does
        await trio.sleep(fake_profile.TICK_S * 2 + 1)
        assert await _keys(station, "FakeProfileTicks") == {"FakeProfileTicks": "2"}
        # the Core's own calls are untouched
        answer = await station.call(call.GetConfiguration(key=["NumberOfConnectors"]))
        assert answer.configuration_key[0]["value"] == "1"
        assert not csms.violations


async def test_a_profile_task_that_fails_is_a_logged_bug_and_the_daemon_carries_on(
    nursery, start_csms, autojump_clock, caplog
):
    async def broken() -> None:
        await trio.sleep(10)
        raise RuntimeError("a bug in a profile")

    crashy = Profile("Crashy", keys=lambda _site: [], tasks=lambda _services: [broken])
    csms = await start_csms()
    async with charger(nursery, csms, profiles=(*CORE_ONLY, crashy)) as cp:
        station = await cp.registered()
        await trio.sleep(20)
        assert "a task of the Crashy profile failed (a bug; ocppd carries on)" in caplog.text
        assert await _keys(station, "SupportedFeatureProfiles") == {
            "SupportedFeatureProfiles": "Core,Crashy"
        }
        await cp.sim("plug", 1)
        await station.wait_for("StatusNotification", lambda p: p["status"] == "Preparing")
        assert not cp.done.is_set()
