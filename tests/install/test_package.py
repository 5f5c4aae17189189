"""The Debian package, installed on this machine with apt-get (root; marker ``install``).

The first fixture use purges any earlier ocppd and installs the .deb with
``apt-get install -y ./build/deb/ocppd_<version>_all.deb``, so apt resolves Debian's
own python3-* packages (trio 0.22, pymodbus 3.0 ...). The tests then look at what
an installer gets: the user, file modes, the unit (checked offline: there is no
systemd PID 1 in CI containers), the polkit rule, the installed commands, one
registration and charging session of the installed daemon against an independent
central system, an upgrade, removal and purge. The tests run in file order; the
last one purges, and the session ends purged in any case.
"""

from __future__ import annotations

import grp
import hashlib
import json
import os
import pwd
import re
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import trio
from pkgtools import (
    CLEAN_ENV,
    CONFIG,
    DEBIAN_PYTHON,
    HARDWARE_GROUPS,
    OCPPCTL,
    OCPPD,
    PACKAGE,
    STATE_DIR,
    USER,
    Charger,
    apt_get,
    installed_unit,
    package_status,
    run,
    skip_or_fail,
    supplementary_groups,
)

pytestmark = pytest.mark.install

WANTS_LINK = Path("/etc/systemd/system/multi-user.target.wants/ocppd.service")
DEBIAN_LIBRARIES = ("trio", "trio_websocket", "pymodbus", "gpiozero", "serial", "serial_asyncio")


def _groups_of(user: str) -> set[str]:
    pw = pwd.getpwnam(user)
    return {grp.getgrgid(g).gr_name for g in os.getgrouplist(user, pw.pw_gid)}


def _exposure_of_installed_unit() -> tuple[int, str]:
    proc = run(
        [
            "systemd-analyze",
            "security",
            "--offline=yes",
            "--threshold=20",
            "--no-pager",
            "ocppd.service",
        ],
        check=False,
    )
    return proc.returncode, proc.stdout + proc.stderr


# --- what apt installed -----------------------------------------------------------------


def test_apt_installs_it_with_debians_own_python_packages(installed: Path) -> None:
    assert package_status() == "install ok installed"
    for program in (OCPPD, OCPPCTL):
        shebang = Path(program).read_text(encoding="utf-8").splitlines()[0]
        assert shebang == "#!/usr/bin/python3"
    code = (
        "import importlib, json, pymodbus.client\n"
        f"names = {[*DEBIAN_LIBRARIES, 'ocppd', 'hal']!r}\n"
        "print(json.dumps({n: importlib.import_module(n).__file__ for n in names}))"
    )
    files = json.loads(run([DEBIAN_PYTHON, "-I", "-c", code]).stdout)
    for name, path in files.items():
        assert path.startswith("/usr/lib/python3/dist-packages/"), (name, path)
        owner = run(["dpkg-query", "-S", path]).stdout.split(":")[0]
        if name in ("ocppd", "hal"):
            assert owner == PACKAGE, (name, owner)
        else:
            assert owner.startswith("python3-"), (name, owner)


def test_system_user_ocppd_is_in_the_hardware_groups_that_exist(
    installed: Path, created_groups: list[str]
) -> None:
    pw = pwd.getpwnam(USER)
    assert pw.pw_uid < 1000
    assert (pw.pw_dir, pw.pw_shell) == ("/var/lib/ocppd", "/usr/sbin/nologin")
    groups = _groups_of(USER)
    for group in HARDWARE_GROUPS:
        try:
            grp.getgrnam(group)
        except KeyError:
            assert group not in groups
        else:
            assert group in groups, f"{USER} is not in the existing group {group}"
    assert "gpio" in groups  # exists: created for this test when the machine lacked it


def test_config_is_an_unmodified_conffile_readable_by_group_ocppd_only(installed: Path) -> None:
    st = CONFIG.stat()
    assert (oct(st.st_mode & 0o7777), st.st_uid, st.st_gid) == (
        oct(0o640),
        0,
        grp.getgrnam(USER).gr_gid,
    )
    conffiles = run(["dpkg-query", "-W", "-f=${Conffiles}", PACKAGE]).stdout.split("\n")
    entries = dict(line.split()[:2] for line in conffiles if line.strip())
    assert entries[str(CONFIG)] == hashlib.md5(CONFIG.read_bytes()).hexdigest()


