"""The 1.6 harness (tests/harness.py) for OCPP 2.0.1: the real daemon, offering 2.0.1 first,
against the independent 2.0.1 CSMS (ocppd/testing/csms201.py), on virtual time.

    csms = await start_csms201()
    async with charger201(nursery, csms) as cp:
        station = await registered(cp)
        await cp.sim("plug", 1)
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import trio

from ocppd.testing.csms201 import CentralSystem201, Station201
from tests.harness import Charger, charger, csms_now

BOTH = ["ocpp2.0.1", "ocpp1.6"]  # offered in this order: 2.0.1 preferred


def make_csms201(**kwargs: Any) -> CentralSystem201:
    kwargs.setdefault("now", csms_now)
    return CentralSystem201(**kwargs)


@asynccontextmanager
async def charger201(
    nursery: trio.Nursery, csms: Any, *, versions: list[str] | None = None, **options: Any
) -> AsyncIterator[Charger]:
    """A daemon offering ``versions`` (2.0.1, then 1.6, unless told otherwise)."""
    ocpp = {"versions": versions or BOTH, **options.pop("ocpp", {})}
    async with charger(nursery, csms, ocpp=ocpp, **options) as cp:
        yield cp


async def registered(cp: Charger, connection: int = 1) -> Station201:
    """The 2.0.1 station once its BootNotification was answered and every EVSE's status
    was sent (2.0.1 has no station-wide status: the last EVSE's comes last)."""
    station: Station201 = await cp.station(connection)
    with trio.fail_after(120):
        n = len(cp.charger.connectors)
        await station.wait_for("StatusNotification", lambda p: p["evseId"] == n)
    return station


__all__ = ["BOTH", "Charger", "charger201", "make_csms201", "registered"]
