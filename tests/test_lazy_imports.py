"""The daemon's start leaves the rare paths' modules unloaded (idle memory is a feature on a
512 MB charger: docs/performance.md). Each is imported where its rare path begins, and
the tests of that path (tests/test_firmware.py, tests/system/, tests/test_certificates.py)
run it."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

RARE = (
    "ftplib",  # an FTP(S) firmware download or diagnostics upload (ocppd/system/transfer.py)
    "tarfile",  # a diagnostics bundle (ocppd/system/diagnostics.py)
    "ocppd.system.diagnostics",  # the same
    "uuid",  # an UpdateFirmware job's id (ocppd/features/firmware/update.py)
    "cryptography",  # a certificate in the store or from the central system (ocppd/security/)
)

# A charger at security profile 0 with an empty certificate store, through registration,
# `ocppctl status` and a charging session, run in its own interpreter (this one has loaded
# cryptography in other tests): the daemon's every-day paths never touch a certificate.
EVERY_DAY = """
import sys
import trio
import trio.testing
from tests.harness import charger, make_csms
from tests.test_sessions import TAG, start_session, until_status

async def main():
    async with trio.open_nursery() as nursery:
        csms = make_csms()
        await nursery.start(csms.serve)
        async with charger(nursery, csms, keys={"MeterValueSampleInterval": 0}) as cp:
            station = await cp.registered()
            status = await cp.control({"cmd": "status"})
            assert status, status
            await cp.sim("power", 1, watts=7200)
            await start_session(cp, station)
            await trio.sleep(3600)
            await cp.swipe(TAG)
            await until_status(station, "Finishing")
            await cp.sim("unplug", 1)
            await until_status(station, "Available", count=2)
            assert station.calls("StopTransaction"), station.inbox
            assert not csms.violations, csms.violations
        nursery.cancel_scope.cancel()

trio.run(main, clock=trio.testing.MockClock(autojump_threshold=0))
loaded = sorted(m for m in sys.modules if m.split(".")[0] == "cryptography")
assert not loaded, loaded[:5]
"""


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


def test_a_profile_0_charger_with_an_empty_store_never_loads_cryptography() -> None:
    root = Path(__file__).resolve().parent.parent
    subprocess.run([sys.executable, "-c", EVERY_DAY], check=True, timeout=120, cwd=root)


def test_the_tls_dial_reads_the_stores_roots_without_cryptography(tmp_path: Path) -> None:
    """A profile 2 charger with a Central System root installed: what each dial asks of the
    store (the roots, no client certificate) and the renewal task's look at an empty
    charger directory are answered by the stdlib's ssl."""
    import trustme

    from ocppd.security.store import CertificateStore, RootKind

    ca = trustme.CA()
    store = CertificateStore(tmp_path, now=lambda: datetime.now(UTC))
    store.install_root(RootKind.CENTRAL_SYSTEM, ca.cert_pem.bytes().decode(), max_count=5)
    code = f"""
import sys
from datetime import UTC, datetime
from datetime import UTC, datetime
from pathlib import Path
from ocppd.security.store import CertificateStore
store = CertificateStore(Path({str(tmp_path)!r}), now=lambda: datetime.now(UTC))
assert store.trust() == {ca.cert_pem.bytes().decode()!r}
assert store.identity() is None and store.renewal_due() is None and store.prune() == []
loaded = sorted(m for m in sys.modules if m.split(".")[0] == "cryptography")
assert not loaded, loaded[:5]
"""
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
