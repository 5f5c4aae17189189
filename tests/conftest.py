"""Shared fixtures: a central system on loopback (port 0), started in the test's nursery."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
import trio

from ocppd.testing.csms import CentralSystem
from tests.harness import make_csms


@pytest.fixture
def start_csms(nursery: trio.Nursery) -> Callable[..., Awaitable[CentralSystem]]:
    """``csms = await start_csms(boot_status="Pending")``: a central system on 127.0.0.1:0."""

    async def start(**kwargs: Any) -> CentralSystem:
        csms = make_csms(**kwargs)
        await nursery.start(csms.serve)
        return csms

    return start


def pytest_addoption(parser: pytest.Parser) -> None:
    from tests.crash.conftest import add_crash_options  # --crash-iterations

    add_crash_options(parser)
