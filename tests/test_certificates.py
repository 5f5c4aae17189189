"""Certificate management against the independent central system over TLS, with a throwaway CA.

Every operation of the whitepaper's M03-M05 and A02/A03 with its refusals, and the OCTT
cases about certificates (TC_074 update the charge point certificate, TC_075_1/2 install
a Manufacturer / Central System root, TC_076 delete a certificate, TC_077 an invalid
charge point certificate). The CSR the charger sends is signed by the test CA and the
central system sees the new client certificate on the next connection.
"""

from __future__ import annotations

import base64
import logging
import ssl
from pathlib import Path
from typing import Any

import pytest
import trio
import trustme
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from ocpp.v16 import call

from ocppd.ctl import format_status
from ocppd.features import PROFILES
from ocppd.security.x509 import fingerprint
from ocppd.testing.csms import CentralSystem, Station
from tests.harness import CP_ID, charger, wall
from tests.pki import ca_cert, ca_key, key_pem, ocsp_ids, root, server_cert, sign_csr, to_pem

SERIAL = "T-0001"  # the harness's [charge_point] serial_number
CPO = "Example CPO"
ROOT = "CentralSystemRootCertificate"
MANUFACTURER = "ManufacturerRootCertificate"


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


def _server(ca: trustme.CA, *, client_certs: bool) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    if client_certs:
        context.verify_mode = ssl.CERT_REQUIRED
        ca.configure_trust(context)
    return context


def _write(tmp: Path, name: str, blob: trustme.Blob) -> str:
    path = tmp / name
    blob.write_to_path(str(path))
    return str(path)


def _profile_2(ca: trustme.CA, tmp: Path) -> dict[str, Any]:
    return {
        "security_profile": 2,
        "ca_file": _write(tmp, "ca.pem", ca.cert_pem),
        "authorization_key": "tls-password-1234",
    }


def _profile_3(ca: trustme.CA, tmp: Path) -> dict[str, Any]:
    bootstrap = ca.issue_cert(SERIAL)  # the factory certificate, from the config files
    return {
        "security_profile": 3,
        "ca_file": _write(tmp, "ca.pem", ca.cert_pem),
        "cert_file": _write(tmp, "factory.pem", bootstrap.cert_chain_pems[0]),
        "key_file": _write(tmp, "factory.key", bootstrap.private_key_pem),
    }


