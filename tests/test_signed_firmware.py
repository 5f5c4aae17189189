"""Signed firmware (security whitepaper edition 3, use case L01) against the independent
central system, with a throwaway manufacturer CA (tests/pki.py), packages signed by the
``openssl`` command line as docs/security.md tells a maker to, and a real HTTP server on
127.0.0.1 (tests/fileservers.py).

A good package reaches the helper's inbox; a bad signature, a wrong signer, an expired or
not yet valid signer and a charger without a manufacturer root never do. OCTT TC_080_CS
(secure firmware update) and TC_081_CS (invalid signature) are replayed by name.
"""

from __future__ import annotations

import base64
import json
import ssl
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import trio
import trustme
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from ocpp.v16 import call

from ocppd import __version__
from ocppd.ctl import format_firmware
from ocppd.security.signatures import SignatureProblem, signing_certificate, verify_file
from ocppd.security.x509 import CertificateProblem, fingerprint
from ocppd.testing.csms import CallFailed
from tests.fileservers import HttpServer, build_deb
from tests.harness import CP_ID, ControlRefused, charger, csms_now
from tests.pki import root, signing_cert, to_pem

pytestmark = pytest.mark.skipif(
    subprocess.run(["which", "dpkg-deb"], capture_output=True, check=False).returncode != 0,
    reason="needs dpkg-deb",
)

SIGNED = "SignedFirmwareStatusNotification"
EVENT = "SecurityEventNotification"


class Maker:
    """A charger manufacturer: its root (installed on the charger) and its Firmware Signing
    certificate and key (kept by the maker)."""

    def __init__(self, tmp: Path, **signer: Any) -> None:
        self.root, self.root_key = root("Example Maker Root")
        self.cert, self.key = signing_cert(self.root, self.root_key, **signer)
        self.key_file = tmp / f"signing-{fingerprint(self.cert)[:8]}.key"
        self.key_file.write_bytes(
            self.key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )

    def sign(self, package: Path, *options: str) -> str:
        """What docs/security.md tells the maker to run, base64 as the request carries it."""
        out = package.with_suffix(".sig")
        command = ["openssl", "dgst", "-sha256", *options, "-sign", str(self.key_file)]
        subprocess.run([*command, "-out", str(out), str(package)], check=True, capture_output=True)
        return base64.b64encode(out.read_bytes()).decode()


def bootstrap(state_dir: Path, cert: x509.Certificate) -> None:
    """A manufacturer root put in the store as an installer does on a charger without TLS
    (docs/security.md, "Signed firmware")."""
    directory = state_dir / "certs" / "manufacturer"
    directory.mkdir(parents=True, mode=0o700, exist_ok=True)
    (directory / f"{fingerprint(cert)}.pem").write_text(to_pem(cert))


def package(tmp: Path, name: str = "ocppd", version: str = "9.9.9") -> Path:
    path = tmp / f"{name}_{version}.deb"
    path.write_bytes(build_deb(tmp, name=name, version=version))
    return path


def firmware(
    location: str,
    maker: Maker,
    signature: str,
    *,
    in_s: float = 0,
    install_in_s: float | None = None,
) -> dict[str, Any]:
    now = csms_now()
    fw = {
        "location": location,
        "retrieveDateTime": (now + timedelta(seconds=in_s)).isoformat(),
        "signingCertificate": to_pem(maker.cert),
        "signature": signature,
    }
    if install_in_s is not None:
        fw["installDateTime"] = (now + timedelta(seconds=install_in_s)).isoformat()
    return fw


async def signed_update(station: Any, request_id: int, fw: dict[str, Any], **extra: Any) -> str:
    answer = await station.call(
        call.SignedUpdateFirmware(request_id=request_id, firmware=fw, **extra)
    )
    return str(answer.status)


def reports(station: Any) -> list[tuple[str, int | None]]:
    return [(r.payload["status"], r.payload.get("requestId")) for r in station.calls(SIGNED)]


def events(station: Any) -> list[str]:
    """The firmware's security events (StartupOfTheDevice and the like are not ours)."""
    return [r.payload["type"] for r in station.calls(EVENT) if "Firmware" in r.payload["type"]]


