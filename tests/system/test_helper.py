"""The privileged update helper, run without root: fake apt-get, dpkg-query and systemctl
on PATH (shell scripts that log what they were asked and act like the real ones), the
real dpkg-deb. What it must do: keep the running package, install the new one, wait
for the new daemon to register, and roll back when it does not or crash-loops."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
from pathlib import Path
from typing import Any

import pytest

from ocppd.system import helper
from ocppd.system.handover import Handover, Request
from tests.fileservers import build_deb

pytestmark = pytest.mark.skipif(shutil.which("dpkg-deb") is None, reason="needs dpkg-deb")

FAKES = {
    "dpkg-query": """#!/bin/sh
echo "$0 $*" >> "$LOG"
printf 'install ok installed\\n%s' "$(cat "$FAKE/version")"
""",
    "apt-get": """#!/bin/sh
echo "apt-get $*" >> "$LOG"
if [ "$1" = download ]; then exit 1; fi
if [ -e "$FAKE/apt-fails" ]; then echo "E: broken" >&2; exit 100; fi
exit 0
""",
    "systemctl": """#!/bin/sh
echo "systemctl $*" >> "$LOG"
if [ "$1" = show ]; then
    n=$(cat "$FAKE/restarts" 2>/dev/null || echo 0)
    if [ -e "$FAKE/crash-loop" ]; then echo $((n + 1)) > "$FAKE/restarts"; fi
    echo "$n"; exit 0
fi
if [ "$1" = restart ] && [ -e "$FAKE/comes-up" ]; then
    id=$(sed -n 's/.*"id": "\\([^"]*\\)".*/\\1/p' "$FAKE/request-id")
    printf '{"id": "%s", "version": "2.0"}' "$id" > "$STATE/update/registered.json"
