"""Fixtures for the journal tests: a state directory, an open journal, real small filesystems.

Storage faults are made with real kernel mechanisms, never by patching:

- ``tiny_tmpfs``: a size-limited tmpfs, filled with a ballast file -> ENOSPC (disk full).
- ``ext4_image``: a loop-mounted ext4 image with ``errors=remount-ro``; writing to
  ``/sys/fs/ext4/<dev>/trigger_fs_error`` makes the kernel remount it read-only
  exactly as it does when an SD card fails.
- ``RLIMIT_FSIZE`` in a subprocess (see journal_worker.py) -> EFBIG, needs no privileges.

Mounting needs root with CAP_SYS_ADMIN (and loop devices for ext4); without them the
tests that need it are skipped with the reason.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from ocppd.journal import Journal


@pytest.fixture
def state_dir(tmp_path: Path) -> Path:
    return tmp_path / "state"


@pytest.fixture
async def journal(state_dir: Path) -> AsyncIterator[Journal]:
    j = await Journal.open(state_dir)
    try:
        yield j
    finally:
        await j.aclose()


def _run(*cmd: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, capture_output=True, text=True, check=False)


def _umount(target: Path) -> None:
    if _run("umount", str(target)).returncode != 0:
        _run("umount", "-l", str(target))


@dataclass
class Mounted:
    """A filesystem mounted for one test."""

    path: Path
    device: str | None = None

    def remount(self, options: str) -> None:
        result = _run("mount", "-o", f"remount,{options}", str(self.path))
        assert result.returncode == 0, result.stderr

    def fill(self, leave_bytes: int) -> Path:
        """Write a ballast file until only ``leave_bytes`` stay free; returns its path."""
        ballast = self.path / "ballast"
        st = shutil.disk_usage(self.path)
        with ballast.open("ab") as f:
            f.write(b"\0" * max(st.free - leave_bytes, 0))
        return ballast


@pytest.fixture
def tiny_tmpfs(tmp_path: Path) -> Iterator[Mounted]:
    """A 4 MiB tmpfs mounted for this test."""
    mnt = tmp_path / "tmpfs"
    mnt.mkdir()
    result = _run("mount", "-t", "tmpfs", "-o", "size=4m,mode=0755", "tmpfs", str(mnt))
    if result.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs (needs CAP_SYS_ADMIN): {result.stderr.strip()}")
    try:
        yield Mounted(mnt)
    finally:
        _umount(mnt)


@dataclass
class Ext4Image(Mounted):
    image: Path = Path()

    def trigger_error(self) -> None:
        """Make the kernel see a filesystem error: with errors=remount-ro it goes read-only."""
        assert self.device is not None
        knob = Path("/sys/fs/ext4") / self.device / "trigger_fs_error"
        knob.write_text("ocppd journal test\n")

    def reboot(self) -> None:
        """What the next boot does: unmount, fsck, mount read-write again."""
        _umount(self.path)
        _run("e2fsck", "-fy", str(self.image))
        result = _run("mount", "-o", "loop,errors=remount-ro", str(self.image), str(self.path))
        assert result.returncode == 0, result.stderr
        self.device = _loop_name(self.path)


def _loop_name(mnt: Path) -> str:
    source = _run("findmnt", "-n", "-o", "SOURCE", str(mnt)).stdout.strip()
    return Path(source).name


@pytest.fixture
def ext4_image(tmp_path: Path) -> Iterator[Ext4Image]:
    """A 16 MiB ext4 filesystem on a loop device, ``errors=remount-ro``."""
    if shutil.which("mkfs.ext4") is None:
        pytest.skip("mkfs.ext4 is not installed")
    image = tmp_path / "ext4.img"
    mnt = tmp_path / "ext4"
    mnt.mkdir()
    with image.open("wb") as f:
        f.truncate(16 * 2**20)
    made = _run("mkfs.ext4", "-q", "-F", str(image))
    if made.returncode != 0:
        pytest.skip(f"mkfs.ext4 failed: {made.stderr.strip()}")
    result = _run("mount", "-o", "loop,errors=remount-ro", str(image), str(mnt))
    if result.returncode != 0:
        pytest.skip(f"cannot loop-mount an ext4 image here: {result.stderr.strip()}")
    fs = Ext4Image(mnt, _loop_name(mnt), image=image)
    try:
        if not (Path("/sys/fs/ext4") / (fs.device or "?") / "trigger_fs_error").exists():
            pytest.skip("this kernel has no /sys/fs/ext4/<dev>/trigger_fs_error")
        yield fs
    finally:
        _umount(mnt)
