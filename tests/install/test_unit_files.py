"""The packaging sources, checked without installing anything (runs in ``make unit``).

The unit is checked offline with systemd-analyze, which works without systemd as
PID 1: ``verify`` must print nothing (it only warns about unknown keys and bad
values, so any output is a failure), and ``security --offline=yes`` must rate it
2.0 or better. The binary path is substituted because ``verify`` fails when an
``Exec*=`` program is missing, and ocppd is not installed here.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from pkgtools import REPO, changelog_version, run, skip_or_fail

UNIT = REPO / "systemd" / "ocppd.service"
PWM_DROPIN = REPO / "systemd" / "sysfs-pwm.conf"
POLKIT_RULE = REPO / "systemd" / "ocppd.rules"
MAN_PAGES = sorted((REPO / "docs" / "man").glob("*.[1-8]"))
SHELL_SCRIPTS = [
    REPO / "tools" / "build-deb.sh",
    REPO / "debian" / "ocppd.postinst",
    REPO / "debian" / "ocppd.postrm",
]
MAX_EXPOSURE = 2.0


def _systemd_analyze() -> str:
    tool = shutil.which("systemd-analyze")
    if tool is None:
        skip_or_fail("systemd-analyze is not installed (Debian package systemd)")
    assert tool is not None
    return tool


def _unit_for_ci(tmp_path: Path, extra: str = "") -> Path:
    """The unit with /usr/bin/ocppd replaced by /bin/true, under its own name."""
    text = UNIT.read_text(encoding="utf-8").replace("/usr/bin/ocppd", "/bin/true")
    path = tmp_path / "ocppd.service"
    path.write_text(text + extra, encoding="utf-8")
    return path


def _settings(text: str) -> list[tuple[str, str]]:
    """(key, value) of every assignment, in order; systemd allows repeated keys."""
    out = []
    for raw in text.splitlines():
        line = raw.strip()
        if line and not line.startswith(("#", ";", "[")) and "=" in line:
            key, _, value = line.partition("=")
            out.append((key.strip(), value.strip()))
    return out


def _exposure(tmp_path: Path, unit: Path) -> float:
    proc = run(
        [
            _systemd_analyze(),
            "security",
            "--offline=yes",
            "--threshold=20",
            "--no-pager",
            str(unit),
        ],
        check=False,
        timeout=60,
    )
    match = re.search(r"Overall exposure level for ocppd\.service: (\d+\.\d+)", proc.stdout)
    assert match, proc.stdout + proc.stderr
    assert proc.returncode == 0, f"exposure {match.group(1)} is above 2.0:\n{proc.stdout}"
    return float(match.group(1))


def test_unit_passes_systemd_analyze_verify_silently(tmp_path: Path) -> None:
    proc = run(
        [_systemd_analyze(), "verify", "--man=no", str(_unit_for_ci(tmp_path))],
        check=False,
        timeout=60,
    )
    assert (proc.returncode, proc.stdout + proc.stderr) == (0, "")


def test_unit_security_exposure_is_at_most_2_0(tmp_path: Path) -> None:
    assert _exposure(tmp_path, _unit_for_ci(tmp_path)) <= MAX_EXPOSURE


def test_unit_with_the_sysfs_pwm_dropin_stays_at_most_2_0(tmp_path: Path) -> None:
    # A drop-in's assignments override the unit's, as if appended to it.
    dropin = PWM_DROPIN.read_text(encoding="utf-8")
    assert ("ProtectKernelTunables", "no") in _settings(dropin)
    assert _exposure(tmp_path, _unit_for_ci(tmp_path, "\n" + dropin)) <= MAX_EXPOSURE


def test_unit_has_what_the_package_and_the_daemon_rely_on() -> None:
    settings = _settings(UNIT.read_text(encoding="utf-8"))
    for expected in [
        ("Type", "notify"),
        ("NotifyAccess", "main"),
        ("ExecStartPre", "/usr/bin/ocppd check-config"),
        ("ExecStart", "/usr/bin/ocppd run"),
        ("ExecReload", "/bin/kill -HUP $MAINPID"),
        ("Restart", "on-failure"),
        ("RestartPreventExitStatus", "78"),
        ("User", "ocppd"),
        ("StateDirectory", "ocppd"),
        ("RuntimeDirectory", "ocppd"),
        ("WorkingDirectory", "/run/ocppd"),
        ("Environment", "GPIOZERO_PIN_FACTORY=lgpio"),
        ("DevicePolicy", "closed"),
        ("WantedBy", "multi-user.target"),
    ]:
        assert expected in settings
    watchdog = dict(settings)["WatchdogSec"]
    assert 10 <= int(watchdog) <= 120
    devices = {value.split()[0] for key, value in settings if key == "DeviceAllow"}
    assert {"char-gpiochip", "char-ttyAMA", "char-ttyS", "char-ttyUSB", "char-ttyACM"} <= devices


def test_documentation_of_the_unit_names_pages_the_package_ships() -> None:
    settings = dict(_settings(UNIT.read_text(encoding="utf-8")))
    pages = re.findall(r"man:([\w.-]+)\((\d)\)", settings["Documentation"])
    assert pages
    shipped = {p.name for p in MAN_PAGES}
    listed = (REPO / "debian" / "ocppd.manpages").read_text(encoding="utf-8").split()
    for name, section in pages:
        assert f"{name}.{section}" in shipped
        assert f"docs/man/{name}.{section}" in listed


def test_man_pages_render_without_warnings() -> None:
    if shutil.which("man") is None:
        pytest.skip("man (man-db) is not installed")
    assert MAN_PAGES
    for page in MAN_PAGES:
        proc = run(
            ["man", "--warnings", "-E", "UTF-8", "-l", "-Tutf8", "-Z", str(page)],
            check=False,
            env={"PATH": "/usr/bin:/bin", "LC_ALL": "C.UTF-8", "MANROFFSEQ": "", "MANWIDTH": "80"},
        )
        assert (page.name, proc.returncode, proc.stderr) == (page.name, 0, "")


def test_shell_scripts_pass_shellcheck() -> None:
    if shutil.which("shellcheck") is None:
        pytest.skip("shellcheck is not installed")
    proc = run(["shellcheck", "-s", "sh", *map(str, SHELL_SCRIPTS)], check=False)
    assert proc.returncode == 0, proc.stdout


def test_package_version_is_the_python_version() -> None:
    init = (REPO / "ocppd" / "__init__.py").read_text(encoding="utf-8")
    match = re.search(r'^__version__ = "([^"]+)"$', init, re.MULTILINE)
    assert match
    assert changelog_version() == match.group(1)


def test_polkit_rule_names_logind_reboot_actions_for_user_ocppd() -> None:
    rule = POLKIT_RULE.read_text(encoding="utf-8")
    actions = set(re.findall(r'action\.id == "([^"]+)"', rule))
    assert actions == {
        "org.freedesktop.login1.reboot",
        "org.freedesktop.login1.reboot-multiple-sessions",
    }
    assert 'subject.user == "ocppd"' in rule
    policy = Path("/usr/share/polkit-1/actions/org.freedesktop.login1.policy")
    if policy.exists():
        text = policy.read_text(encoding="utf-8")
        for action in actions:
            assert f'action id="{action}"' in text


UPDATE_PATH = REPO / "systemd" / "ocppd-update.path"
UPDATE_SERVICE = REPO / "systemd" / "ocppd-update.service"


def test_update_helper_units_verify_silently(tmp_path: Path) -> None:
    service = UPDATE_SERVICE.read_text(encoding="utf-8").replace(
        "/usr/bin/python3 -m ocppd.system.helper", "/bin/true"
    )
    (tmp_path / "ocppd-update.service").write_text(service, encoding="utf-8")
    shutil.copy(UPDATE_PATH, tmp_path / "ocppd-update.path")
    proc = run(
        [
            _systemd_analyze(),
            "verify",
            "--man=no",
            str(tmp_path / "ocppd-update.path"),
            str(tmp_path / "ocppd-update.service"),
        ],
        check=False,
        timeout=60,
    )
    assert (proc.returncode, proc.stdout + proc.stderr) == (0, "")


def test_update_path_watches_the_request_the_daemon_writes() -> None:
    from ocppd.config import STORAGE_OPTIONS
    from ocppd.system.handover import REQUEST, UPDATE_DIR

    state_dir = next(o.default for o in STORAGE_OPTIONS if o.name == "state_dir")
    path = dict(_settings(UPDATE_PATH.read_text(encoding="utf-8")))
    assert path["PathExists"] == f"{state_dir}/{UPDATE_DIR}/{REQUEST}"
    assert path["Unit"] == "ocppd-update.service"
    service = dict(_settings(UPDATE_SERVICE.read_text(encoding="utf-8")))
    assert service["Type"] == "oneshot"
    assert service["ExecStart"].startswith("/usr/bin/python3 -m ocppd.system.helper")
    assert "User" not in service  # root: it runs apt; the daemon's own unit stays unprivileged
    daemon = dict(_settings(UNIT.read_text(encoding="utf-8")))
    assert daemon["User"] == "ocppd" and daemon["NoNewPrivileges"] == "yes"


def test_an_upgrade_never_stops_or_restarts_the_helper_that_runs_it() -> None:
    rules = (REPO / "debian" / "rules").read_text(encoding="utf-8")
    line = next(x for x in rules.splitlines() if "--name=ocppd-update" in x)
    assert "--no-stop-on-upgrade" in line and "--no-restart-after-upgrade" in line
    for unit in ("ocppd-update.path", "ocppd-update.service"):
        link = REPO / "debian" / f"ocppd.{unit}"
        assert link.resolve() == (REPO / "systemd" / unit).resolve()