def _factory(tmp: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate((tmp / "factory.pem").read_bytes())


async def _tls_csms(start_csms: Any, ca: trustme.CA, *, client_certs: bool) -> CentralSystem:
    passwords = {} if client_certs else {CP_ID: "tls-password-1234"}
    return await start_csms(ssl_context=_server(ca, client_certs=client_certs), passwords=passwords)


def _ids(ids: tuple[str, str, str]) -> dict[str, str]:
    name, key, serial = ids
    return {
        "hashAlgorithm": "SHA256",
        "issuerNameHash": name,
        "issuerKeyHash": key,
        "serialNumber": serial,
    }


def _listed(ids: tuple[str, str, str]) -> dict[str, str]:
    """As the ocpp package hands a GetInstalledCertificateIds answer over (snake_case)."""
    name, key, serial = ids
    return {
        "hash_algorithm": "SHA256",
        "issuer_name_hash": name,
        "issuer_key_hash": key,
        "serial_number": serial,
    }


async def _install(station: Station, kind: str, pem: str) -> str:
    answer = await station.call(call.InstallCertificate(certificate_type=kind, certificate=pem))
    return str(answer.status)


async def test_roots_are_installed_listed_and_deleted_with_every_refusal(
    nursery, start_csms, autojump_clock, ca, tmp_path
):
    """TC_075_1, TC_075_2, TC_076; M03-M05 with CertificateStoreMaxLength 2."""
    csms = await _tls_csms(start_csms, ca, client_certs=False)
    manufacturer = trustme.CA()
    async with charger(
        nursery, csms, ocpp=_profile_2(ca, tmp_path), keys={"CertificateStoreMaxLength": 2}
    ) as cp:
        station = await cp.registered()
        listed = await station.call(call.GetInstalledCertificateIds(certificate_type=ROOT))
        assert listed.status == "NotFound"  # [M03.FR.02] the ca_file is no installed root
        assert await _install(station, ROOT, ca.cert_pem.bytes().decode()) == "Accepted"
        assert await _install(station, MANUFACTURER, manufacturer.cert_pem.bytes().decode()) == (
            "Accepted"
        )
        full = await _install(station, MANUFACTURER, trustme.CA().cert_pem.bytes().decode())
        assert full == "Rejected"  # [M05.FR.03] the store holds 2
        garbage = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----"
        assert await _install(station, ROOT, garbage) == "Rejected"  # [M05.FR.06]

        listed = await station.call(call.GetInstalledCertificateIds(certificate_type=ROOT))
        root = ca_cert(ca)
        assert listed.status == "Accepted"
        assert listed.certificate_hash_data == [_listed(ocsp_ids(root, root))]
        made = x509.load_pem_x509_certificate(manufacturer.cert_pem.bytes())
        listed = await station.call(call.GetInstalledCertificateIds(certificate_type=MANUFACTURER))
        assert listed.certificate_hash_data == [_listed(ocsp_ids(made, made))]

        # [M04.FR.06] the root that verified this connection (through the ca_file) stays
        deleted = await station.call(call.DeleteCertificate(_ids(ocsp_ids(root, root))))
        assert deleted.status == "Failed"
        deleted = await station.call(call.DeleteCertificate(_ids(ocsp_ids(made, made))))
        assert deleted.status == "Accepted"
        again = await station.call(call.DeleteCertificate(_ids(ocsp_ids(made, made))))
        assert again.status == "NotFound"  # [M04.FR.04]

        # the next connection is verified with the store's root
        cp.parts.connection.hang_up("test: dial again")
        station = await cp.station(connection=2)
        deleted = await station.call(call.DeleteCertificate(_ids(ocsp_ids(root, root))))
        assert deleted.status == "Failed"  # still the one in use


async def test_on_profiles_0_and_1_certificate_operations_are_answered(
    nursery, start_csms, autojump_clock, ca, tmp_path
):
    """The whitepaper gives M03-M05 and A02 no prerequisite, and its way to TLS runs through
    them on a link without TLS: a raise to profile 2 needs a CentralSystemRootCertificate
    installed first [A05.FR.03] (OCTT TC_083 from profile 1: memory state
    CertificateInstalled). So on profiles 0 and 1 every operation is answered as on 2,
    but for a ManufacturerRootCertificate, which is Rejected there (the signer of firmware
    is not taken from a central system nobody authenticated)."""
    for profile, options in (
        (0, {}),
        (1, {"security_profile": 1, "authorization_key": "s3cret-password-1"}),
    ):
        passwords = {CP_ID: "s3cret-password-1"} if profile == 1 else {}
        csms = await start_csms(passwords=passwords)
        state = tmp_path / f"profile-{profile}"
        state.mkdir()
        async with charger(
            nursery, csms, ocpp=options, state_dir=state, keys={"CpoName": CPO}
        ) as cp:
            station = await cp.registered()
            root = ca_cert(ca)
            assert await _install(station, ROOT, to_pem(root)) == "Accepted"
            listed = await station.call(call.GetInstalledCertificateIds(certificate_type=ROOT))
            assert listed.certificate_hash_data == [_listed(ocsp_ids(root, root))]
            # but never a manufacturer root: it decides which firmware is installed, and
            # without TLS nobody vouches for who sent it
            made = x509.load_pem_x509_certificate(trustme.CA().cert_pem.bytes())
            assert await _install(station, MANUFACTURER, to_pem(made)) == "Rejected"
            none = await station.call(
                call.GetInstalledCertificateIds(certificate_type=MANUFACTURER)
            )
            assert none.status == "NotFound"
            trigger = await station.call(
                call.ExtendedTriggerMessage(requested_message="SignChargePointCertificate")
            )
            assert trigger.status == "Accepted"
            sent = await station.wait_for("SignCertificate")
            signed = call.CertificateSigned(
                certificate_chain=to_pem(sign_csr(ca, sent.payload["csr"]))
            )
            assert (await station.call(signed)).status == "Accepted"
            assert list((cp.state_dir / "certs" / "charger").glob("*.pem"))
            deleted = await station.call(call.DeleteCertificate(_ids(ocsp_ids(root, root))))
            assert deleted.status == "Accepted"
            await cp.stop()


async def test_a_raise_from_profile_1_to_2_dials_with_the_root_installed_over_ocpp(
    nursery, start_csms, autojump_clock, ca, tmp_path
):
    """OCTT TC_083 from profile 1: CertificateInstalled, then SecurityProfile 2; the raised
    link is verified with the root the central system installed (no ca_file at all)."""
    context = _server(ca, client_certs=False)
    tls = await start_csms(ssl_context=context, passwords={CP_ID: "s3cret-password-1"})
    plain = await start_csms(passwords={CP_ID: "s3cret-password-1"})
    ocpp = {
        "security_profile": 1,
        "authorization_key": "s3cret-password-1",
        "tls_url": f"wss://127.0.0.1:{tls.port}/ocpp",
    }
    async with charger(nursery, plain, ocpp=ocpp, state_dir=tmp_path) as cp:
        station = await cp.registered()
        change = call.ChangeConfiguration(key="SecurityProfile", value="2")
        assert (await station.call(change)).status == "Rejected"  # no root yet [A05.FR.03]
        assert await _install(station, ROOT, to_pem(ca_cert(ca))) == "Accepted"
        assert (await station.call(change)).status == "Accepted"
        with trio.fail_after(60):
            await tls.wait_station(CP_ID)
        assert cp.keys.get_int("SecurityProfile") == 2


async def _new_certificate(cp: Any, station: Station, ca: trustme.CA, **dates: Any) -> Any:
    """ExtendedTriggerMessage(SignChargePointCertificate), the CSR signed by the CA, and
    CertificateSigned: the certificate the charger took."""
    before = len(station.calls("SignCertificate"))
    trigger = await station.call(
        call.ExtendedTriggerMessage(requested_message="SignChargePointCertificate")
    )
    assert trigger.status == "Accepted"
    with trio.fail_after(60):
        sent = await station.wait_for("SignCertificate", count=before + 1)
    cert = sign_csr(ca, sent.payload["csr"], **dates)
    answer = await station.call(call.CertificateSigned(certificate_chain=to_pem(cert)))
    assert answer.status == "Accepted"
    return cert


async def test_a_csr_signed_by_the_ca_is_the_client_certificate_of_the_next_connection(
    nursery, start_csms, autojump_clock, ca, tmp_path, caplog
):
    """TC_074 / A02: the key is made on the charger, the CSR names the serial and the CPO,
    the central system sees the new certificate on the next connection; no private key in
    any log line or status answer."""
    caplog.set_level(logging.DEBUG)
    csms = await _tls_csms(start_csms, ca, client_certs=True)
    async with charger(nursery, csms, ocpp=_profile_3(ca, tmp_path), keys={"CpoName": CPO}) as cp:
        station = await cp.registered()
        first = x509.load_der_x509_certificate(csms.peer_certificates[-1] or b"")
        assert first == _factory(tmp_path)  # the bootstrap certificate of the config files
        cert = await _new_certificate(cp, station, ca)
        [sign] = [c for c in csms.all_calls() if c.action == "SignCertificate"]
        csr = x509.load_pem_x509_csr(sign.payload["csr"].encode())
        assert csr.subject.rfc4514_string() == f"O={CPO},CN={SERIAL}"
        assert csr.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        ) == cert.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        assert len(csms.peer_certificates) == 1  # the open connection keeps its certificate
        cp.parts.connection.hang_up("test: dial again")
        await cp.station(connection=2)
        seen = x509.load_der_x509_certificate(csms.peer_certificates[-1] or b"")
        assert seen == cert

        # DeleteCertificate never deletes the charger's own certificate [M04.FR.05]
        station = await cp.station(connection=2)
        own = await station.call(call.DeleteCertificate(_ids(ocsp_ids(cert, ca_cert(ca)))))
        assert own.status == "Failed"

        status = await cp.status()
        own = status["certificates"]["own"]
        assert own["subject"] == f"O={CPO},CN={SERIAL}" and own["not_after"].startswith("2100")
        assert status["certificates"]["roots"] == {"csms": 0, "manufacturer": 0}
        shown = format_status(status)
        assert f"certificates  O={CPO},CN={SERIAL} until 2100-01-01; roots: 0 central" in shown
        keys = [p.read_text() for p in (cp.state_dir / "certs" / "charger").glob("*.key")]
        assert keys
        texts = [r.getMessage() for r in caplog.records] + [repr(status), shown]
        for key in keys:
            private = serialization.load_pem_private_key(key.encode(), password=None)
            assert isinstance(private, ec.EllipticCurvePrivateKey)
            scalar = private.private_numbers().private_value.to_bytes(32, "big")
            secrets = {scalar.hex(), scalar.hex().upper(), base64.b64encode(scalar).decode()}
            secrets |= {"PRIVATE KEY", "".join(key.splitlines()[1:-1])}
            for text in texts:
                leaked = [s for s in secrets if s in text.replace("\\n", "")]
                assert not leaked, f"a private key was logged: {text[:300]}"