def helper_inbox(state_dir: Path) -> Path:
    return state_dir / "update" / "request.json"


@pytest.fixture
async def http(nursery: trio.Nursery) -> HttpServer:
    server = HttpServer()
    await nursery.start(server.serve)
    return server


@pytest.fixture
def state_dir(tmp_path: Path) -> Path:
    path = tmp_path / "state"
    path.mkdir()
    return path


# --- OCTT TC_080_CS and TC_081_CS, over TLS with the root installed by InstallCertificate ---


def _tls(tmp: Path) -> tuple[trustme.CA, ssl.SSLContext, dict[str, Any]]:
    ca = trustme.CA()
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(server)
    ca.cert_pem.write_to_path(str(tmp / "ca.pem"))
    profile = {
        "security_profile": 2,
        "ca_file": str(tmp / "ca.pem"),
        "authorization_key": "tls-password-1234",
    }
    return ca, server, profile


async def test_tc_080_a_signed_package_is_verified_and_handed_to_the_helper(
    nursery, start_csms, autojump_clock, http, tmp_path, state_dir
):
    """OCTT TC_080_CS up to the hand-over: Downloading, Downloaded, SignatureVerified,
    Installing, each with the requestId, the package in the helper's inbox."""
    maker = Maker(tmp_path)
    deb = package(tmp_path)
    http.files["/fw/ocppd.deb"] = deb.read_bytes()
    _, server, profile = _tls(tmp_path)
    csms = await start_csms(ssl_context=server, passwords={CP_ID: "tls-password-1234"})
    async with charger(nursery, csms, state_dir=state_dir, ocpp=profile) as cp:
        station = await cp.registered()
        installed = await station.call(
            call.InstallCertificate(
                certificate_type="ManufacturerRootCertificate", certificate=to_pem(maker.root)
            )
        )
        assert installed.status == "Accepted"
        fw = firmware(http.url("/fw/ocppd.deb"), maker, maker.sign(deb))
        assert await signed_update(station, 80, fw) == "Accepted"
        with trio.fail_after(300):
            await station.wait_for(SIGNED, lambda p: p["status"] == "Installing")
        assert reports(station) == [
            ("Downloading", 80),
            ("Downloaded", 80),
            ("SignatureVerified", 80),
            ("Installing", 80),
        ]
        request = json.loads(helper_inbox(state_dir).read_text())
        assert (request["package"], request["version"]) == ("ocppd", "9.9.9")
        assert Path(request["file"]).read_bytes() == deb.read_bytes()  # noqa: ASYNC240
        assert station.calls("FirmwareStatusNotification") == []  # the signed path only
        assert events(station) == []
        state = await cp.control({"cmd": "firmware"})
        assert (state["signed"], state["request_id"], state["phase"]) == (True, 80, "installing")
        assert "signed         yes, requestId 80" in format_firmware(state)  # ocppctl firmware


async def test_tc_080_the_new_version_reports_installed_once(
    nursery, start_csms, autojump_clock, state_dir
):
    """OCTT TC_080_CS after the helper restarted the daemon as the new version."""
    csms = await start_csms()
    async with charger(nursery, csms, state_dir=state_dir) as cp:
        await cp.registered()
        job = {
            "id": "abc",
            "phase": "installing",
            "package": "ocppd",
            "version": f"{__version__}-1",
            "signed": {"request_id": 80, "certificate": "", "signature": "", "install_at": None},
        }
        await cp.journal.put_job("firmware", job)
    async with charger(nursery, csms, state_dir=state_dir) as cp:
        station = await cp.registered(connection=2)
        with trio.fail_after(60):
            await station.wait_for(SIGNED)
        await trio.sleep(5)
        assert reports(station) == [("Installed", 80)]
        assert station.calls("FirmwareStatusNotification") == []
        answer = await station.call(
            call.ExtendedTriggerMessage(requested_message="FirmwareStatusNotification")
        )
        assert answer.status == "Accepted"
        with trio.fail_after(10):
            await station.wait_for(SIGNED, count=2)
        assert station.calls(SIGNED)[-1].payload == {"status": "Idle"}  # L01.FR.28


