"""Helpers for the Debian package tests (imported by conftest.py and the tests)."""

from __future__ import annotations

import grp
import os
import pwd
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import pytest

REPO = Path(__file__).resolve().parents[2]
PACKAGE = "ocppd"
USER = "ocppd"
CONFIG = Path("/etc/ocppd.toml")
STATE_DIR = Path("/var/lib/ocppd")
OCPPD = "/usr/bin/ocppd"
OCPPCTL = "/usr/bin/ocppctl"
DEBIAN_PYTHON = "/usr/bin/python3"
# What the package's postinst joins, when the group exists.
HARDWARE_GROUPS = ("gpio", "dialout", "i2c", "spi")
# Debian's tools only: no pyenv or virtualenv python3 on PATH, no PYTHONPATH.
CLEAN_ENV = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8", "HOME": "/root"}
APT_ENV = {**CLEAN_ENV, "DEBIAN_FRONTEND": "noninteractive"}


def in_ci() -> bool:
    return os.environ.get("CI") == "true"


def skip_or_fail(reason: str) -> None:
    """Skip locally; under CI=true a skip would hide a broken package, so fail."""
    if in_ci():
        pytest.fail(f"{reason} (CI=true: not skipping)", pytrace=False)
    pytest.skip(reason)


def run(
    cmd: list[str],
    *,
    timeout: float = 60,
    check: bool = True,
    env: dict[str, str] | None = None,
    user: str | None = None,
    input: str | None = None,
    cwd: str = "/",
) -> subprocess.CompletedProcess[str]:
    """Run a command with a bounded time; on failure (check) show everything it said.

    It runs in / so that ``python3`` never imports the source tree instead of the package.
    """
    kwargs = {}
    if user is not None:
        kwargs = {"user": user, "group": user, "extra_groups": supplementary_groups(user)}
    proc = subprocess.run(
        cmd,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        input=input,
        cwd=cwd,
        env=CLEAN_ENV if env is None else env,
        **kwargs,
    )
    if check and proc.returncode != 0:
        pytest.fail(
            f"{' '.join(cmd)} exited {proc.returncode}\n--- stdout\n{proc.stdout}"
            f"--- stderr\n{proc.stderr}",
            pytrace=False,
        )
    return proc


def supplementary_groups(user: str) -> list[int]:
    pw = pwd.getpwnam(user)
    return [g for g in os.getgrouplist(user, pw.pw_gid) if g != pw.pw_gid]


def apt_get(*args: str, timeout: float = 900) -> subprocess.CompletedProcess[str]:
    # Other jobs may hold the dpkg lock for a while: wait for it, boundedly.
    # A changed default config never prompts: keep the admin's file, put the new one
    # beside it as .dpkg-dist (what `apt upgrade` on a charger without a terminal needs).
    options = [
        "-o",
        "DPkg::Lock::Timeout=300",
        "-o",
        "Dpkg::Options::=--force-confdef",
        "-o",
        "Dpkg::Options::=--force-confold",
    ]
    return run(["apt-get", "-y", *options, *args], timeout=timeout, env=APT_ENV)


def package_status() -> str | None:
    """dpkg's status of the package ("install ok installed", ...), None when unknown."""
    proc = run(["dpkg-query", "-W", "-f=${Status}", PACKAGE], check=False)
    return proc.stdout.strip() if proc.returncode == 0 and proc.stdout.strip() else None


def installed_version() -> str | None:
    if package_status() != "install ok installed":
        return None
    return run(["dpkg-query", "-W", "-f=${Version}", PACKAGE]).stdout.strip()


def changelog_version() -> str:
    first = (REPO / "debian" / "changelog").read_text(encoding="utf-8").splitlines()[0]
    match = re.match(r"^ocppd \(([^)]+)\)", first)
    assert match, f"debian/changelog starts with {first!r}"
    return match.group(1)


def installed_unit() -> Path:
    """The unit file as installed (/lib/... on bookworm, /usr/lib/... later)."""
    files = run(["dpkg-query", "-L", PACKAGE]).stdout.splitlines()
    units = [f for f in files if f.endswith("/systemd/system/ocppd.service")]
    assert len(units) == 1, f"unit files in the package: {units}"
    return Path(units[0])


def purge_if_present() -> None:
    if package_status() is not None:
        apt_get("purge", PACKAGE)


# --- a charger in a temporary directory ---


@dataclass
class Charger:
    """Files for one daemon run as user ocppd: config, state dir, control socket."""

    root: Path
    charge_point_id: str = "CP-INSTALL-TEST"

    @property
    def config(self) -> Path:
        return self.root / "ocppd.toml"

    @property
    def state_dir(self) -> Path:
        return self.root / "state"

    @property
    def socket(self) -> Path:
        return self.root / "run" / "control.sock"

    @property
    def notify_socket(self) -> Path:
        return self.root / "notify.sock"

    @property
    def log(self) -> Path:
        return self.root / "ocppd.log"

    def write_config(self, url: str) -> Path:
        self.config.write_text(
            f"""\
# written by tests/install: sim devices, everything in {self.root}
[ocpp]
url = "{url}"
charge_point_id = "{self.charge_point_id}"
security_profile = 0

[charge_point]
vendor = "ocppd-install-test"
model = "sim"

[storage]
state_dir = "{self.state_dir}"

[control]
socket = "{self.socket}"

[log]
level = "debug"

[rfid]
driver = "sim"

[[connector]]
id = 1

[connector.contactor]
driver = "sim"

[connector.plug]
driver = "sim"

[connector.meter]
driver = "sim"
""",
            encoding="utf-8",
        )
        os.chown(self.config, 0, grp.getgrnam(USER).gr_gid)
        self.config.chmod(0o640)
        return self.config

    def open_log(self) -> IO[bytes]:
        return self.log.open("ab")

    def log_tail(self, lines: int = 60) -> str:
        try:
            text = self.log.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return "(no daemon log)"
        return "\n".join(text.splitlines()[-lines:])
