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
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from journal_fs import Ext4Image, Mounted, loop_name, run, umount

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


@pytest.fixture
def tiny_tmpfs(tmp_path: Path) -> Iterator[Mounted]:
    """A 4 MiB tmpfs mounted for this test."""
    mnt = tmp_path / "tmpfs"
    mnt.mkdir()
    result = run("mount", "-t", "tmpfs", "-o", "size=4m,mode=0755", "tmpfs", str(mnt))
    if result.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs (needs CAP_SYS_ADMIN): {result.stderr.strip()}")
    try:
        yield Mounted(mnt)
    finally:
        umount(mnt)


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
    made = run("mkfs.ext4", "-q", "-F", str(image))
    if made.returncode != 0:
        pytest.skip(f"mkfs.ext4 failed: {made.stderr.strip()}")
    result = run("mount", "-o", "loop,errors=remount-ro", str(image), str(mnt))
    if result.returncode != 0:
        pytest.skip(f"cannot loop-mount an ext4 image here: {result.stderr.strip()}")
    fs = Ext4Image(mnt, loop_name(mnt), image=image)
    try:
        if not (Path("/sys/fs/ext4") / (fs.device or "?") / "trigger_fs_error").exists():
            pytest.skip("this kernel has no /sys/fs/ext4/<dev>/trigger_fs_error")
        yield fs
    finally:
        umount(mnt)