async def test_tc_081_an_invalid_signature_is_never_installed(
    nursery, start_csms, autojump_clock, http, tmp_path, state_dir
):
    """OCTT TC_081_CS: Downloading, Downloaded, InvalidSignature and the security event
    InvalidFirmwareSignature; the file is deleted, the helper's inbox stays empty."""
    maker = Maker(tmp_path)
    deb = package(tmp_path)
    other = package(tmp_path, version="9.9.8")
    http.files["/fw/ocppd.deb"] = deb.read_bytes()
    bootstrap(state_dir, maker.root)
    csms = await start_csms()
    async with charger(nursery, csms, state_dir=state_dir) as cp:
        station = await cp.registered()
        fw = firmware(http.url("/fw/ocppd.deb"), maker, maker.sign(other))
        assert await signed_update(station, 81, fw) == "Accepted"
        with trio.fail_after(300):
            await station.wait_for(SIGNED, lambda p: p["status"] == "InvalidSignature")
            await station.wait_for(EVENT, lambda p: "Firmware" in p["type"])
        await trio.sleep(30)
        assert reports(station) == [
            ("Downloading", 81),
            ("Downloaded", 81),
            ("InvalidSignature", 81),
        ]
        assert events(station) == ["InvalidFirmwareSignature"]
        assert not helper_inbox(state_dir).exists()
        assert not list((state_dir / "firmware").glob("*"))
        assert cp.charger.held is None
        assert "InvalidFirmwareSignature" in (state_dir / "security.log").read_text()
        state = await cp.control({"cmd": "firmware"})
        assert "does not match" in state["last_error"]
        # L01.FR.29: a trigger repeats the last status, with its requestId
        await station.call(
            call.ExtendedTriggerMessage(requested_message="FirmwareStatusNotification")
        )
        with trio.fail_after(10):
            await station.wait_for(SIGNED, count=4)
        assert station.calls(SIGNED)[-1].payload == {"status": "InvalidSignature", "requestId": 81}


# --- the signing certificate: refused before anything is downloaded [L01.FR.23-24] ---


@pytest.mark.parametrize(
    "case",
    [
        "wrong signer",
        "expired signer",
        "signer not yet valid",
        "no manufacturer root",
        "no usage",
        "garbage",
    ],
)
async def test_a_signing_certificate_that_does_not_chain_is_invalid_certificate(
    nursery, start_csms, autojump_clock, http, tmp_path, state_dir, case
):
    signer: dict[str, Any] = {
        "expired signer": {"not_after": datetime(2001, 1, 1, tzinfo=UTC)},
        "signer not yet valid": {"not_before": datetime(2099, 1, 1, tzinfo=UTC)},
        "no usage": {"usage": False},
    }.get(case, {})
    maker = Maker(tmp_path, **signer)
    deb = package(tmp_path)
    http.files["/fw/ocppd.deb"] = deb.read_bytes()
    if case == "wrong signer":
        bootstrap(state_dir, Maker(tmp_path).root)  # another maker's root
    elif case != "no manufacturer root":
        bootstrap(state_dir, maker.root)
    csms = await start_csms()
    async with charger(nursery, csms, state_dir=state_dir) as cp:
        station = await cp.registered()
        fw = firmware(http.url("/fw/ocppd.deb"), maker, maker.sign(deb))
        if case == "garbage":
            fw["signingCertificate"] = "-----BEGIN CERTIFICATE-----\nA\n-----END CERTIFICATE-----"
        assert await signed_update(station, 5, fw) == "InvalidCertificate"
        with trio.fail_after(30):
            await station.wait_for(EVENT, lambda p: "Firmware" in p["type"])
        await trio.sleep(60)
        assert events(station) == ["InvalidFirmwareSigningCertificate"]
        [event] = [r for r in station.calls(EVENT) if "Firmware" in r.payload["type"]]
        assert event.payload["techInfo"]
        assert reports(station) == []  # nothing started
        assert http.requests == []
        assert not helper_inbox(state_dir).exists()


