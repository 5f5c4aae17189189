"""Options of the crash test (registered from tests/conftest.py)."""

from __future__ import annotations

import pytest


def add_crash_options(parser: pytest.Parser) -> None:
    """Called by ``pytest_addoption`` in tests/conftest.py (a hook here would come too late)."""
    group = parser.getgroup("crash", "crash test (SIGKILL the daemon at random points)")
    group.addoption(
        "--crash-iterations",
        type=int,
        default=200,
        help="daemon lives (each ended by SIGKILL or SIGTERM) of the full crash test",
    )
    group = parser.getgroup("corruption", "corruption test (damage the journal's files)")
    group.addoption(
        "--corruption-cases",
        type=int,
        default=1000,
        help="cases (one damage each) of the slow corruption test (tests/test_corruption.py)",
    )
