"""The scenario suite's fixture: ``version``, every scenario once per OCPP version."""

from __future__ import annotations

import pytest

from tests.scenarios.versions import VERSIONS, Version


@pytest.fixture(params=list(VERSIONS))
def version(request: pytest.FixtureRequest) -> Version:
    """The OCPP version a scenario runs in: its adapter (tests/scenarios/versions.py)."""
    return VERSIONS[request.param]
