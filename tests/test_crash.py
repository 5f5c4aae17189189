"""Crash test: the real daemon, killed at random points, loses nothing (docs/crash-test.md).

``test_crash_short`` (part of ``make test``) runs one run of 20 lives; ``test_crash_full``
(``make crash-test``, marked slow) runs ``--crash-iterations`` lives in runs of 20, each
with its own state dir and oracle. ``CRASH_SEED`` fixes the seed (of the run for the short
test, of the whole for the full one); otherwise a random one is drawn and printed.

Both run in each OCPP version the daemon speaks (``ocpp1.6``, ``ocpp2.0.1``: the daemon
offers that one version, against the independent central system of that version, and
the version's oracle judges: ``tests/crash/oracle.py``, ``oracle201.py``);
``-k ocpp2.0.1`` (``make crash-test DIALECT=ocpp2.0.1``) runs one.
"""

from __future__ import annotations

import os
import random

import pytest

from tests.crash.runner import RUN_LIVES, V16, V201, run_crash

VERSIONS = pytest.mark.parametrize("version", [V16, V201])

SHORT_LIMIT_S = 115.0  # typically 45-80 s


def _seed() -> int:
    text = os.environ.get("CRASH_SEED")
    return int(text) if text else random.SystemRandom().randrange(2**32)


@VERSIONS
async def test_crash_short(version: str) -> None:
    seed = _seed()
    print(f"crash test {version} seed {seed} (CRASH_SEED={seed} reproduces the plan)")
    result = await run_crash(seed, RUN_LIVES, limit_s=SHORT_LIMIT_S, version=version)
    print(result.summary())
    result.assert_ok()


@pytest.mark.slow
@VERSIONS
async def test_crash_full(
    request: pytest.FixtureRequest, capsys: pytest.CaptureFixture[str], version: str
) -> None:
    iterations = int(request.config.getoption("crash_iterations"))
    master = _seed()
    rng = random.Random(master)

    def show(line: str) -> None:  # on the terminal even under -q and output capture
        with capsys.disabled():
            print(line, flush=True)

    show(f"crash test {version}: {iterations} lives, master seed {master} (CRASH_SEED={master})")
    done = 0
    run = 0
    while done < iterations:
        lives = min(RUN_LIVES, iterations - done)
        seed = rng.randrange(2**32)
        result = await run_crash(seed, lives, version=version)
        show(f"run {run}: {result.summary()}")
        result.assert_ok(f"(run {run} of the full test, master seed {master})")
        done += lives
        run += 1