# --- the job: retries, a restart, a replacement, installDateTime ---


async def test_download_failed_after_the_retries(
    nursery, start_csms, autojump_clock, http, tmp_path, state_dir
):
    maker = Maker(tmp_path)
    bootstrap(state_dir, maker.root)
    http.fail_first["/fw/busy.deb"] = 10
    csms = await start_csms()
    async with charger(nursery, csms, state_dir=state_dir) as cp:
        station = await cp.registered()
        fw = firmware(http.url("/fw/busy.deb"), maker, "c2lnbmF0dXJl")
        assert await signed_update(station, 9, fw, retries=2, retry_interval=30) == "Accepted"
        with trio.fail_after(600):
            await station.wait_for(SIGNED, lambda p: p["status"] == "DownloadFailed")
        assert reports(station) == [("Downloading", 9), ("DownloadFailed", 9)]
        assert http.requests.count(("GET", "/fw/busy.deb")) == 3
        assert not list((state_dir / "firmware").glob("*"))
        assert events(station) == []


async def test_a_restart_while_installation_is_scheduled_checks_the_signature_again(
    nursery, start_csms, autojump_clock, http, tmp_path, state_dir
):
    """installDateTime honoured across a restart (InstallScheduled once); the file changed
    on disk meanwhile, so the check before the hand-over finds InvalidSignature."""
    maker = Maker(tmp_path)
    bootstrap(state_dir, maker.root)
    deb = package(tmp_path)
    http.files["/fw/ocppd.deb"] = deb.read_bytes()
    csms = await start_csms()
    async with charger(nursery, csms, state_dir=state_dir) as cp:
        station = await cp.registered()
        fw = firmware(http.url("/fw/ocppd.deb"), maker, maker.sign(deb), install_in_s=3600)
        assert await signed_update(station, 12, fw) == "Accepted"
        with trio.fail_after(300):
            await station.wait_for(SIGNED, lambda p: p["status"] == "InstallScheduled")
        await trio.sleep(60)
        assert not helper_inbox(state_dir).exists()
    [kept] = list((state_dir / "firmware").glob("*.deb"))
    kept.write_bytes(kept.read_bytes() + b"tampered")
    async with charger(nursery, csms, state_dir=state_dir) as cp:
        station2 = await cp.registered(connection=2)
        await trio.sleep(1800)
        assert reports(station2) == []  # still scheduled, not reported again
        with trio.fail_after(3600):
            await station2.wait_for(SIGNED, lambda p: p["status"] == "InvalidSignature")
        assert reports(station) + reports(station2) == [
            ("Downloading", 12),
            ("Downloaded", 12),
            ("SignatureVerified", 12),
            ("InstallScheduled", 12),
            ("InvalidSignature", 12),
        ]
        assert not helper_inbox(state_dir).exists()
        assert not list((state_dir / "firmware").glob("*"))


async def test_a_restart_before_the_download_and_installation_at_install_date(
    nursery, start_csms, autojump_clock, http, tmp_path, state_dir
):
    """DownloadScheduled for a retrieveDateTime ahead, kept across a restart; installed at
    installDateTime."""
    maker = Maker(tmp_path)
    bootstrap(state_dir, maker.root)
    deb = package(tmp_path)
    http.files["/fw/ocppd.deb"] = deb.read_bytes()
    csms = await start_csms()
    async with charger(nursery, csms, state_dir=state_dir) as cp:
        station = await cp.registered()
        fw = firmware(
            http.url("/fw/ocppd.deb"), maker, maker.sign(deb), in_s=3600, install_in_s=7200
        )
        assert await signed_update(station, 3, fw) == "Accepted"
        with trio.fail_after(30):
            await station.wait_for(SIGNED)
    assert http.requests == []
    async with charger(nursery, csms, state_dir=state_dir) as cp:
        station2 = await cp.registered(connection=2)
        with trio.fail_after(3700):
            await station2.wait_for(SIGNED, lambda p: p["status"] == "InstallScheduled")
        assert not helper_inbox(state_dir).exists()
        with trio.fail_after(3700):
            await station2.wait_for(SIGNED, lambda p: p["status"] == "Installing")
        assert csms_now() >= datetime.fromisoformat(fw["installDateTime"])
        assert reports(station) + reports(station2) == [
            ("DownloadScheduled", 3),
            ("Downloading", 3),
            ("Downloaded", 3),
            ("SignatureVerified", 3),
            ("InstallScheduled", 3),
            ("Installing", 3),
        ]
        assert helper_inbox(state_dir).exists()


