"""The daemon's start leaves the rare paths' modules unloaded (idle memory is a feature on a
512 MB charger: docs/performance.md). Each is imported where its rare path begins, and
the tests of that path (tests/test_firmware.py, tests/system/) run it."""

from __future__ import annotations

import subprocess
import sys

RARE = (
    "ftplib",  # an FTP(S) firmware download or diagnostics upload (ocppd/system/transfer.py)
    "tarfile",  # a diagnostics bundle (ocppd/system/diagnostics.py)
    "ocppd.system.diagnostics",  # the same
    "uuid",  # an UpdateFirmware job's id (ocppd/features/firmware/update.py)
)


def test_the_daemon_loads_no_rare_path_module() -> None:
    code = (
        "import sys, ocppd.app, ocppd.cli\n"
        f"loaded = sorted(m for m in {RARE!r} if m in sys.modules)\n"
        "assert not loaded, loaded\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_the_rare_path_modules_load_when_their_path_runs() -> None:
    """The check above is not vacuous: the modules it names do exist and import."""
    code = f"import importlib, sys\nfor name in {RARE!r}:\n    importlib.import_module(name)\n"
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