fi
exit 0
""",
}


class Box:
    def __init__(self, tmp: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.tmp = tmp
        self.bin, self.fake, self.state = tmp / "bin", tmp / "fake", tmp / "state"
        self.keep, self.archives = tmp / "keep", tmp / "archives"
        for d in (self.bin, self.fake, self.state, self.archives):
            d.mkdir()
        for name, text in FAKES.items():
            path = self.bin / name
            path.write_text(text)
            path.chmod(path.stat().st_mode | stat.S_IXUSR)
        self.log = tmp / "calls.log"
        self.log.write_text("")
        (self.fake / "version").write_text("1.0")
        monkeypatch.setenv("PATH", f"{self.bin}:{os.environ['PATH']}")
        monkeypatch.setenv("LOG", str(self.log))
        monkeypatch.setenv("FAKE", str(self.fake))
        monkeypatch.setenv("STATE", str(self.state))
        monkeypatch.chdir(tmp)
        self.config = tmp / "ocppd.toml"
        self.config.write_text(
            f'[storage]\nstate_dir = "{self.state}"\n[firmware]\nhealth_timeout_s = 30\n'
        )
        (self.archives / "ocppd_1.0_all.deb").write_bytes(build_deb(tmp, version="1.0"))
        self.clock = 0.0

    def request(self, name: str = "ocppd", version: str = "2.0") -> str:
        package = self.state / "firmware" / "r1.deb"
        package.parent.mkdir(exist_ok=True)
        package.write_bytes(build_deb(self.tmp, name=name, version=version))
        Handover(self.state).request(Request("r1", str(package), name, version))
        (self.fake / "request-id").write_text('{"id": "r1"}')
        return "r1"

    def sleep(self, seconds: float) -> None:
        self.clock += seconds

    def run(self) -> str | None:
        return helper.update(
            self.config,
            keep=self.keep,
            archives=self.archives,
            architecture="amd64",
            sleep=self.sleep,
            now=lambda: self.clock,
        )

    def calls(self) -> list[str]:
        return [line for line in self.log.read_text().splitlines() if "dpkg-query" not in line]

    def outcome(self) -> dict[str, Any]:
        return json.loads((self.state / "update" / "outcome.json").read_text())


@pytest.fixture
def box(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Box:
    return Box(tmp_path, monkeypatch)


def test_installs_keeps_the_previous_package_and_waits_for_registration(box: Box) -> None:
    box.request()
    (box.fake / "comes-up").touch()
    assert box.run() == "Installed"
    calls = box.calls()
    install = [c for c in calls if c.startswith("apt-get install")]
    assert install == [f"apt-get {' '.join(helper.APT_INSTALL[1:])} {box.keep / 'new.deb'}"]
    assert calls.index(install[0]) < calls.index("systemctl restart ocppd.service")
    assert box.outcome() == {"id": "r1", "result": "Installed"}
    assert (box.keep / "previous.deb").read_bytes() == (
        box.archives / "ocppd_1.0_all.deb"
    ).read_bytes()
    shown = subprocess.run(
        ["dpkg-deb", "--show", str(box.keep / "current.deb")],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert shown.split() == ["ocppd", "2.0"]
    assert not (box.state / "update" / "request.json").exists()  # the path unit rests


def test_no_registration_in_time_rolls_back(box: Box) -> None:
    box.request()
    assert box.run() == "InstallationFailed"
    installs = [c for c in box.calls() if c.startswith("apt-get install")]
    assert [c.split()[-1] for c in installs] == [
        str(box.keep / "new.deb"),
        str(box.keep / "previous.deb"),
    ]
    outcome = box.outcome()
    assert outcome["result"] == "InstallationFailed"
    assert "did not register within 30 s" in outcome["reason"]
    assert box.calls()[-1] == "systemctl restart ocppd.service"  # the old one reports it
    assert box.clock >= 30


def test_a_crash_loop_rolls_back_before_the_timeout(box: Box) -> None:
    box.request()
    (box.fake / "crash-loop").touch()
    assert box.run() == "InstallationFailed"
    assert "crash-loops" in box.outcome()["reason"]
    assert box.clock < 30
    assert box.calls()[-2].endswith(str(box.keep / "previous.deb"))


@pytest.mark.skipif(os.geteuid() != 0, reason="giving a file away needs root, as the helper is")
@pytest.mark.parametrize("crash", [False, True])
def test_the_outcome_belongs_to_the_daemons_user_who_must_read_it(box: Box, crash: bool) -> None:
    """The helper is root; the daemon (user ocppd, owner of state_dir/update) reads
    outcome.json at start. A root-owned 0640 file would be unreadable to it, and a
    rollback would never be reported (found by tests/install/test_firmware_update.py)."""
    box.request()
    (box.fake / ("crash-loop" if crash else "comes-up")).touch()
    nobody = (65534, 65534)
    os.chown(box.state / "update", *nobody)
    assert box.run() == ("InstallationFailed" if crash else "Installed")
    written = (box.state / "update" / "outcome.json").stat()
    assert (written.st_uid, written.st_gid) == nobody
    assert stat.S_IMODE(written.st_mode) == 0o640


def test_a_package_the_config_does_not_allow_is_never_installed(box: Box) -> None:
    box.request(name="evil")
    assert box.run() == "InstallationFailed"
    assert "not allowed" in box.outcome()["reason"]
    assert not [c for c in box.calls() if c.startswith("apt-get install")]


def test_without_a_package_to_roll_back_to_nothing_is_installed(box: Box) -> None:
    (box.archives / "ocppd_1.0_all.deb").unlink()
    box.request()
    assert box.run() == "InstallationFailed"
    assert "cannot be kept for rollback" in box.outcome()["reason"]
    assert not [c for c in box.calls() if c.startswith("apt-get install")]


def test_a_link_planted_as_the_package_is_not_followed(box: Box) -> None:
    box.request()
    package = box.state / "firmware" / "r1.deb"
    package.unlink()
    package.symlink_to(box.archives / "ocppd_1.0_all.deb")
    assert box.run() == "InstallationFailed"
    assert not [c for c in box.calls() if c.startswith("apt-get install")]


def test_a_failing_apt_rolls_back(box: Box) -> None:
    box.request()
    (box.fake / "apt-fails").touch()
    assert box.run() == "InstallationFailed"
    reason = box.outcome()["reason"]
    assert "exited 100" in reason and "rollback failed too" in reason


def test_no_request_is_no_work(box: Box) -> None:
    assert box.run() is None
    assert box.calls() == []


def test_a_request_for_a_file_outside_the_download_directory_is_refused(box: Box) -> None:
    box.request()
    request = box.state / "update" / "request.json"
    raw = json.loads(request.read_text())
    raw["file"] = str(box.state / "firmware" / ".." / ".." / "archives" / "ocppd_1.0_all.deb")
    request.write_text(json.dumps(raw))
    assert box.run() == "InstallationFailed"
    assert "no file in the state directory" in box.outcome()["reason"]
    assert not [c for c in box.calls() if c.startswith("apt-get install")]


def test_a_linked_update_directory_is_never_written_through(box: Box) -> None:
    elsewhere = box.tmp / "elsewhere"
    elsewhere.mkdir()
    (box.state / "update").symlink_to(elsewhere)
    with pytest.raises(helper.UpdateFailed, match="symbolic link"):
        box.run()
    assert list(elsewhere.iterdir()) == []
    assert helper.main(["-c", str(box.config), "--keep-dir", str(box.keep)]) == 1