async def test_a_new_request_cancels_the_update_under_way(
    nursery, start_csms, autojump_clock, http, tmp_path, state_dir
):
    """[L01.FR.26] AcceptedCanceled; the first package is never fetched."""
    maker = Maker(tmp_path)
    bootstrap(state_dir, maker.root)
    deb = package(tmp_path)
    http.files["/fw/new.deb"] = deb.read_bytes()
    csms = await start_csms()
    async with charger(nursery, csms, state_dir=state_dir) as cp:
        station = await cp.registered()
        first = firmware(http.url("/fw/old.deb"), maker, maker.sign(deb), in_s=3600)
        assert await signed_update(station, 1, first) == "Accepted"
        second = firmware(http.url("/fw/new.deb"), maker, maker.sign(deb))
        assert await signed_update(station, 2, second) == "AcceptedCanceled"
        with trio.fail_after(300):
            await station.wait_for(SIGNED, lambda p: p["status"] == "Installing")
        third = firmware(http.url("/fw/new.deb"), maker, maker.sign(deb))
        assert await signed_update(station, 3, third) == "Rejected"  # [L01.FR.27]
        await trio.sleep(3700)
        assert ("GET", "/fw/old.deb") not in http.requests
        assert [s for s, rid in reports(station) if rid == 1] == ["DownloadScheduled"]
        assert [s for s, rid in reports(station) if rid == 2][:4] == [
            "Downloading",
            "Downloaded",
            "SignatureVerified",
            "Installing",
        ]
        assert [rid for _, rid in reports(station)].count(3) == 0


async def test_installation_waits_for_the_running_transaction(
    nursery, start_csms, autojump_clock, http, tmp_path, state_dir
):
    """[L01.FR.06-07] SignatureVerified, then nothing until the session ends; no new one
    starts meanwhile, and connector 0 is Unavailable while the helper installs."""
    maker = Maker(tmp_path)
    bootstrap(state_dir, maker.root)
    deb = package(tmp_path)
    http.files["/fw/ocppd.deb"] = deb.read_bytes()
    csms = await start_csms()
    async with charger(nursery, csms, state_dir=state_dir, connectors=2) as cp:
        station = await cp.registered()
        await cp.sim("plug", 1)
        await cp.swipe("04A2B3C4")
        with trio.fail_after(60):
            await station.wait_for("StartTransaction")
        fw = firmware(http.url("/fw/ocppd.deb"), maker, maker.sign(deb))
        assert await signed_update(station, 6, fw) == "Accepted"
        with trio.fail_after(300):
            await station.wait_for(SIGNED, lambda p: p["status"] == "SignatureVerified")
        await trio.sleep(600)
        assert [s for s, _ in reports(station)][-1] == "SignatureVerified"
        assert not helper_inbox(state_dir).exists()
        idle = [
            r.payload["status"]
            for r in station.calls("StatusNotification")
            if r.payload["connectorId"] == 2
        ]
        assert idle[-1] == "Unavailable"  # [L01.FR.07] the connector not in use
        await cp.sim("plug", 2)
        with pytest.raises(ControlRefused, match="a firmware update waits to install"):
            await cp.swipe("BBBBBBBB")
        await cp.swipe("04A2B3C4")  # the driver ends the session
        with trio.fail_after(300):
            await station.wait_for("StopTransaction")
            await station.wait_for(SIGNED, lambda p: p["status"] == "Installing")
            await station.wait_for(
                "StatusNotification",
                lambda p: p["connectorId"] == 0 and p["status"] == "Unavailable",
            )
        assert len(station.calls("StartTransaction")) == 1
        assert helper_inbox(state_dir).exists()


