"""UpdateFirmware for real: apt installs version N+1 and rolls a broken N+2 back (``install``).

Issue 15's install check, on this machine (root, Debian, apt):

- N is the .deb under test (``make deb``); N+1 and N+2 are the same package under the
  versions ``N+up1`` and ``N+up2`` (``ocppd.__version__`` changed to match, md5sums
  recomputed), repacked with dpkg-deb from N so the test costs one package build, not
  three. N+2 is broken on purpose: its ``ocppd.cli`` exits at import, so the daemon
  exits 1 at every start and never registers.
- N is installed with apt-get (the ``installed`` fixture). A charger with its previous
  package in apt's cache is what the helper expects; N was installed from a file here,
  so the test puts it where apt would have left it (``/var/cache/apt/archives``).
- The independent central system (``ocppd.testing.csms``, the ``ocpp`` package) sends
  UpdateFirmware with the URL of N+1 on a real HTTP server on 127.0.0.1; the daemon
  downloads it, checks it with dpkg-deb and hands it over (``request.json``).
- The helper runs as ``ocppd-update.service``'s ExecStart does: Debian's python3, root,
  ``-m ocppd.system.helper -c CONFIG``, ``DEBIAN_FRONTEND=noninteractive``, working
  directory /. It runs the real apt-get and dpkg for the install and the rollback, and
  keeps the previous package itself.

What is stood in, and why: there is no systemd PID 1 here (a CI container), so

- ``ocppd-update.path`` (PathExists=.../update/request.json) is the test waiting for
  that file and then starting the helper once, as the path unit would;
- ``systemctl`` is ``tests/install/standin/systemctl``, first on the helper's PATH. It
  knows the three calls the helper makes for ocppd.service (restart, stop, ``show -p
  NRestarts --value``) and refuses anything else. Its "service" runs ``/usr/bin/ocppd
  run -c CONFIG`` as user ocppd and restarts it on failure after the installed unit's
  ``RestartSec=``, counting NRestarts, as systemd's ``Restart=on-failure`` does;
  ``restart`` returns once the process is started (systemd would wait for READY=1).
  Nothing else of systemd (sandboxing, ExecStartPre, the watchdog) is in play here;
  tests/install/test_package.py checks the units themselves.

The central system sees Downloading, Downloaded, Installing, (restart) Installed, each
once, and the new version in the BootNotification; then for N+2 Downloading,
Downloaded, Installing, (crash loop, rollback) InstallationFailed, with N+1 installed
(``dpkg-query -W ocppd``) and running. The package is purged at the end.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import trio
from ocpp.v16 import call
from pkgtools import (
    CLEAN_ENV,
    DEBIAN_PYTHON,
    OCPPD,
    PACKAGE,
    USER,
    Charger,
    installed_unit,
    installed_version,
    purge_if_present,
    run,
)

from tests.fileservers import HttpServer

pytestmark = pytest.mark.install

STANDIN = Path(__file__).resolve().parent / "standin"
KEEP_DIR = Path("/var/lib/ocppd-update")  # the helper's StateDirectory=
ARCHIVES = Path("/var/cache/apt/archives")
MODULES = "usr/lib/python3/dist-packages/ocppd"
HEALTH_TIMEOUT_S = 60
FIRMWARE_STATUS = "FirmwareStatusNotification"
BROKEN = '\nraise SystemExit("ocppd {version}: broken on purpose by the install test")\n'


def _variant(deb: Path, version: str, out_dir: Path, *, broken: bool = False) -> Path:
    """``deb`` as ``version``: control, ocppd.__version__ and md5sums agree."""
    tree = out_dir / f"tree-{version}"
    run(["dpkg-deb", "-R", str(deb), str(tree)])
    control = tree / "DEBIAN" / "control"
    text = control.read_text(encoding="utf-8")
    control.write_text(re.sub(r"(?m)^Version: .*$", f"Version: {version}", text), "utf-8")
    changed = [f"{MODULES}/__init__.py"]
    init = tree / changed[0]
    text, count = re.subn(
        r'(?m)^__version__ = ".*"$', f'__version__ = "{version}"', init.read_text("utf-8")
    )
    assert count == 1, f"no __version__ line in {init}"
    init.write_text(text, encoding="utf-8")
    if broken:
        changed.append(f"{MODULES}/cli.py")
        cli = tree / changed[-1]
        cli.write_text(cli.read_text("utf-8") + BROKEN.format(version=version), "utf-8")
    md5sums = tree / "DEBIAN" / "md5sums"
    sums = md5sums.read_text(encoding="utf-8")
    for rel in changed:
        digest = hashlib.md5((tree / rel).read_bytes()).hexdigest()
        sums, count = re.subn(rf"(?m)^\w+(  {re.escape(rel)})$", rf"{digest}\1", sums)
        assert count == 1, f"{rel} not in md5sums"
    md5sums.write_text(sums, encoding="utf-8")
    out = out_dir / f"{PACKAGE}_{version}_all.deb"
    run(["dpkg-deb", "--root-owner-group", "-b", str(tree), str(out)])
    return out


def _unit_setting(unit: str, key: str, default: str) -> str:
    match = re.search(rf"(?m)^{key}=(.*)$", unit)
    return match.group(1).strip() if match else default


@pytest.fixture
def standin(installed: Path, charger: Charger) -> Iterator[dict[str, str]]:
    """The stand-in systemctl's directory and the helper's environment; afterwards the
    stand-in service is stopped, the helper's files removed and the package purged."""
    unit = installed_unit().read_text(encoding="utf-8")
    assert _unit_setting(unit, "Restart", "no") == "on-failure", unit
    state = Path(tempfile.mkdtemp(prefix="ocppd-standin-"))
    (state / "unit.json").write_text(
        json.dumps(
            {
                "name": "ocppd.service",
                "argv": [OCPPD, "run", "-c", str(charger.config)],
                "user": USER,
                "cwd": str(charger.root / "run"),
                "env": {**CLEAN_ENV, "HOME": str(charger.root)},
                "log": str(charger.log),
                "restart_sec": float(_unit_setting(unit, "RestartSec", "0.1")),
                "restart_prevent_exit_status": [
                    int(c) for c in _unit_setting(unit, "RestartPreventExitStatus", "").split()
                ],
            }
        ),
        encoding="utf-8",
    )
    env = {
        **CLEAN_ENV,
        "PATH": f"{STANDIN}:{CLEAN_ENV['PATH']}",
        "DEBIAN_FRONTEND": "noninteractive",  # Environment= of ocppd-update.service
        "OCPPD_STANDIN_DIR": str(state),
    }
    keep_existed = KEEP_DIR.exists()
    try:
        yield env
    finally:
        run([str(STANDIN / "systemctl"), "stop", "ocppd.service"], env=env, check=False)
        shutil.rmtree(state, ignore_errors=True)
        if not keep_existed:
            shutil.rmtree(KEEP_DIR, ignore_errors=True)
        purge_if_present()


