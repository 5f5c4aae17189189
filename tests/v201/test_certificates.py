"""The 2.0.1 certificate handlers (M03-M05, A02/A03) on the daemon's own certificate store.

The daemon runs over TLS (security profile 2, a throwaway CA) against the 1.6 central system;
the 2.0.1 requests are built as the CSMS sends them, checked against the 2.0.1 schemas of
the `ocpp` package, decoded by the 2.0.1 dialect and answered by the block's handlers, and
every answer is checked against the schemas too. The roots and the charger certificate are
the same store the 1.6 profile uses: what one version installs the other lists. OCTT cases:
TC_M_01/02 (install), TC_M_07 (expired), TC_M_09 (AdditionalRootCertificateCheck), TC_M_13,
TC_M_17, TC_M_19 (list), TC_M_20/22/23 (delete), TC_A_11/14 (CertificateSigned), TC_A_15.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import trio
import trustme
from cryptography import x509
from ocpp.messages import Call, CallResult, _validate_payload
from ocpp.v16 import call

from ocppd.features.v201 import certificates as c
from ocppd.protocol.rpc import IncomingCall
from ocppd.protocol.v201.dialect import V201
from ocppd.session import Then
from tests.harness import CP_ID, charger
from tests.pki import ca_cert, ocsp_ids, root, sign_csr, to_pem

SERIAL = "T-0001"  # the harness's [charge_point] serial_number
CPO = "Example CPO"
CSMS_ROOT = "CSMSRootCertificate"
MANUFACTURER = "ManufacturerRootCertificate"
PASSWORD = "tls-password-1234"


class Block:
    """The 2.0.1 certificate block of a running daemon, called as a 2.0.1 CSMS would."""

    def __init__(self, cp: Any) -> None:
        self.handlers = c.profile.handlers(cp.parts.services)
        self.services = cp.parts.services
        self.ids = 0

    async def call(self, action: str, payload: dict[str, Any]) -> dict[str, Any]:
        self.ids += 1
        _validate_payload(Call(str(self.ids), action, payload), ocpp_version="2.0.1")
        request = V201.decode_request(action, payload)
        answer = await self.handlers[action](IncomingCall(str(self.ids), action, request))
        response = answer.response if isinstance(answer, Then) else answer
        if isinstance(answer, Then):  # what the session does once the answer is out
            assert answer.owner is not None  # the work must not end with the link
            answer.owner(answer.after)
        out = V201.to_payload(response)
        _validate_payload(CallResult(str(self.ids), out, action=action), ocpp_version="2.0.1")
        return out

    async def install(self, kind: str, pem: str) -> dict[str, Any]:
        return await self.call("InstallCertificate", {"certificateType": kind, "certificate": pem})

    async def listed(self, *kinds: str) -> dict[str, Any]:
        payload = {"certificateType": list(kinds)} if kinds else {}
        return await self.call("GetInstalledCertificateIds", payload)

    async def delete(self, ids: tuple[str, str, str]) -> dict[str, Any]:
        return await self.call("DeleteCertificate", {"certificateHashData": _hash(ids)})


def _hash(ids: tuple[str, str, str]) -> dict[str, str]:
    name, key, serial = ids
    return {
        "hashAlgorithm": "SHA256",
        "issuerNameHash": name,
        "issuerKeyHash": key,
        "serialNumber": serial,
    }


def _sha512(cert: x509.Certificate) -> dict[str, str]:
    """The hash data of a self-signed root with SHA-512 (RFC 6960 CertID, by cryptography)."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.x509 import ocsp

    built = ocsp.OCSPRequestBuilder().add_certificate(cert, cert, hashes.SHA512()).build()
    return {
        "hashAlgorithm": "SHA512",
        "issuerNameHash": built.issuer_name_hash.hex(),
        "issuerKeyHash": built.issuer_key_hash.hex(),
        "serialNumber": format(built.serial_number, "X"),
    }


def _entry(kind: str, ids: tuple[str, str, str]) -> dict[str, Any]:
    return {"certificateType": kind, "certificateHashData": _hash(ids)}


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


