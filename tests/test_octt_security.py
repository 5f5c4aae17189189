"""The OCTT 1.6 security cases about the connection itself (Test Case Document, trial
2025-06, as quoted on ocpplab.com): TC_085_CS Basic Authentication - Valid
username/password combination, TC_086_CS TLS - server-side certificate - Valid
certificate, TC_087_CS TLS - Client-side certificate - valid certificate. The tool's
validations are checked by the independent central system (the Authorization header, the
handshake) and here (what the charger presented)."""

from __future__ import annotations

import ssl
from pathlib import Path
from typing import Any

import pytest
import trio
import trustme
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID
from ocpp.v16 import call

from tests.harness import CP_ID, charger
from tests.test_certificates import CPO, SERIAL, _new_certificate, _profile_3

KEY = "00112233445566778899aabbccddeeff"  # 16 bytes as 32 hex digits [A00.FR.205]

# The suites the charger must support: both ECDHE-ECDSA ones or both RSA ones
# [A00.FR.318, A00.FR.422], in OpenSSL's names. ocppd offers both pairs; the ECDSA pair is
# replayed (the RSA pair's static key exchange needs a server certificate with
# keyEncipherment, which the test CA does not issue).
SUITES = [
    ("ECDHE-ECDSA-AES128-GCM-SHA256", trustme.KeyType.ECDSA),
    ("ECDHE-ECDSA-AES256-GCM-SHA384", trustme.KeyType.ECDSA),
]


def _tls12_server(ca: trustme.CA, suite: str, *, client_certs: bool = False) -> ssl.SSLContext:
    """A central system that speaks TLS 1.2 with ``suite`` only."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.maximum_version = ssl.TLSVersion.TLSv1_2
    context.set_ciphers(suite)
    if client_certs:
        context.verify_mode = ssl.CERT_REQUIRED
        ca.configure_trust(context)
    return context


def _ca_file(ca: trustme.CA, tmp: Path) -> str:
    path = tmp / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return str(path)


@pytest.mark.parametrize("profile", [1, 2])
async def test_tc_085_basic_authentication_valid_username_password_combination(
    nursery, start_csms, autojump_clock, tmp_path, profile
):
    """TC_085_CS step 1: the upgrade request carries AUTHORIZATION: Basic
    base64(<ChargePointId>:<password>), the ChargePointId being the last segment of the
    URL; with every connection request [A00.FR.203-205, A00.FR.302-304]. The central
    system accepts exactly that header (any other is a 401)."""
    ocpp: dict[str, Any] = {"security_profile": profile, "authorization_key": KEY}
    options: dict[str, Any] = {}
    if profile == 2:
        ca = trustme.CA()
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ca.issue_cert("127.0.0.1").configure_cert(context)
        options["ssl_context"] = context
        ocpp["ca_file"] = _ca_file(ca, tmp_path)
    csms = await start_csms(passwords={CP_ID: KEY}, **options)
    async with charger(nursery, csms, ocpp=ocpp) as cp:
        await cp.registered()
        cp.parts.connection.hang_up("test: dial again")
        await cp.registered(connection=2)
    assert csms.connections == [CP_ID, CP_ID]
    assert csms.rejections == []


async def test_tc_085_a_hex_key_set_over_ocpp_is_sent_as_its_text(
    nursery, start_csms, autojump_clock
):
    """TC_085_CS's note: a BasicAuthPassword of 32-40 characters is the hex of the
    password. With the key the tool sets in TC_073_CS, every later upgrade request carries
    Basic base64(<ChargePointId>:OCA_OCTT_admin_test) [A00.FR.205]; the central system
    accepts that header only."""
    csms = await start_csms(passwords={CP_ID: KEY})
    async with charger(nursery, csms, ocpp={"security_profile": 1, "authorization_key": KEY}) as cp:
        station = await cp.registered()
        csms.passwords[CP_ID] = "OCA_OCTT_admin_test"
        answer = await station.call(
            call.ChangeConfiguration(
                key="AuthorizationKey", value="4F43415F4F4354545F61646D696E5F74657374"
            )
        )
        assert answer.status == "Accepted"
        await cp.registered(connection=2)
        cp.parts.connection.hang_up("test: dial again")
        await cp.registered(connection=3)
    assert csms.rejections == []


@pytest.mark.parametrize(("suite", "key_type"), SUITES)
async def test_tc_086_tls_server_side_certificate_valid_certificate(
    nursery, start_csms, autojump_clock, tmp_path, suite, key_type
):
    """TC_086_CS: security profile 2 against a central system that offers TLS 1.2 and one
    of the whitepaper's suites only: the charger verifies the server certificate, sets up
    the secured websocket (step 2: TLS 1.2 or above, the suite supported) and sends its
    basic-auth header on it (step 5)."""
    ca = trustme.CA(key_type=key_type)
    csms = await start_csms(ssl_context=_tls12_server(ca, suite), passwords={CP_ID: KEY})
    ocpp = {"security_profile": 2, "authorization_key": KEY, "ca_file": _ca_file(ca, tmp_path)}
    async with charger(nursery, csms, ocpp=ocpp) as cp:
        station = await cp.registered()
        assert cp.parts.connection.url.startswith("wss://")
        await station.wait_for("StatusNotification")
    assert csms.rejections == []


async def test_tc_086_a_server_with_only_tls_1_3_is_fine(
    nursery, start_csms, autojump_clock, tmp_path
):
    """TC_086_CS step 2, "TLS version 1.2 or above": TLS 1.3 alone connects (a server of
    TLS 1.1 only is refused: tests/test_security_events.py, InvalidTLSVersion)."""
    ca = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    context.minimum_version = ssl.TLSVersion.TLSv1_3
    csms = await start_csms(ssl_context=context, passwords={CP_ID: KEY})
    ocpp = {"security_profile": 2, "authorization_key": KEY, "ca_file": _ca_file(ca, tmp_path)}
    async with charger(nursery, csms, ocpp=ocpp) as cp:
        await cp.registered()


@pytest.mark.parametrize(("suite", "key_type"), SUITES)
async def test_tc_087_tls_client_side_certificate_valid_certificate(
    nursery, start_csms, autojump_clock, tmp_path, suite, key_type
):
    """TC_087_CS step 4: on security profile 3 the charger presents, over TLS 1.2 with a
    suite of the whitepaper, a PEM-stored X.509 certificate with a serial number, an EC
    key of at least 224 bits (RSA: 2048), and its unique serial number as the subject's
    CN [A00.FR.401-402, A00.FR.501-511]: the one the central system's CA signed for it
    (TC_074), on the next connection."""
    ca = trustme.CA(key_type=key_type)
    context = _tls12_server(ca, suite, client_certs=True)
    csms = await start_csms(ssl_context=context)
    async with charger(nursery, csms, ocpp=_profile_3(ca, tmp_path), keys={"CpoName": CPO}) as cp:
        station = await cp.registered()
        cert = await _new_certificate(cp, station, ca)
        cp.parts.connection.hang_up("test: dial again")
        with trio.fail_after(60):
            await cp.registered(connection=2)
    seen = x509.load_der_x509_certificate(csms.peer_certificates[-1] or b"")
    assert seen == cert
    assert seen.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == SERIAL
    assert seen.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == CPO
    assert seen.serial_number > 0
    key = seen.public_key()
    if isinstance(key, ec.EllipticCurvePublicKey):
        assert key.curve.key_size >= 224
    else:
        assert isinstance(key, rsa.RSAPublicKey) and key.key_size >= 2048
    assert csms.rejections == []