async def _systemctl(env: dict[str, str], *args: str) -> None:
    with trio.fail_after(60):
        done = await trio.run_process(
            [str(STANDIN / "systemctl"), *args], env=env, capture_stderr=True, check=False
        )
    assert done.returncode == 0, done.stderr.decode()


async def _path_unit_then_helper(
    charger: Charger, env: dict[str, str]
) -> tuple[int, str, dict[str, Any]]:
    """ocppd-update.path: wait for request.json; then ocppd-update.service's ExecStart."""
    request = charger.state_dir / "update" / "request.json"
    with trio.fail_after(120):
        while not request.exists():
            await trio.sleep(0.2)
    with trio.fail_after(300):
        done = await trio.run_process(
            [DEBIAN_PYTHON, "-m", "ocppd.system.helper", "-c", str(charger.config)],
            env=env,
            cwd="/",
            capture_stdout=True,
            capture_stderr=True,
            check=False,
        )
    outcome = json.loads((charger.state_dir / "update" / "outcome.json").read_text("utf-8"))
    return done.returncode, done.stderr.decode(errors="replace"), outcome


def _statuses(csms: Any, cp_id: str) -> list[str]:
    return [c.payload["status"] for c in csms.all_calls(cp_id) if c.action == FIRMWARE_STATUS]


async def _wait_statuses(csms: Any, cp_id: str, expected: list[str]) -> None:
    with trio.fail_after(120):
        while len(_statuses(csms, cp_id)) < len(expected):
            await trio.sleep(0.2)
    await trio.sleep(3)  # and no second copy of any
    assert _statuses(csms, cp_id) == expected