async def test_a_signed_package_the_charger_cannot_install_is_install_verification_failed(
    nursery, start_csms, autojump_clock, http, tmp_path, state_dir
):
    """Signed by the maker, but not a package this charger installs (`firmware.packages`):
    InstallVerificationFailed (SEC §6.8), nothing handed over."""
    maker = Maker(tmp_path)
    bootstrap(state_dir, maker.root)
    deb = package(tmp_path, name="evil")
    http.files["/fw/evil.deb"] = deb.read_bytes()
    csms = await start_csms()
    async with charger(nursery, csms, state_dir=state_dir) as cp:
        station = await cp.registered()
        fw = firmware(http.url("/fw/evil.deb"), maker, maker.sign(deb))
        assert await signed_update(station, 44, fw) == "Accepted"
        with trio.fail_after(300):
            await station.wait_for(SIGNED, lambda p: p["status"] == "InstallVerificationFailed")
        assert [s for s, _ in reports(station)] == [
            "Downloading",
            "Downloaded",
            "SignatureVerified",
            "InstallVerificationFailed",
        ]
        assert not helper_inbox(state_dir).exists()
        assert not list((state_dir / "firmware").glob("*"))
        state = await cp.control({"cmd": "firmware"})
        assert "package evil is not allowed" in state["last_error"]


async def test_unsigned_update_firmware_is_not_supported_once_a_maker_root_is_installed(
    nursery, start_csms, autojump_clock, http, tmp_path, state_dir
):
    """[L01.FR.20] A charger set up for signed firmware takes no unsigned package."""
    maker = Maker(tmp_path)
    bootstrap(state_dir, maker.root)
    http.files["/fw/ocppd.deb"] = package(tmp_path).read_bytes()
    csms = await start_csms()
    async with charger(nursery, csms, state_dir=state_dir) as cp:
        station = await cp.registered()
        with pytest.raises(CallFailed) as refused:
            await station.call(
                call.UpdateFirmware(
                    location=http.url("/fw/ocppd.deb"), retrieve_date=csms_now().isoformat()
                )
            )
        assert refused.value.code == "NotSupported"
        await trio.sleep(60)
        assert http.requests == []
        assert station.calls("FirmwareStatusNotification") == []


async def test_rsa_pss_is_taken_and_pkcs1_v15_is_not(
    nursery, start_csms, autojump_clock, http, tmp_path, state_dir
):
    """L01.FR.04 names RSA-PSS (with SHA-256) for an RSA key."""
    maker = Maker(tmp_path, key=rsa.generate_private_key(public_exponent=65537, key_size=2048))
    bootstrap(state_dir, maker.root)
    deb = package(tmp_path)
    http.files["/fw/ocppd.deb"] = deb.read_bytes()
    pss = ("-sigopt", "rsa_padding_mode:pss", "-sigopt", "rsa_pss_saltlen:digest")
    csms = await start_csms()
    async with charger(nursery, csms, state_dir=state_dir) as cp:
        station = await cp.registered()
        fw = firmware(http.url("/fw/ocppd.deb"), maker, maker.sign(deb))  # PKCS#1 v1.5
        assert await signed_update(station, 1, fw) == "Accepted"
        with trio.fail_after(300):
            await station.wait_for(SIGNED, lambda p: p["status"] == "InvalidSignature")
        fw = firmware(http.url("/fw/ocppd.deb"), maker, maker.sign(deb, *pss))
        assert await signed_update(station, 2, fw) == "Accepted"
        with trio.fail_after(300):
            await station.wait_for(SIGNED, lambda p: p["status"] == "Installing")
        assert [s for s, rid in reports(station) if rid == 2][-2:] == [
            "SignatureVerified",
            "Installing",
        ]


# --- the checks themselves (ocppd/security/signatures.py), plain ---


