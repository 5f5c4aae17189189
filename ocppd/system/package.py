"""Is a downloaded file a Debian package this charger accepts? Checked with ``dpkg-deb``
before anything is installed: a well-formed archive, a package name the operator
allows (``[firmware] packages``), and an architecture this machine runs (its own, as
``dpkg --print-architecture`` says, or ``all``).

The privileged helper (``helper.py``) checks the same again as root: it trusts
nothing the unprivileged daemon wrote.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

_NAME = re.compile(r"^[a-z0-9][a-z0-9+.-]+$")
_VERSION = re.compile(r"^[A-Za-z0-9.+~:-]+$")


class PackageRefused(Exception):
    """The file is no package we may install; ``reason`` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class PackageInfo:
    name: str
    version: str
    architecture: str

    @property
    def upstream(self) -> str:
        """The version without epoch and Debian revision (what ``ocppd --version`` says)."""
        version = self.version.split(":", 1)[-1]
        return version.rsplit("-", 1)[0] if "-" in version else version


def _run(*argv: str) -> str:
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise PackageRefused(f"{argv[0]} cannot run: {exc.__class__.__name__}") from None
    if done.returncode != 0:
        first = (done.stderr.strip().splitlines() or ["no message"])[0]
        raise PackageRefused(f"{argv[0]} {argv[1]}: {first[:160]}")
    return done.stdout


def machine_architecture() -> str:
    return _run("dpkg", "--print-architecture").strip()


def inspect_package(
    path: Path, *, allowed: Collection[str], architecture: str | None = None
) -> PackageInfo:
    """The package at ``path``, if we accept it; PackageRefused says why not. Blocking
    (runs dpkg-deb): call it in a worker thread."""
    _run("dpkg-deb", "--info", str(path))  # a whole, readable archive with a control file
    fields = _run(
        "dpkg-deb", "--show", "--showformat=${Package}\\n${Version}\\n${Architecture}\\n", str(path)
    )
    lines = fields.splitlines()
    if len(lines) < 3:
        raise PackageRefused("dpkg-deb: the control file lacks Package, Version or Architecture")
    info = PackageInfo(lines[0].strip(), lines[1].strip(), lines[2].strip())
    if not _NAME.match(info.name) or not _VERSION.match(info.version):
        raise PackageRefused("the control file names no valid package and version")
    if info.name not in allowed:
        raise PackageRefused(
            f"package {info.name} is not allowed (allowed: {', '.join(sorted(allowed))})"
        )
    arch = architecture if architecture is not None else machine_architecture()
    if info.architecture not in ("all", arch):
        raise PackageRefused(
            f"package {info.name} is built for {info.architecture}, this is {arch}"
        )
    return info


__all__ = ["PackageInfo", "PackageRefused", "inspect_package", "machine_architecture"]