async def _boot(csms: Any, cp_id: str, connection: int) -> dict[str, Any]:
    with trio.fail_after(120):
        await csms.wait_station(cp_id, connection=connection)
        while True:
            boots = [c for c in csms.all_calls(cp_id) if c.action == "BootNotification"]
            if len(boots) >= connection:
                payload: dict[str, Any] = boots[connection - 1].payload
                return payload
            await trio.sleep(0.2)


async def _update_firmware(csms: Any, cp_id: str, location: str) -> None:
    station = csms.stations[cp_id]
    now = datetime.now(UTC).isoformat()
    await station.call(call.UpdateFirmware(location=location, retrieve_date=now))


async def test_update_firmware_installs_n_plus_1_and_rolls_back_a_broken_n_plus_2(
    installed: Path,
    deb_version: str,
    daemon_cli: None,
    charger: Charger,
    standin: dict[str, str],
    tmp_path: Path,
) -> None:
    from ocppd.testing import csms as csms_module  # the test venv's, not the package's

    n1, n2 = f"{deb_version}+up1", f"{deb_version}+up2"
    debs = {
        n1: _variant(installed, n1, tmp_path),
        n2: _variant(installed, n2, tmp_path, broken=True),
    }
    cached = ARCHIVES / f"{PACKAGE}_{deb_version}_all.deb"
    cached_by_us = not cached.exists()
    if cached_by_us:
        shutil.copyfile(installed, cached)  # as if apt had installed N from a repository
    csms = csms_module.CentralSystem()
    http = HttpServer()
    for path in debs.values():
        http.files[f"/fw/{path.name}"] = path.read_bytes()
    cp_id = charger.charge_point_id
    try:
        with trio.fail_after(330):
            async with trio.open_nursery() as nursery:
                await nursery.start(csms.serve)
                await nursery.start(http.serve)
                config = charger.write_config(csms.url)
                with config.open("a", encoding="utf-8") as out:
                    out.write(f"\n[firmware]\nhealth_timeout_s = {HEALTH_TIMEOUT_S}\n")
                await _systemctl(standin, "restart", "ocppd.service")
                assert (await _boot(csms, cp_id, 1))["firmwareVersion"] == deb_version

                # N -> N+1: installed, restarted, registered, reported once
                await _update_firmware(csms, cp_id, http.url(f"/fw/{debs[n1].name}"))
                code, helper_log, outcome = await _path_unit_then_helper(charger, standin)
                assert (code, outcome["result"]) == (0, "Installed"), helper_log
                assert installed_version() == n1
                assert (await _boot(csms, cp_id, 2))["firmwareVersion"] == n1
                first = ["Downloading", "Downloaded", "Installing", "Installed"]
                await _wait_statuses(csms, cp_id, first)
                assert (KEEP_DIR / "current.deb").is_file()  # kept for the next rollback

                # N+1 -> N+2, which crash-loops: rolled back to N+1, reported once
                await _update_firmware(csms, cp_id, http.url(f"/fw/{debs[n2].name}"))
                code, helper_log, outcome = await _path_unit_then_helper(charger, standin)
                assert (code, outcome["result"]) == (1, "InstallationFailed"), helper_log
                assert "crash-loops" in outcome["reason"], outcome
                assert "rolled back" in helper_log, helper_log
                dpkg = run(["dpkg-query", "-W", PACKAGE]).stdout.split()
                assert dpkg == [PACKAGE, n1]
                await _wait_statuses(
                    csms,
                    cp_id,
                    [*first, "Downloading", "Downloaded", "Installing", "InstallationFailed"],
                )
                # N+2 never registered; N+1 came back (more than once when the restart
                # on failure started it as soon as the rollback had put it back, as
                # systemd's Restart=on-failure would, before the helper's own restart)
                booted = [
                    c.payload.get("firmwareVersion")
                    for c in csms.all_calls(cp_id)
                    if c.action == "BootNotification"
                ]
                assert booted[:2] == [deb_version, n1] and len(booted) >= 3, booted
                assert set(booted[2:]) == {n1}, booted
                log = charger.log.read_text(encoding="utf-8", errors="replace")
                assert f"ocppd {n2}: broken on purpose" in log
                assert csms.violations == []
                nursery.cancel_scope.cancel()
    except BaseException as exc:
        exc.add_note(f"--- daemon log (tail)\n{charger.log_tail(80)}")
        raise
    finally:
        if cached_by_us:
            cached.unlink(missing_ok=True)