def test_signature_forms_and_refusals(tmp_path: Path) -> None:
    maker = Maker(tmp_path)
    deb = package(tmp_path)
    now = datetime.now(UTC)
    cert = signing_certificate(to_pem(maker.cert), [maker.root], now)
    der = base64.b64decode(maker.sign(deb))
    verify_file(cert, deb, base64.b64encode(der).decode())
    r, s = decode_dss_signature(der)  # the raw r||s some tools write
    raw = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    verify_file(cert, deb, base64.b64encode(raw).decode())
    for bad, why in [
        ("", "no signature"),
        ("not base64!", "not base64"),
        ("A" * 804, "characters"),
        (base64.b64encode(raw[::-1]).decode(), "does not match"),
    ]:
        with pytest.raises(SignatureProblem, match=why):
            verify_file(cert, deb, bad)
    assert isinstance(maker.key, ec.EllipticCurvePrivateKey)
    other = maker.key.sign(b"another file", ec.ECDSA(hashes.SHA256()))
    with pytest.raises(SignatureProblem, match="does not match"):
        verify_file(cert, deb, base64.b64encode(other).decode())


def test_the_signing_certificate_rules(tmp_path: Path) -> None:
    maker = Maker(tmp_path)
    now = datetime.now(UTC)
    chain = to_pem(maker.cert) + to_pem(maker.root)
    with pytest.raises(CertificateProblem, match="no intermediates"):
        signing_certificate(chain, [maker.root], now)
    with pytest.raises(CertificateProblem, match="no valid ManufacturerRootCertificate"):
        signing_certificate(to_pem(maker.cert), [], now)
    old_root, old_key = root("Expired Maker Root", not_after=datetime(2001, 1, 1, tzinfo=UTC))
    old, _ = signing_cert(old_root, old_key)
    with pytest.raises(CertificateProblem, match="no valid ManufacturerRootCertificate"):
        signing_certificate(to_pem(old), [old_root], now)
    weak = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    feeble, _ = signing_cert(maker.root, maker.root_key, key=weak)
    with pytest.raises(CertificateProblem, match="too weak"):
        signing_certificate(to_pem(feeble), [maker.root], now)
    with pytest.raises(CertificateProblem):
        signing_certificate("not a certificate", [maker.root], now)
    dsa_key = dsa.generate_private_key(key_size=2048)
    with_dsa, _ = signing_cert(maker.root, maker.root_key, key=dsa_key)
    with pytest.raises(CertificateProblem, match="RSA or EC only"):
        signing_certificate(to_pem(with_dsa), [maker.root], now)
    # an RSA-PSS signature over the file, made in-process: the same check as openssl's
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    rsa_cert, _ = signing_cert(maker.root, maker.root_key, key=rsa_key)
    deb = package(tmp_path)
    sig = rsa_key.sign(
        deb.read_bytes(),
        padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.MAX_LENGTH),
        hashes.SHA256(),
    )
    verify_file(
        signing_certificate(to_pem(rsa_cert), [maker.root], now),
        deb,
        base64.b64encode(sig).decode(),
    )


def test_the_makers_openssl_commands_in_the_docs_make_a_package_ocppd_takes(
    tmp_path: Path,
) -> None:
    """docs/security.md "How a maker signs a package", run as written."""
    from ocppd.security.x509 import load_chain

    text = (Path(__file__).parent.parent / "docs" / "security.md").read_text()
    section = text.split("### How a maker signs a package", 1)[1]
    block = section.split("```sh\n", 1)[1].split("```", 1)[0]
    deb = package(tmp_path, version="1.2.3")
    deb.rename(tmp_path / "ocppd_1.2.3_all.deb")
    subprocess.run(["bash", "-e", "-c", block], cwd=tmp_path, check=True, capture_output=True)
    [maker_root] = load_chain((tmp_path / "maker-root.pem").read_bytes())
    pem = (tmp_path / "signing.pem").read_text()
    cert = signing_certificate(pem, [maker_root], datetime.now(UTC))
    signature = (tmp_path / "ocppd_1.2.3_all.deb.sig.b64").read_text()
    verify_file(cert, tmp_path / "ocppd_1.2.3_all.deb", signature)
    with pytest.raises(SignatureProblem):
        verify_file(cert, tmp_path / "maker-root.pem", signature)