def test_service_is_enabled_at_boot(installed: Path) -> None:
    assert WANTS_LINK.is_symlink()
    assert WANTS_LINK.resolve() == installed_unit().resolve()


def test_installed_unit_verifies_silently(installed: Path) -> None:
    # By name: the installed unit with any drop-ins, including its man: links.
    man = "yes" if shutil.which("man", path=CLEAN_ENV["PATH"]) else "no"
    proc = run(["systemd-analyze", "verify", f"--man={man}", "ocppd.service"], check=False)
    assert (proc.returncode, proc.stdout + proc.stderr) == (0, "")


def test_installed_unit_security_exposure_is_at_most_2_0(installed: Path) -> None:
    returncode, output = _exposure_of_installed_unit()
    match = re.search(r"Overall exposure level for ocppd\.service: (\d+\.\d+)", output)
    assert match, output
    assert (returncode, float(match.group(1)) <= 2.0) == (0, True), output


def test_service_runs_under_systemd_when_systemd_is_pid_1(
    installed: Path, daemon_cli: None
) -> None:
    """Only on a machine booted with systemd (not in a container): the sandbox for real."""
    if not Path("/run/systemd/system").is_dir():
        pytest.skip("systemd is not PID 1 here: the unit was checked offline only")
    state = ""
    for _ in range(60):  # the postinst started it; at most ~30 s to READY=1
        state = run(["systemctl", "is-active", "ocppd"], check=False).stdout.strip()
        if state in ("active", "failed"):
            break
        subprocess.run(["sleep", "0.5"], check=True, timeout=5)
    journal = run(["journalctl", "-u", "ocppd", "-n", "50", "--no-pager"], check=False).stdout
    assert state == "active", journal
    pid = run(["systemctl", "show", "-p", "MainPID", "--value", "ocppd"]).stdout.strip()
    assert pwd.getpwuid(Path(f"/proc/{pid}").stat().st_uid).pw_name == USER
    assert run([OCPPCTL, "status"], check=False).returncode == 0, journal
    run(["systemctl", "reload", "ocppd"])
    assert run(["systemctl", "show", "-p", "MainPID", "--value", "ocppd"]).stdout.strip() == pid


def test_upgrades_restart_the_service_and_never_stop_it_first(
    installed: Path, tmp_path: Path
) -> None:
    # dh_installsystemd --no-start would stop it in preinst and leave it stopped.
    run(["dpkg-deb", "-e", str(installed), str(tmp_path / "control")])
    assert not (tmp_path / "control" / "preinst").exists()
    postinst = (tmp_path / "control" / "postinst").read_text(encoding="utf-8")
    assert "_dh_action=restart" in postinst
    assert "deb-systemd-invoke $_dh_action 'ocppd.service'" in postinst


# --- the polkit rule for hard resets ----------------------------------------------------


