"""Fixtures of the 2.0.1 tests: a 2.0.1 CSMS on loopback (port 0), in the test's nursery."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
import trio

from ocppd.testing.csms201 import CentralSystem201
from tests.v201.harness import make_csms201


@pytest.fixture
def start_csms201(nursery: trio.Nursery) -> Callable[..., Awaitable[CentralSystem201]]:
    """``csms = await start_csms201(boot_status="Pending")``: a 2.0.1 CSMS on 127.0.0.1:0."""

    async def start(**kwargs: Any) -> CentralSystem201:
        csms = make_csms201(**kwargs)
        await nursery.start(csms.serve)
        return csms

    return start