async def test_a_certificate_that_is_not_valid_is_rejected_and_nothing_changes(
    nursery, start_csms, autojump_clock, ca, tmp_path
):
    """TC_077 / A02.FR.07: not ours, another CA's, a chain over CertificateSignedMaxChainSize."""
    csms = await _tls_csms(start_csms, ca, client_certs=True)
    async with charger(
        nursery,
        csms,
        ocpp=_profile_3(ca, tmp_path),
        keys={"CpoName": CPO, "CertificateSignedMaxChainSize": 2000},
    ) as cp:
        station = await cp.registered()
        await station.call(
            call.ExtendedTriggerMessage(requested_message="SignChargePointCertificate")
        )
        csr = (await station.wait_for("SignCertificate")).payload["csr"]
        stranger = sign_csr(trustme.CA(), csr)
        long_chain = to_pem(sign_csr(ca, csr)) + to_pem(ca_cert(ca)) * 3
        assert len(long_chain) > 2000
        not_ours = ca.issue_cert(SERIAL).cert_chain_pems[0].bytes().decode()
        for chain in (to_pem(stranger), long_chain, not_ours):
            answer = await station.call(call.CertificateSigned(certificate_chain=chain))
            assert answer.status == "Rejected"
        # OCTT TC_077 step 7: the InvalidChargePointCertificate security event, after the
        # answer; a non-critical event, told once per link [A02.FR.07]
        told = await station.wait_for(
            "SecurityEventNotification", lambda p: p["type"] == "InvalidChargePointCertificate"
        )
        assert "BEGIN CERTIFICATE" not in told.payload.get("techInfo", "")
        logged = (cp.state_dir / "security.log").read_text()
        assert logged.count("InvalidChargePointCertificate") == 3
        assert not list((cp.state_dir / "certs" / "charger").glob("*.pem"))
        cp.parts.connection.hang_up("test: dial again")
        await cp.station(connection=2)
        seen = x509.load_der_x509_certificate(csms.peer_certificates[-1] or b"")
        assert seen == _factory(tmp_path)  # still the bootstrap certificate