async def _tls_charger(nursery: Any, start_csms: Any, ca: trustme.CA, tmp: Path, **options: Any):
    import ssl

    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    csms = await start_csms(ssl_context=context, passwords={CP_ID: PASSWORD})
    ca.cert_pem.write_to_path(str(tmp / "ca.pem"))
    ocpp = {"security_profile": 2, "ca_file": str(tmp / "ca.pem"), "authorization_key": PASSWORD}
    return charger(nursery, csms, ocpp=ocpp, **options)


async def test_roots_installed_listed_and_deleted_in_2_0_1_words(
    nursery, start_csms, autojump_clock, ca, tmp_path
):
    """TC_M_19_CS, TC_M_01_CS, TC_M_02_CS, TC_M_13_CS, TC_M_17_CS, TC_M_07_CS, TC_M_20_CS,
    TC_M_22_CS; M05.FR.03 with CertificateStoreMaxLength 2; V2G/MO roots refused."""
    manufacturer = trustme.CA()
    made = x509.load_pem_x509_certificate(manufacturer.cert_pem.bytes())
    ca_root = ca_cert(ca)
    async with await _tls_charger(
        nursery, start_csms, ca, tmp_path, keys={"CertificateStoreMaxLength": 2}
    ) as cp:
        station = await cp.registered()
        block = Block(cp)

        # TC_M_19_CS: nothing of the kind: NotFound and no certificateHashDataChain
        assert await block.listed("MORootCertificate") == {"status": "NotFound"}
        assert await block.listed(CSMS_ROOT) == {"status": "NotFound"}  # ca_file is no root

        # TC_M_01_CS / TC_M_02_CS
        assert await block.install(CSMS_ROOT, ca.cert_pem.bytes().decode()) == {
            "status": "Accepted"
        }
        assert await block.install(MANUFACTURER, to_pem(made)) == {"status": "Accepted"}
        # TC_M_13_CS / TC_M_17_CS, and M03.FR.04: no certificateType, every kind
        assert (await block.listed(CSMS_ROOT))["certificateHashDataChain"] == [
            _entry(CSMS_ROOT, ocsp_ids(ca_root, ca_root))
        ]
        both = [
            _entry(CSMS_ROOT, ocsp_ids(ca_root, ca_root)),
            _entry(MANUFACTURER, ocsp_ids(made, made)),
        ]
        assert (await block.listed(CSMS_ROOT, MANUFACTURER))["certificateHashDataChain"] == both
        assert (await block.listed())["certificateHashDataChain"] == both
        assert (await block.listed("V2GCertificateChain", MANUFACTURER))[
            "certificateHashDataChain"
        ] == [_entry(MANUFACTURER, ocsp_ids(made, made))]
        # the 1.6 side sees the same store
        listed16 = await station.call(
            call.GetInstalledCertificateIds(certificate_type=MANUFACTURER)
        )
        assert listed16.status == "Accepted"

        # M05.FR.03: the store is full
        full = await block.install(MANUFACTURER, trustme.CA().cert_pem.bytes().decode())
        assert full["status"] == "Rejected"
        assert full["statusInfo"]["reasonCode"] == "OutOfStorage"
        # ISO 15118 roots are not kept: Rejected, and why
        for kind in ("V2GRootCertificate", "MORootCertificate"):
            refused = await block.install(kind, trustme.CA().cert_pem.bytes().decode())
            assert refused["status"] == "Rejected"
            assert refused["statusInfo"]["reasonCode"] == "NotSupported"
            assert "15118" in refused["statusInfo"]["additionalInfo"]

        # TC_M_20_CS (named with SHA-512, as a CSMS may) then TC_M_22_CS
        deleted = await block.call(
            "DeleteCertificate",
            {"certificateHashData": _sha512(made)},
        )
        assert deleted == {"status": "Accepted"}
        assert await block.listed(MANUFACTURER) == {"status": "NotFound"}
        gone = await block.delete(ocsp_ids(made, made))
        assert gone["status"] == "NotFound"
        # TC_M_07_CS: an expired root is Rejected and not listed (room was made above)
        expired, _ = root("expired", not_after=datetime(2001, 1, 1, tzinfo=UTC))
        refused = await block.install(CSMS_ROOT, to_pem(expired))
        assert refused["status"] == "Rejected"
        assert refused["statusInfo"]["reasonCode"] == "InvalidCertificate"
        assert len((await block.listed(CSMS_ROOT))["certificateHashDataChain"]) == 1

        # the root that verified the open link is not deleted: the charger would be cut off
        in_use = await block.delete(ocsp_ids(ca_root, ca_root))
        assert in_use["status"] == "Failed"


