"""Small real filesystems for storage-fault tests: mount, fill, remount, fail, reboot.

Needs root with CAP_SYS_ADMIN (and loop devices for ext4); the fixtures in
conftest.py skip with the reason when mounting is not permitted.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path


def run(*cmd: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, capture_output=True, text=True, check=False)


def umount(target: Path) -> None:
    if run("umount", str(target)).returncode != 0:
        run("umount", "-l", str(target))


@dataclass
class Mounted:
    """A filesystem mounted for one test."""

    path: Path
    device: str | None = None

    def remount(self, options: str) -> None:
        result = run("mount", "-o", f"remount,{options}", str(self.path))
        assert result.returncode == 0, result.stderr

    def fill(self, leave_bytes: int) -> Path:
        """Write a ballast file until only ``leave_bytes`` stay free; returns its path."""
        ballast = self.path / "ballast"
        st = shutil.disk_usage(self.path)
        with ballast.open("ab") as f:
            f.write(b"\0" * max(st.free - leave_bytes, 0))
        return ballast


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
        umount(self.path)
        run("e2fsck", "-fy", str(self.image))
        result = run("mount", "-o", "loop,errors=remount-ro", str(self.image), str(self.path))
        assert result.returncode == 0, result.stderr
        self.device = loop_name(self.path)

    def replug(self) -> str:
        """What an installer does while ocppd runs: fsck the card and mount it again, here
        through a new loop device (a reused one would share the read-only superblock).
        Returns the new device; :meth:`unplug` detaches it."""
        umount(self.path)
        run("e2fsck", "-fy", str(self.image))
        device = run("losetup", "--find", "--show", str(self.image)).stdout.strip()
        assert device, "no free loop device"
        result = run("mount", "-o", "errors=remount-ro", device, str(self.path))
        assert result.returncode == 0, result.stderr
        return device

    def unplug(self, device: str) -> None:
        umount(self.path)
        run("losetup", "-d", device)


def loop_name(mnt: Path) -> str:
    source = run("findmnt", "-n", "-o", "SOURCE", str(mnt)).stdout.strip()
    return Path(source).name
