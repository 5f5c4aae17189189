"""Fixtures for the Debian package tests.

``test_unit_files.py`` checks the packaging sources and runs anywhere (``make unit``).
``test_package.py`` is marked ``install``: it installs the .deb on this machine with
apt-get (root, Debian), so apt resolves Debian's own python3-* packages, and purges
it again at the end. Without root or apt those tests skip with the reason; under
``CI=true`` they fail instead, because a CI run that silently skips them proves
nothing.

Which .deb: ``$OCPPD_DEB`` if set, else ``build/deb/ocppd_<version>_all.deb`` (what
``make deb`` writes), built with ``tools/build-deb.sh`` when missing.
"""

from __future__ import annotations

import grp
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from pkgtools import (
    CLEAN_ENV,
    CONFIG,
    DEBIAN_PYTHON,
    PACKAGE,
    REPO,
    USER,
    Charger,
    apt_get,
    changelog_version,
    installed_version,
    purge_if_present,
    run,
    skip_or_fail,
)

# --- preconditions ----------------------------------------------------------------------


def _missing_for_install() -> str | None:
    if os.geteuid() != 0:
        return "the install tests need root (they apt-get install the package)"
    for tool in ("apt-get", "dpkg-query", "dpkg-deb", "systemd-analyze"):
        if shutil.which(tool, path=CLEAN_ENV["PATH"]) is None:
            return f"the install tests need {tool} (a Debian system)"
    return None


@pytest.fixture(autouse=True)
def _install_preconditions(request: pytest.FixtureRequest) -> None:
    if request.node.get_closest_marker("install") is not None:
        problem = _missing_for_install()
        if problem:
            skip_or_fail(problem)


@pytest.fixture(scope="session")
def can_install() -> None:
    """For the session fixtures, which pytest sets up before any function-scoped one."""
    problem = _missing_for_install()
    if problem:
        skip_or_fail(problem)


# --- the package ------------------------------------------------------------------------


@pytest.fixture(scope="session")
def deb(can_install: None) -> Path:
    """The .deb under test."""
    if os.environ.get("OCPPD_DEB"):
        path = Path(os.environ["OCPPD_DEB"]).resolve()
        assert path.is_file(), f"OCPPD_DEB={path} does not exist"
        return path
    path = REPO / "build" / "deb" / f"{PACKAGE}_{changelog_version()}_all.deb"
    if not path.is_file():
        run([str(REPO / "tools" / "build-deb.sh")], timeout=900)
    assert path.is_file(), f"tools/build-deb.sh did not write {path}"
    return path


@pytest.fixture(scope="session")
def created_groups(can_install: None) -> Iterator[list[str]]:
    """Create the Raspberry Pi OS group ``gpio`` when this machine lacks it, so the test
    sees the postinst join a hardware group that exists; removed again at the end."""
    created = []
    try:
        grp.getgrnam("gpio")
    except KeyError:
        run(["groupadd", "--system", "gpio"])
        created.append("gpio")
    yield created
    for group in created:
        run(["groupdel", group], check=False)


@pytest.fixture(scope="session")
def deb_version(deb: Path) -> str:
    return run(["dpkg-deb", "-f", str(deb), "Version"]).stdout.strip()


@pytest.fixture(scope="session")
def fresh_install(
    deb: Path, created_groups: list[str]
) -> Iterator[subprocess.CompletedProcess[str]]:
    """A first installation (any earlier ocppd purged first), purged again at the end."""
    purge_if_present()
    result = apt_get("install", str(deb))
    yield result
    run(["dpkg-statoverride", "--remove", str(CONFIG)], check=False)
    purge_if_present()


@pytest.fixture
def installed(fresh_install: subprocess.CompletedProcess[str], deb: Path, deb_version: str) -> Path:
    """The package installed at the version under test (again, if a test changed that)."""
    if installed_version() != deb_version:
        apt_get("install", "--allow-downgrades", str(deb))
    return deb


@pytest.fixture
def daemon_cli(installed: Path) -> None:
    """The installed entry points import under Debian's python3; skip until the CLI exists."""
    proc = run([DEBIAN_PYTHON, "-I", "-c", "import ocppd.cli, ocppd.ctl"], check=False)
    if proc.returncode != 0:
        if (
            "No module named 'ocppd.cli'" in proc.stderr
            or "No module named 'ocppd.ctl'" in proc.stderr
        ):
            skip_or_fail("the installed package has no ocppd.cli/ocppd.ctl yet")
        pytest.fail(f"the installed CLI does not import:\n{proc.stderr}", pytrace=False)


# --- a charger in a temporary directory -------------------------------------------------


@pytest.fixture
def charger(installed: Path) -> Iterator[Charger]:
    """A directory the user ocppd can use; pytest's tmp_path is root-only (0700)."""
    root = Path(tempfile.mkdtemp(prefix="ocppd-install-test-", dir="/tmp"))
    try:
        user = pwd.getpwnam(USER)
        os.chown(root, 0, user.pw_gid)
        root.chmod(0o750)
        for sub in ("state", "run"):
            (root / sub).mkdir(mode=0o750)
            os.chown(root / sub, user.pw_uid, user.pw_gid)
        yield Charger(root)
    finally:
        shutil.rmtree(root, ignore_errors=True)