async def test_additional_root_certificate_check_in_2_0_1(
    nursery, start_csms, autojump_clock, ca, tmp_path
):
    """TC_M_09_CS: with AdditionalRootCertificateCheck a new CSMS root not signed by the old one
    is Rejected, and the old one is still listed; one the old one signed replaces it."""
    old, old_key = root("old CSMS root")
    async with await _tls_charger(
        nursery, start_csms, ca, tmp_path, keys={"AdditionalRootCertificateCheck": True}
    ) as cp:
        await cp.registered()
        block = Block(cp)
        assert (await block.install(CSMS_ROOT, to_pem(old)))["status"] == "Accepted"
        stranger, _ = root("stranger")
        refused = await block.install(CSMS_ROOT, to_pem(stranger))
        assert refused["status"] == "Rejected"
        assert refused["statusInfo"]["reasonCode"] == "InvalidCertificate"
        assert (await block.listed(CSMS_ROOT))["certificateHashDataChain"] == [
            _entry(CSMS_ROOT, ocsp_ids(old, old))
        ]
        successor, _ = root("new CSMS root", signer=(old, old_key))
        assert (await block.install(CSMS_ROOT, to_pem(successor)))["status"] == "Accepted"


async def test_a_new_charging_station_certificate_through_trigger_and_certificate_signed(
    nursery, start_csms, autojump_clock, ca, tmp_path
):
    """TC_A_11_CS (the trigger, the CSR, CertificateSigned Accepted), TC_A_14_CS / A02.FR.07
    (an invalid chain Rejected, with the security event), TC_M_23_CS (the charger's own
    certificate is not deleted), and a V2GCertificate Rejected."""
    async with await _tls_charger(nursery, start_csms, ca, tmp_path, keys={"CpoName": CPO}) as cp:
        station = await cp.registered()
        block = Block(cp)
        services = block.services
        work = c.TRIGGERS["SignChargingStationCertificate"](services, None)
        assert work is not None
        assert services.shared["certificates"].sign_requests["ocpp2.0.1"] is c.sign_request
        await work()  # on this (1.6) link the CSR goes out in 1.6 words
        sent = station.calls("SignCertificate")[-1]
        csr = x509.load_pem_x509_csr(sent.payload["csr"].encode())
        assert csr.subject.rfc4514_string() == f"O={CPO},CN={SERIAL}"
        request = c.sign_request(sent.payload["csr"])  # and in 2.0.1 words, schema-valid
        _validate_payload(Call("s", "SignCertificate", V201.to_payload(request)), "2.0.1")
        assert V201.to_payload(request)["certificateType"] == "ChargingStationCertificate"

        # TC_A_14_CS: a chain for someone else's key is discarded with a security event
        stranger = trustme.CA().issue_cert(SERIAL).cert_chain_pems[0].bytes().decode()
        rejected = await block.call("CertificateSigned", {"certificateChain": stranger})
        assert rejected["status"] == "Rejected"
        assert rejected["statusInfo"]["reasonCode"] == "InvalidCertificate"
        with trio.fail_after(60):
            event = await station.wait_for(
                "SecurityEventNotification",
                lambda p: p["type"] == "InvalidChargePointCertificate",
            )
        assert "not for a key this charger made" in event.payload["techInfo"]
        assert "InvalidChargePointCertificate" in (cp.state_dir / "security.log").read_text()

        v2g = await block.call(
            "CertificateSigned",
            {"certificateChain": to_pem(ca_cert(ca)), "certificateType": "V2GCertificate"},
        )
        assert v2g["status"] == "Rejected"
        assert v2g["statusInfo"]["reasonCode"] == "NotSupported"

        signed = sign_csr(ca, sent.payload["csr"])
        taken = await block.call(
            "CertificateSigned",
            {"certificateChain": to_pem(signed), "certificateType": "ChargingStationCertificate"},
        )
        assert taken == {"status": "Accepted"}
        own = cp.parts.certificates.identity()
        assert own is not None and own.leaf == signed

        # TC_M_23_CS: the charger's own certificate cannot be deleted
        kept = await block.delete(ocsp_ids(signed, ca_cert(ca)))
        assert kept["status"] == "Failed"
        assert cp.parts.certificates.identity() is not None


