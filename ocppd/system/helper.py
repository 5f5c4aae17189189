"""ocppd-update: the privileged helper that installs a firmware update and rolls it back.

Run as root by ``ocppd-update.service`` when ``ocppd-update.path`` sees the daemon's
``request.json`` (``handover.py``); the daemon itself never gains a privilege. Standard
library only, so it runs whatever ocppd version is installed around it.

1. Take the request (the file is removed, so the path unit does not fire again) and
   copy the package into ``/var/lib/ocppd-update`` (root only).
2. Check it again as root: a Debian package the config allows, this architecture.
3. Keep the running version's package for rollback (the one the last update
   installed, apt's cache, or ``apt-get download``); without it, refuse.
4. ``apt-get install`` the new package (dependencies resolve from the archive),
   restart ocppd, and wait until it registers (``registered.json``) within
   ``[firmware] health_timeout_s``.
5. It did: outcome Installed. It did not, or crash-looped (``NRestarts``): reinstall
   the kept package, outcome InstallationFailed, restart ocppd, which reports it.
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import subprocess
import sys
import time
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ocppd.system.handover import (
    FAILED,
    INSTALLED,
    OUTCOME,
    REGISTERED,
    REQUEST,
    UPDATE_DIR,
    read_json,
    write_json,
)
from ocppd.system.package import PackageInfo, PackageRefused, inspect_package

log = logging.getLogger("ocppd-update")

KEEP_DIR = Path("/var/lib/ocppd-update")
CRASH_LOOP_RESTARTS = 3
APT_INSTALL = (
    "apt-get",
    "install",
    "-y",
    "--allow-downgrades",
    "-o",
    "Dpkg::Options::=--force-confold",
)


class UpdateFailed(Exception):
    pass


def run(argv: list[str] | tuple[str, ...], timeout: float = 900) -> str:
    log.info("running %s", " ".join(argv))
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise UpdateFailed(f"{argv[0]} failed: {exc.__class__.__name__}") from None
    if done.returncode != 0:
        tail = (done.stderr.strip().splitlines() or ["no message"])[-1]
        raise UpdateFailed(f"{argv[0]} {argv[1]} exited {done.returncode}: {tail[:160]}")
    return done.stdout


def settings(config: Path) -> dict[str, Any]:
    """What the helper needs from ocppd's config (root-owned: trusted, unlike the request)."""
    try:
        raw = tomllib.loads(config.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise UpdateFailed(f"{config}: {exc}") from None
    firmware = raw.get("firmware", {})
    return {
        "state_dir": Path(raw.get("storage", {}).get("state_dir", "/var/lib/ocppd")),
        "packages": tuple(firmware.get("packages", ("ocppd",))),
        "health_timeout_s": float(firmware.get("health_timeout_s", 300.0)),
        "unit": str(firmware.get("unit", "ocppd.service")),
    }


def copy_private(source: Path, dest: Path) -> None:
    """Copy without following a link the unprivileged daemon may have planted."""
    dest.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(source, os.O_RDONLY | os.O_NOFOLLOW)
    with os.fdopen(fd, "rb") as src:
        tmp = dest.with_name(dest.name + ".tmp")
        with open(tmp, "wb") as out:
            os.fchmod(out.fileno(), 0o600)
            shutil.copyfileobj(src, out)
            out.flush()
            os.fsync(out.fileno())
    os.replace(tmp, dest)


def installed_version(package: str) -> str | None:
    try:
        out = run(("dpkg-query", "-W", "-f=${Status}\\n${Version}", package), 60)
    except UpdateFailed:
        return None
    status, _, version = out.partition("\n")
    return version.strip() if status.endswith(" installed") and version.strip() else None


def _same(path: Path, package: str, version: str) -> bool:
    try:
        out = run(("dpkg-deb", "--show", "--showformat=${Package} ${Version}", str(path)), 60)
    except UpdateFailed:
        return False
    return out.strip() == f"{package} {version}"


def keep_previous(package: str, version: str, keep: Path, archives: Path) -> Path:
    """The running version's package file, kept for rollback in ``keep``."""
    kept = keep / "previous.deb"
    current = keep / "current.deb"  # what the last update installed
    if current.exists() and _same(current, package, version):
        shutil.copyfile(current, kept)
        return kept
    quoted = version.replace(":", "%3a")
    for candidate in sorted(archives.glob(f"{package}_{quoted}_*.deb")):
        if _same(candidate, package, version):
            shutil.copyfile(candidate, kept)
            return kept
    try:
        run(("apt-get", "download", f"{package}={version}"), 300)  # into the cwd: keep
    except UpdateFailed as exc:
        raise UpdateFailed(
            f"the running {package} {version} cannot be kept for rollback ({exc})"
        ) from None
    for candidate in sorted(keep.glob(f"{package}_*.deb")):
        if _same(candidate, package, version):
            os.replace(candidate, kept)
            return kept
    raise UpdateFailed(f"the running {package} {version} cannot be kept for rollback")


def restarts(unit: str) -> int:
    try:
        return int(run(("systemctl", "show", "-p", "NRestarts", "--value", unit), 60).strip())
    except (UpdateFailed, ValueError):
        return 0


def wait_healthy(
    update_dir: Path,
    request_id: str,
    unit: str,
    timeout_s: float,
    *,
    before: int,
    sleep: Callable[[float], None] = time.sleep,
    now: Callable[[], float] = time.monotonic,
) -> None:
    """Until ocppd registered as the new version; UpdateFailed when it does not in time
    or crash-loops. A root script polling once a second: no event exists to wait on."""
    deadline = now() + timeout_s
    while True:
        marker = read_json(update_dir / REGISTERED)
        if marker is not None and marker.get("id") == request_id:
            return
        if restarts(unit) - before >= CRASH_LOOP_RESTARTS:
            raise UpdateFailed("the new version crash-loops")
        if now() >= deadline:
            raise UpdateFailed(f"the new version did not register within {timeout_s:g} s")
        sleep(1.0)


def update(
    config: Path,
    *,
    keep: Path = KEEP_DIR,
    archives: Path = Path("/var/cache/apt/archives"),
    architecture: str | None = None,
    sleep: Callable[[float], None] = time.sleep,
    now: Callable[[], float] = time.monotonic,
) -> str | None:
    """One request, start to end; returns its outcome (None: there was no request)."""
    conf = settings(config)
    update_dir = conf["state_dir"] / UPDATE_DIR
    for directory in (update_dir, conf["state_dir"] / "firmware"):
        if directory.is_symlink():  # root writes and reads here: never through a link
            raise UpdateFailed(f"{directory} is a symbolic link: refusing to work there")
    request = read_json(update_dir / REQUEST)
    try:
        (update_dir / REQUEST).unlink()
    except FileNotFoundError:
        pass
    if request is None or not isinstance(request.get("id"), str):
        log.info("no update request")
        return None
    request_id, unit = request["id"], conf["unit"]
    # The daemon (not root) reads the outcome: it gets the update directory's owner.
    st = update_dir.lstat()
    owner = (st.st_uid, st.st_gid)
    for name in (REGISTERED, OUTCOME):
        try:
            (update_dir / name).unlink()
        except FileNotFoundError:
            pass
    new = keep / "new.deb"
    kept: Path | None = None
    info: PackageInfo | None = None
    try:
        source = Path(str(request.get("file", "")))
        if source.parent != conf["state_dir"] / "firmware" or ".." in source.parts:
            raise UpdateFailed("the request names no file in the state directory")
        try:
            copy_private(source, new)
        except OSError as exc:
            raise UpdateFailed(f"cannot read the package file: {exc.strerror}") from None
        try:
            info = inspect_package(new, allowed=conf["packages"], architecture=architecture)
        except PackageRefused as exc:
            raise UpdateFailed(exc.reason) from None
        previous = installed_version(info.name)
        if previous is None:
            raise UpdateFailed(f"{info.name} is not installed: nothing to roll back to")
        os.chdir(keep)
        kept = keep_previous(info.name, previous, keep, archives)
        before = restarts(unit)
        log.info("installing %s %s (keeping %s for rollback)", info.name, info.version, previous)
        run((*APT_INSTALL, str(new)))
        run(("systemctl", "restart", unit), 300)
        wait_healthy(
            update_dir,
            request_id,
            unit,
            conf["health_timeout_s"],
            before=before,
            sleep=sleep,
            now=now,
        )
    except UpdateFailed as exc:
        reason = str(exc)
        log.error("update %s failed: %s", request_id, reason)
        if kept is not None and info is not None:
            try:
                run((*APT_INSTALL, str(kept)))
                log.info("rolled back to the kept %s", info.name)
            except UpdateFailed as again:
                reason += f"; rollback failed too: {again}"
                log.error("rollback failed: %s", again)
        write_json(
            update_dir / OUTCOME,
            {"id": request_id, "result": FAILED, "reason": reason},
            owner=owner,
        )
        try:
            run(("systemctl", "restart", unit), 300)
        except UpdateFailed as again:
            log.error("cannot restart %s: %s", unit, again)
        return FAILED
    os.replace(new, keep / "current.deb")
    write_json(update_dir / OUTCOME, {"id": request_id, "result": INSTALLED}, owner=owner)
    log.info("update %s installed: %s %s", request_id, info.name, info.version)
    return INSTALLED


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="ocppd-update", description=__doc__.split("\n")[0])
    parser.add_argument("-c", "--config", type=Path, default=Path("/etc/ocppd.toml"))
    parser.add_argument("--keep-dir", type=Path, default=KEEP_DIR)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    try:
        outcome = update(args.config, keep=args.keep_dir)
    except UpdateFailed as exc:  # the config itself is unreadable
        log.error("%s", exc)
        return 1
    return 0 if outcome in (None, INSTALLED) else 1


if __name__ == "__main__":
    sys.exit(main())