async def test_extended_trigger_message_sends_every_kind_it_can_and_says_which_it_cannot(
    nursery, start_csms, autojump_clock, ca, tmp_path
):
    """Every kind of the whitepaper's MessageTriggerEnumType [SEC §6.16]: Accepted and the
    message after the answer, Rejected where the message cannot be sent (a
    BootNotification once registered, errata §3.40; a connector this charger lacks)."""
    csms = await _tls_csms(start_csms, ca, client_certs=False)
    sent_as = {  # [SEC §6.16] what each kind sends
        "SignChargePointCertificate": "SignCertificate",
        "FirmwareStatusNotification": "SignedFirmwareStatusNotification",
    }
    async with charger(nursery, csms, ocpp=_profile_2(ca, tmp_path), keys={"CpoName": CPO}) as cp:
        station = await cp.registered()
        for kind in (
            "LogStatusNotification",
            "FirmwareStatusNotification",
            "Heartbeat",
            "MeterValues",
            "SignChargePointCertificate",
            "StatusNotification",
        ):
            action = sent_as.get(kind, kind)
            before = len(station.calls(action))
            answer = await station.call(call.ExtendedTriggerMessage(requested_message=kind))
            assert answer.status == "Accepted", kind
            with trio.fail_after(30):
                await station.wait_for(action, count=before + 1)
        boot = await station.call(call.ExtendedTriggerMessage(requested_message="BootNotification"))
        assert boot.status == "Rejected"
        for kind in ("MeterValues", "StatusNotification"):
            unknown = await station.call(
                call.ExtendedTriggerMessage(requested_message=kind, connector_id=9)
            )
            assert unknown.status == "Rejected", kind
        one = await station.call(
            call.ExtendedTriggerMessage(requested_message="StatusNotification", connector_id=1)
        )
        assert one.status == "Accepted"
        status = await station.wait_for("StatusNotification", lambda p: p["connectorId"] == 1)
        assert status.payload["status"] == "Available"
        await cp.settle(5)
        assert len(station.calls("BootNotification")) == 1