async def test_on_profiles_0_and_1_certificate_operations_are_answered_with_a_warning(
    nursery, start_csms, autojump_clock, ca, caplog
):
    """No M03-M05 or A02 requirement depends on the security profile, and the way up to TLS
    passes through them (a raise to 2 needs a CSMS root installed first): answered, and each
    one on a link without TLS is a warning in the log."""
    for profile, options in (
        (0, {}),
        (1, {"security_profile": 1, "authorization_key": "s3cret-password-1"}),
    ):
        passwords = {CP_ID: "s3cret-password-1"} if profile == 1 else {}
        csms = await start_csms(passwords=passwords)
        async with charger(nursery, csms, ocpp=options, keys={"CpoName": CPO}) as cp:
            await cp.registered()
            block = Block(cp)
            root = ca_cert(ca)
            caplog.clear()
            installed = await block.install(CSMS_ROOT, to_pem(root))
            assert installed == {"status": "Accepted"}
            listed = await block.listed(CSMS_ROOT)
            assert listed["certificateHashDataChain"] == [_entry(CSMS_ROOT, ocsp_ids(root, root))]
            assert await block.delete(ocsp_ids(root, root)) == {"status": "Accepted"}
            assert cp.parts.certificates.count() == 0
            work = c.TRIGGERS["SignChargingStationCertificate"](block.services, None)
            assert work is not None  # Accepted: the certificate a raise to 3 needs
            warned = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
            for action in (
                "InstallCertificate",
                "GetInstalledCertificateIds",
                "DeleteCertificate",
                "SignChargingStationCertificate",
            ):
                assert f"{action} on security profile {profile}: the central system is not" in (
                    "\n".join(warned)
                ), action
            await cp.stop()


async def test_hostile_certificate_requests_get_answers_not_crashes(
    nursery, start_csms, autojump_clock, ca, tmp_path
):
    """What the schema lets through but is nonsense: every answer is a schema-valid
    refusal, nothing is kept, the daemon carries on."""
    async with await _tls_charger(nursery, start_csms, ca, tmp_path) as cp:
        await cp.registered()
        block = Block(cp)
        junk = "-----BEGIN CERTIFICATE-----\n" + "A" * 5000 + "\n-----END CERTIFICATE-----"
        for kind in (CSMS_ROOT, MANUFACTURER):
            for text in ("", "not a certificate", junk, to_pem(ca_cert(ca)) * 2):
                answer = await block.install(kind, text)
                assert answer["status"] == "Rejected", (kind, text[:20])
        for chain in ("", "x" * 10000, junk):
            answer = await block.call("CertificateSigned", {"certificateChain": chain})
            assert answer["status"] == "Rejected"
        odd = {
            "hashAlgorithm": "SHA384",
            "issuerNameHash": "zz",
            "issuerKeyHash": "",
            "serialNumber": "-1",
        }
        assert (await block.call("DeleteCertificate", {"certificateHashData": odd}))["status"] == (
            "NotFound"
        )
        twice = await block.listed(CSMS_ROOT, CSMS_ROOT, "MORootCertificate")
        assert twice == {"status": "NotFound"}
        assert cp.parts.certificates.count() == 0 and cp.parts.certificates.identity() is None
