"""A made-up second feature profile, written as a contributor would add a real one.

It is a module of its own; what it takes to offer it is one line of wiring (see
tests/test_profiles.py: ``profiles=(*PROFILES, fake_profile.profile)``). It declares
a key, answers a CSMS call (TriggerMessage, with the Core's "send now" verbs) and runs
a task for as long as the daemon does. It is no Remote Trigger profile: a test fixture.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import trio

from ocppd.features.profile import Handler, Profile, Services, Site, Task, TypedHandler
from ocppd.model.keys import KeySpec, KeyType
from ocppd.protocol.v16 import messages as m
from ocppd.protocol.v16.enums import MessageTrigger, TriggerMessageStatus
from ocppd.session import Then

NAME = "FakeProfile"
TICK_S = 60


def _keys(site: Site) -> Iterable[KeySpec]:
    return [
        KeySpec(
            "FakeProfileConnectors", KeyType.INT, len(site.phases), readonly=True, derived=True
        ),
        KeySpec("FakeProfileTicks", KeyType.INT, 0, readonly=True, derived=True),
    ]


def _handlers(services: Services) -> Mapping[str, Handler]:
    async def trigger_message(request: m.TriggerMessageRequest) -> Any:
        wanted = request.requested_message
        cid = request.connector_id

        async def send() -> None:
            if wanted is MessageTrigger.BOOT_NOTIFICATION:
                await services.registration.send_boot()
            elif wanted is MessageTrigger.HEARTBEAT:
                await services.heartbeat.send_heartbeat()
            else:
                await services.statuses.send_status(0 if cid is None else cid)

        if wanted not in (
            MessageTrigger.BOOT_NOTIFICATION,
            MessageTrigger.HEARTBEAT,
            MessageTrigger.STATUS_NOTIFICATION,
        ):
            return m.TriggerMessageResponse(status=TriggerMessageStatus.NOT_IMPLEMENTED)
        return Then(m.TriggerMessageResponse(status=TriggerMessageStatus.ACCEPTED), send)

    return {"TriggerMessage": TypedHandler(m.TriggerMessageRequest, trigger_message)}


def _tasks(services: Services) -> Iterable[Task]:
    async def tick() -> None:
        while True:
            await trio.sleep(TICK_S)
            ticks = services.keys.get_int("FakeProfileTicks")
            await services.keys.apply("FakeProfileTicks", ticks + 1)

    return [tick]


profile = Profile(NAME, keys=_keys, handlers=_handlers, tasks=_tasks)