async def test_extended_trigger_message_of_a_profile_not_built_is_not_implemented(
    nursery, start_csms, autojump_clock, ca, tmp_path
):
    """A charger built without Firmware Management sends neither LogStatusNotification nor
    FirmwareStatusNotification: NotImplemented [SEC §6.17], and nothing follows."""
    from ocppd.features import firmware

    csms = await _tls_csms(start_csms, ca, client_certs=False)
    without = tuple(p for p in PROFILES if p is not firmware.profile)
    async with charger(
        nursery, csms, ocpp=_profile_2(ca, tmp_path), keys={"CpoName": CPO}, profiles=without
    ) as cp:
        station = await cp.registered()
        for kind in ("LogStatusNotification", "FirmwareStatusNotification"):
            answer = await station.call(call.ExtendedTriggerMessage(requested_message=kind))
            assert answer.status == "NotImplemented", kind
        heartbeat = await station.call(call.ExtendedTriggerMessage(requested_message="Heartbeat"))
        assert heartbeat.status == "Accepted"
        await station.wait_for("Heartbeat")
        await cp.settle(5)
        assert not station.calls("LogStatusNotification")
        assert not station.calls("FirmwareStatusNotification")
        assert not station.calls("SignedFirmwareStatusNotification")


async def test_the_charger_asks_for_a_new_certificate_a_month_before_its_own_expires(
    nursery, start_csms, autojump_clock, ca, tmp_path
):
    """A03.FR.02, on trio's clock: a certificate valid 40 more days is renewed after 10."""
    from datetime import UTC, datetime, timedelta

    csms = await _tls_csms(start_csms, ca, client_certs=True)
    csms.heartbeat_interval = 86400
    async with charger(
        nursery,
        csms,
        ocpp=_profile_3(ca, tmp_path),
        keys={"CpoName": CPO, "WebSocketPingInterval": 0},
    ) as cp:
        station = await cp.registered()
        expiry = datetime.fromtimestamp(wall(), UTC) + timedelta(days=40)
        await _new_certificate(cp, station, ca, not_after=expiry)
        start = trio.current_time()
        with trio.fail_after(11 * 86400):
            await station.wait_for("SignCertificate", count=2)
        waited = trio.current_time() - start
        assert 10 * 86400 - 60 <= waited <= 10 * 86400 + 120