@pytest.fixture
def private_polkit() -> Iterator[dict[str, str]]:
    """polkitd on a private system bus (no effect on the machine's own bus, if any)."""
    tools = ("dbus-daemon", "dbus-send", "pkcheck")
    polkitd = Path("/usr/lib/polkit-1/polkitd")
    if not polkitd.exists() or any(shutil.which(t, path=CLEAN_ENV["PATH"]) is None for t in tools):
        pytest.skip("polkitd (Recommends) is not installed: nothing would read the rule")
    # polkitd drops to its own user: the bus socket must be reachable for it
    tmp_path = Path(tempfile.mkdtemp(prefix="ocppd-polkit-test-", dir="/tmp"))
    tmp_path.chmod(0o755)
    system_conf = Path("/usr/share/dbus-1/system.conf").read_text(encoding="utf-8")
    socket = tmp_path / "system_bus_socket"
    conf = (
        system_conf.replace("<user>messagebus</user>", "")
        .replace("<pidfile>/run/dbus/pid</pidfile>", "")
        .replace("unix:path=/run/dbus/system_bus_socket", f"unix:path={socket}")
        .replace(
            "<includedir>system.d</includedir>",
            "<includedir>/usr/share/dbus-1/system.d</includedir>",
        )
    )
    (tmp_path / "bus.conf").write_text(conf, encoding="utf-8")
    env = {**CLEAN_ENV, "DBUS_SYSTEM_BUS_ADDRESS": f"unix:path={socket}"}
    procs: list[subprocess.Popen[bytes]] = []
    try:
        procs.append(
            subprocess.Popen(
                ["dbus-daemon", f"--config-file={tmp_path / 'bus.conf'}", "--nofork", "--nosyslog"],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
        procs.append(
            subprocess.Popen(
                [str(polkitd), "--no-debug"],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
        ask = [
            "dbus-send",
            "--system",
            "--print-reply",
            "--dest=org.freedesktop.DBus",
            "/org/freedesktop/DBus",
            "org.freedesktop.DBus.NameHasOwner",
            "string:org.freedesktop.PolicyKit1",
        ]
        for _ in range(100):  # at most ~10 s
            proc = run(ask, check=False, env=env, timeout=10)
            if "boolean true" in proc.stdout:
                break
            subprocess.run(["sleep", "0.1"], check=True, timeout=5)
        else:
            pytest.fail("polkitd did not come up on the private bus", pytrace=False)
        yield env
    finally:
        for p in reversed(procs):
            p.terminate()
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(timeout=10)
        shutil.rmtree(tmp_path, ignore_errors=True)


def test_polkit_lets_user_ocppd_and_no_one_else_reboot(
    installed: Path, private_polkit: dict[str, str]
) -> None:
    def subject(user: str, group: str) -> subprocess.Popen[bytes]:
        groups = supplementary_groups(user) if user == USER else []
        return subprocess.Popen(["sleep", "60"], user=user, group=group, extra_groups=groups)

    ocppd, nobody = subject(USER, USER), subject("nobody", "nogroup")
    try:

        def allowed(action: str, pid: int) -> bool:
            proc = run(
                ["pkcheck", "--action-id", action, "--process", str(pid)],
                check=False,
                env=private_polkit,
                timeout=20,
            )
            assert proc.returncode in (0, 1, 2), proc.stderr  # 3+: the check itself failed
            return proc.returncode == 0

        assert allowed("org.freedesktop.login1.reboot", ocppd.pid)
        assert allowed("org.freedesktop.login1.reboot-multiple-sessions", ocppd.pid)
        assert not allowed("org.freedesktop.login1.reboot-ignore-inhibit", ocppd.pid)
        assert not allowed("org.freedesktop.login1.power-off", ocppd.pid)
        assert not allowed("org.freedesktop.login1.reboot", nobody.pid)
    finally:
        for p in (ocppd, nobody):
            p.kill()
            p.wait(timeout=10)


# --- the installed commands -------------------------------------------------------------


def test_installed_commands_run_on_debians_python(
    installed: Path, daemon_cli: None, deb_version: str, charger: Charger
) -> None:
    version = run([OCPPD, "--version"])
    assert deb_version.split("+", maxsplit=1)[0] in version.stdout + version.stderr

    # As ExecStartPre= runs it: user ocppd reading the packaged root:ocppd 0640 file.
    packaged = run([OCPPD, "check-config"], user=USER, check=False)
    assert packaged.returncode == 0, packaged.stderr

    broken = charger.config
    broken.write_text('[ocpp]\nurl = 42\ncharge_point_id = "CP0001"\n', encoding="utf-8")
    broken.chmod(0o644)
    refused = run([OCPPD, "check-config", "-c", str(broken)], user=USER, check=False)
    assert refused.returncode == 78, refused.stderr
    assert any(line.startswith(f"{broken}: ocpp.url: ") for line in refused.stderr.splitlines()), (
        refused.stderr
    )

    unreachable = run([OCPPCTL, "-s", str(charger.root / "no.sock"), "status"], check=False)
    assert unreachable.returncode == 3, unreachable.stderr


# --- the installed daemon: the packaged config, one session against a central system ---


@pytest.fixture
def service_dirs(installed: Path) -> Iterator[Path]:
    """/var/lib/ocppd and /run/ocppd as StateDirectory=/RuntimeDirectory= (0750) make them,
    for running the daemon without systemd; yields the runtime directory."""
    if Path("/run/systemd/system").is_dir():
        pytest.skip("systemd is PID 1: the service itself runs the packaged config")
    user = pwd.getpwnam(USER)
    runtime = Path("/run/ocppd")
    for directory in (STATE_DIR, runtime):
        directory.mkdir(mode=0o750, exist_ok=True)
        os.chown(directory, user.pw_uid, user.pw_gid)
    yield runtime
    shutil.rmtree(runtime, ignore_errors=True)  # a tmpfs under systemd; the state stays


async def test_packaged_config_starts_harmlessly_with_the_services_layout(
    installed: Path, daemon_cli: None, charger: Charger, service_dirs: Path
) -> None:
    """What the postinst starts on install and upgrade: /usr/bin/ocppd run on the unedited
    /etc/ocppd.toml, as user ocppd, in the directories the unit gives it. It must come up
    (READY=1) and keep running without a central system, so an upgrade never leaves a
    charger stopped, and stop with exit 0 on SIGTERM."""
    user = pwd.getpwnam(USER)
    runtime = service_dirs
    notes: list[str] = []
    ready = trio.Event()
    with trio.fail_after(60):
        async with trio.open_nursery() as nursery:
            notify = trio.socket.socket(trio.socket.AF_UNIX, trio.socket.SOCK_DGRAM)
            await notify.bind(str(charger.notify_socket))
            os.chown(charger.notify_socket, user.pw_uid, user.pw_gid)

            async def read_notifications() -> None:
                while True:
                    notes.append((await notify.recv(4096)).decode(errors="replace"))
                    if "READY=1" in notes[-1].split("\n"):
                        ready.set()

            nursery.start_soon(read_notifications)
            env = {
                **CLEAN_ENV,
                "HOME": str(runtime),
                "NOTIFY_SOCKET": str(charger.notify_socket),
            }
            with charger.open_log() as log:
                proc = await trio.lowlevel.open_process(
                    [OCPPD, "run"],
                    env=env,
                    cwd=str(runtime),
                    user=USER,
                    group=USER,
                    extra_groups=supplementary_groups(USER),
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            try:
                with trio.fail_after(30):
                    await ready.wait()
                await trio.sleep(3)  # connection attempts to the placeholder address
                assert proc.poll() is None, "the packaged config made the daemon exit"
                status = await trio.run_process(
                    [OCPPCTL, "status", "--json"],
                    capture_stdout=True,
                    capture_stderr=True,
                    check=False,
                    env=CLEAN_ENV,
                )
                assert status.returncode == 0, status.stderr.decode()
                # The socket is for root and group ocppd: a member may use ocppctl,
                # others cannot reach the daemon (exit 3).
                for extra_groups, expected in (([user.pw_gid], 0), ([], 3)):
                    as_nobody = await trio.run_process(
                        [OCPPCTL, "status"],
                        capture_stdout=True,
                        capture_stderr=True,
                        check=False,
                        env=CLEAN_ENV,
                        user="nobody",
                        group="nogroup",
                        extra_groups=extra_groups,
                    )
                    assert as_nobody.returncode == expected, (extra_groups, as_nobody.stderr)
                proc.send_signal(signal.SIGTERM)
                with trio.fail_after(30):
                    assert await proc.wait() == 0
            except BaseException as exc:
                exc.add_note(
                    f"--- daemon log (tail)\n{charger.log_tail()}\n--- sd_notify: {notes[-5:]}"
                )
                raise
            finally:
                if proc.returncode is None:
                    proc.kill()
                    with trio.move_on_after(10):
                        await proc.wait()
                nursery.cancel_scope.cancel()


def _import_csms() -> Any:
    try:
        from ocppd.testing import csms  # in the test venv, not in the package
    except ImportError as exc:
        skip_or_fail(f"the test central system ocppd.testing.csms is not importable: {exc}")
    return csms


async def _ocppctl(charger: Charger, *args: str) -> subprocess.CompletedProcess[bytes]:
    with trio.fail_after(15):
        return await trio.run_process(
            [OCPPCTL, "-s", str(charger.socket), *args],
            capture_stdout=True,
            capture_stderr=True,
            check=False,
            env=CLEAN_ENV,
        )


async def _status(charger: Charger) -> dict[str, Any]:
    proc = await _ocppctl(charger, "status", "--json")
    assert proc.returncode == 0, proc.stderr.decode()
    result: dict[str, Any] = json.loads(proc.stdout)
    return result


async def test_registration_and_charging_session_with_the_installed_daemon(
    installed: Path, daemon_cli: None, charger: Charger
) -> None:
    """The SESSION PART: /usr/bin/ocppd (Debian's python3 and libraries) as user ocppd,
    against ocppd.testing.csms (the ``ocpp`` package's strict validation) on loopback."""
    csms_module = _import_csms()
    csms = csms_module.CentralSystem()
    tag = "04A2B3C4"
    notes: list[str] = []
    ready = trio.Event()
    user = pwd.getpwnam(USER)

    async def read_notifications(sock: trio.socket.SocketType) -> None:
        while True:
            data = await sock.recv(4096)
            notes.append(data.decode(errors="replace"))
            if "READY=1" in data.decode(errors="replace").split("\n"):
                ready.set()

    with trio.fail_after(120):
        async with trio.open_nursery() as nursery:
            await nursery.start(csms.serve)
            config = charger.write_config(csms.url)

            notify = trio.socket.socket(trio.socket.AF_UNIX, trio.socket.SOCK_DGRAM)
            await notify.bind(str(charger.notify_socket))
            os.chown(charger.notify_socket, user.pw_uid, user.pw_gid)
            nursery.start_soon(read_notifications, notify)

            env = {
                **CLEAN_ENV,
                "HOME": str(charger.root),
                "NOTIFY_SOCKET": str(charger.notify_socket),
                "WATCHDOG_USEC": "2000000",
            }
            with charger.open_log() as log:
                proc = await trio.lowlevel.open_process(
                    [OCPPD, "run", "-c", str(config)],
                    env=env,
                    cwd=str(charger.root / "run"),
                    user=USER,
                    group=USER,
                    extra_groups=supplementary_groups(USER),
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            try:
                await _session(charger, csms, proc, tag, ready)
                assert any("WATCHDOG=1" in n.split("\n") for n in notes), notes
                assert csms.violations == []
            except BaseException as exc:
                exc.add_note(
                    f"--- daemon log (tail)\n{charger.log_tail()}\n--- sd_notify: {notes[-5:]}"
                )
                raise
            finally:
                if proc.returncode is None:
                    proc.kill()
                    with trio.move_on_after(10):
                        await proc.wait()
                nursery.cancel_scope.cancel()

    owners = {p.stat().st_uid for p in charger.state_dir.rglob("*")}
    assert owners == {user.pw_uid}, "the daemon writes its state as user ocppd"


async def _session(
    charger: Charger, csms: Any, proc: trio.Process, tag: str, ready: trio.Event
) -> None:
    with trio.fail_after(30):
        await ready.wait()  # Type=notify: READY=1 without waiting for the central system
    with trio.fail_after(30):
        station = await csms.wait_station(charger.charge_point_id)
        boot = await station.wait_for("BootNotification")
    assert boot.payload["chargePointVendor"] == "ocppd-install-test"

    with trio.fail_after(15):
        while (await _status(charger))["connection"]["registration"] != "Accepted":
            await trio.sleep(0.2)

    for args in (("sim", "plug", "1"), ("swipe", tag)):
        done = await _ocppctl(charger, *args)
        assert done.returncode == 0, (args, done.stderr.decode())
    with trio.fail_after(20):
        start = await station.wait_for("StartTransaction")
    assert (start.payload["connectorId"], start.payload["idTag"]) == (1, tag)
    answers = [
        f
        for cp, f in csms.frames
        if cp == charger.charge_point_id
        and f.direction == "out"
        and f.unique_id == start.unique_id
        and f.message_type == 3
    ]
    transaction_id = answers[0].payload["transactionId"]
    with trio.fail_after(15):
        while (await _status(charger))["connectors"][0]["transaction"] is None:
            await trio.sleep(0.2)

    # Stop the way a driver does: the same tag again; failing that, pull the cable.
    assert (await _ocppctl(charger, "swipe", tag)).returncode == 0
    stop = None
    with trio.move_on_after(15):
        stop = await station.wait_for("StopTransaction")
    assert (await _ocppctl(charger, "sim", "unplug", "1")).returncode == 0
    if stop is None:
        with trio.fail_after(15):
            stop = await station.wait_for("StopTransaction")
    assert stop.payload["transactionId"] == transaction_id

    # SIGHUP re-reads the configuration and keeps running.
    proc.send_signal(signal.SIGHUP)
    await trio.sleep(1)
    assert proc.poll() is None
    assert (await _status(charger))["connectors"][0]["transaction"] is None

    # SIGTERM: orderly stop, exit 0.
    proc.send_signal(signal.SIGTERM)
    with trio.fail_after(30):
        assert await proc.wait() == 0


# --- upgrade, remove, purge (they change the installation: keep them last) --------------


def _repack(deb: Path, version: str, tmp_path: Path, config_line: str = "") -> Path:
    """The same package under another version, optionally with a changed default config."""
    tree = tmp_path / f"tree-{version}"
    run(["dpkg-deb", "-R", str(deb), str(tree)])
    control = tree / "DEBIAN" / "control"
    control.write_text(
        re.sub(r"(?m)^Version: .*$", f"Version: {version}", control.read_text(encoding="utf-8")),
        encoding="utf-8",
    )
    if config_line:
        packaged = tree / "etc" / "ocppd.toml"
        packaged.write_text(
            packaged.read_text(encoding="utf-8") + config_line + "\n", encoding="utf-8"
        )
        md5sums = tree / "DEBIAN" / "md5sums"
        digest = hashlib.md5(packaged.read_bytes()).hexdigest()
        md5sums.write_text(
            re.sub(
                r"(?m)^\w+(  etc/ocppd\.toml)$", rf"{digest}\1", md5sums.read_text(encoding="utf-8")
            ),
            encoding="utf-8",
        )
    out = tmp_path / f"{PACKAGE}_{version}_all.deb"
    run(["dpkg-deb", "--root-owner-group", "-b", str(tree), str(out)])
    return out


def _mode_owner(path: Path) -> tuple[str, str, str]:
    st = path.stat()
    return (
        oct(st.st_mode & 0o7777),
        pwd.getpwuid(st.st_uid).pw_name,
        grp.getgrgid(st.st_gid).gr_name,
    )


def test_upgrade_keeps_the_edited_config_its_owner_mode_and_statoverride(
    installed: Path, deb_version: str, tmp_path: Path
) -> None:
    edit = "# edited by tests/install"
    with CONFIG.open("a", encoding="utf-8") as f:
        f.write(edit + "\n")

    same_defaults = _repack(installed, f"{deb_version}+installtest1", tmp_path)
    apt_get("install", str(same_defaults))
    assert CONFIG.read_text(encoding="utf-8").endswith(edit + "\n")
    assert _mode_owner(CONFIG) == (oct(0o640), "root", USER)
    assert not Path(f"{CONFIG}.dpkg-dist").exists()

    # New defaults and a local edit: dpkg keeps the admin's file (confold), the
    # new one goes beside it; neither becomes readable by everyone.
    new_defaults = _repack(
        installed, f"{deb_version}+installtest2", tmp_path, "# new default from the maintainer"
    )
    apt_get("install", str(new_defaults))
    assert CONFIG.read_text(encoding="utf-8").endswith(edit + "\n")
    assert _mode_owner(CONFIG) == (oct(0o640), "root", USER)
    dist = Path(f"{CONFIG}.dpkg-dist")
    assert dist.exists()
    assert dist.stat().st_mode & 0o007 == 0, _mode_owner(dist)

    # An admin's dpkg-statoverride wins over the postinst's 0640.
    run(["dpkg-statoverride", "--update", "--add", "root", USER, "0600", str(CONFIG)])
    try:
        apt_get("install", "--reinstall", str(new_defaults))
        assert _mode_owner(CONFIG) == (oct(0o600), "root", USER)
    finally:
        run(["dpkg-statoverride", "--remove", str(CONFIG)])


def test_remove_keeps_config_and_state_and_purge_deletes_them(installed: Path) -> None:
    # Stands for what the service leaves behind (StateDirectory=ocppd, as user ocppd).
    user = pwd.getpwnam(USER)
    STATE_DIR.mkdir(mode=0o750, exist_ok=True)
    journal = STATE_DIR / "left-by-tests-install"
    journal.write_bytes(b"transactions")
    for path in (STATE_DIR, journal):
        os.chown(path, user.pw_uid, user.pw_gid)
    unit = installed_unit()

    apt_get("remove", PACKAGE)
    assert package_status() == "deinstall ok config-files"
    assert not Path(OCPPD).exists()
    assert not unit.exists()
    assert CONFIG.exists()
    assert journal.read_bytes() == b"transactions"

    apt_get("purge", PACKAGE)
    assert package_status() is None
    assert not CONFIG.exists()
    assert list(CONFIG.parent.glob("ocppd.toml*")) == []
    assert not STATE_DIR.exists()
    assert not WANTS_LINK.exists() and not WANTS_LINK.is_symlink()
    # Debian practice: the system user stays, files elsewhere may still carry its uid.
    assert pwd.getpwnam(USER).pw_uid == user.pw_uid