async def test_a_new_root_signed_by_the_old_replaces_it_once_a_connection_with_it_works(
    nursery, start_csms, autojump_clock, ca, tmp_path
):
    """AdditionalRootCertificateCheck [M05.FR.08-13]: the old root stays as a fallback (the
    central system still shows a certificate of the old one) until a connection verified
    with the new root has registered; then the fallback is gone."""
    context = _server(ca, client_certs=False)
    csms = await start_csms(ssl_context=context, passwords={CP_ID: "tls-password-1234"})
    old, old_key = ca_cert(ca), ca_key(ca)
    new, new_key = root("CPO root 2", signer=(old, old_key))
    async with charger(
        nursery,
        csms,
        ocpp=_profile_2(ca, tmp_path),
        keys={"AdditionalRootCertificateCheck": True},
    ) as cp:
        station = await cp.registered()
        assert await _install(station, ROOT, to_pem(old)) == "Accepted"
        stranger = to_pem(root("someone else")[0])
        assert await _install(station, ROOT, stranger) == "Rejected"  # [M05.FR.10]
        assert await _install(station, ROOT, to_pem(new)) == "Accepted"
        csms_dir = cp.state_dir / "certs" / "csms"
        assert len(list(csms_dir.glob("*.fallback.pem"))) == 1

        cp.parts.connection.hang_up("test: dial again")  # still the old root's server cert
        await cp.station(connection=2)
        await cp.settle(5)
        assert len(list(csms_dir.glob("*.fallback.pem"))) == 1  # [M05.FR.13] it verified this

        leaf, leaf_key = server_cert(new, new_key)
        (tmp_path / "server.pem").write_bytes(to_pem(leaf).encode() + to_pem(new).encode())
        (tmp_path / "server.key").write_bytes(key_pem(leaf_key))
        context.load_cert_chain(tmp_path / "server.pem", tmp_path / "server.key")
        cp.parts.connection.hang_up("test: dial again")
        await cp.station(connection=3)
        with trio.fail_after(60):
            while list(csms_dir.glob("*.fallback.pem")):
                await trio.sleep(1)
        assert [p.name for p in csms_dir.glob("*.pem")] == [f"{fingerprint(new)}.pem"]


async def test_the_charger_certificate_survives_a_restart(
    nursery, start_csms, autojump_clock, ca, tmp_path
):
    """The store is the state directory's: after a restart the first connection already
    presents the certificate the central system signed, not the factory one."""
    csms = await _tls_csms(start_csms, ca, client_certs=True)
    state = tmp_path / "state"
    state.mkdir()
    options = {"ocpp": _profile_3(ca, tmp_path), "keys": {"CpoName": CPO}}
    async with charger(nursery, csms, state_dir=state, **options) as cp:
        station = await cp.registered()
        cert = await _new_certificate(cp, station, ca)
        await cp.stop()
    async with charger(nursery, csms, state_dir=state, **options) as cp:
        await cp.station(connection=2)
        seen = x509.load_der_x509_certificate(csms.peer_certificates[-1] or b"")
        assert seen == cert
        assert len(csms.peer_certificates) == 2


async def test_a_certificate_signed_over_ocpp_is_what_a_raise_to_profile_3_needs(
    nursery, start_csms, autojump_clock, ca, tmp_path
):
    """Whitepaper A05 with A02: on profile 2 the charger gets its certificate through
    SignCertificate; that certificate in the store (no cert_file in the config) is the
    prerequisite of SecurityProfile 3, which the link then dials with."""
    context = _server(ca, client_certs=True)
    context.verify_mode = ssl.CERT_OPTIONAL  # profile 2 presents none, profile 3 one
    csms = await start_csms(ssl_context=context, passwords={CP_ID: "tls-password-1234"})
    async with charger(nursery, csms, ocpp=_profile_2(ca, tmp_path), keys={"CpoName": CPO}) as cp:
        station = await cp.registered()
        change = call.ChangeConfiguration(key="SecurityProfile", value="3")
        assert (await station.call(change)).status == "Rejected"  # no certificate yet
        cert = await _new_certificate(cp, station, ca)
        csms.passwords.clear()  # profile 3 sends no password: the certificate is the identity
        assert (await station.call(change)).status == "Accepted"
        with trio.fail_after(60):
            await csms.wait_station(CP_ID, connection=2)
        seen = x509.load_der_x509_certificate(csms.peer_certificates[-1] or b"")
        assert seen == cert  # the raised link presents the certificate signed over OCPP
        assert cp.keys.get_int("SecurityProfile") == 3
