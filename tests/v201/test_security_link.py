"""Security and certificates over a real OCPP 2.0.1 link (TLS, a throwaway CA) against the
independent 2.0.1 CSMS (`ocpp` package, every frame the charger sends validated against the
2.0.1 schemas; tests assert no violation).

OCTT cases: TC_M_01_CS, TC_M_17_CS, TC_M_19_CS (install and list), TC_M_20_CS (delete),
TC_A_11_CS (the charging station certificate renewed by request of the CSMS, used on the next
connection on security profile 3), TC_A_14_CS (an invalid certificate, with its security
event), TC_A_19_CS-like (A03: renewal initiated by the station a month before expiry), A04
(security events in 2.0.1 words, a 1.6 event waits for a 1.6 link).
"""

from __future__ import annotations

import logging
import ssl
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import trio
import trustme
from cryptography import x509
from ocpp.v201 import call

from ocppd import ctl
from tests.harness import CP_ID, wall
from tests.netutil import Proxy
from tests.pki import ca_cert, ocsp_ids, sign_csr, to_pem
from tests.v201.harness import charger201, registered

SERIAL = "T-0001"  # the harness's [charge_point] serial_number
CPO = "Example CPO"
PASSWORD = "tls-password-1234"


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


def _profile_2(ca: trustme.CA, tmp: Path) -> dict[str, Any]:
    ca.cert_pem.write_to_path(str(tmp / "ca.pem"))
    return {"security_profile": 2, "ca_file": str(tmp / "ca.pem"), "authorization_key": PASSWORD}


def _profile_3(ca: trustme.CA, tmp: Path) -> dict[str, Any]:
    ca.cert_pem.write_to_path(str(tmp / "ca.pem"))
    factory = ca.issue_cert(SERIAL)
    factory.cert_chain_pems[0].write_to_path(str(tmp / "factory.pem"))
    factory.private_key_pem.write_to_path(str(tmp / "factory.key"))
    return {
        "security_profile": 3,
        "ca_file": str(tmp / "ca.pem"),
        "cert_file": str(tmp / "factory.pem"),
        "key_file": str(tmp / "factory.key"),
    }


def _hash(ids: tuple[str, str, str]) -> dict[str, str]:
    name, key, serial = ids
    return {
        "hash_algorithm": "SHA256",
        "issuer_name_hash": name,
        "issuer_key_hash": key,
        "serial_number": serial,
    }


async def _ask_for_a_certificate(station: Any) -> Any:
    """TriggerMessage(SignChargingStationCertificate) [F06, A02]: Accepted, then the
    SignCertificate it starts."""
    before = len(station.calls("SignCertificate"))
    trigger = await station.call(
        call.TriggerMessage(requested_message="SignChargingStationCertificate")
    )
    assert trigger.status == "Accepted"
    with trio.fail_after(60):
        return await station.wait_for("SignCertificate", count=before + 1)


async def test_roots_over_a_2_0_1_link(nursery, start_csms201, autojump_clock, ca, tmp_path):
    """TC_M_19_CS, TC_M_01_CS, TC_M_02_CS, TC_M_17_CS, TC_M_20_CS over the wire."""
    csms = await start_csms201(
        ssl_context=_server(ca, client_certs=False), passwords={CP_ID: PASSWORD}
    )
    manufacturer = trustme.CA()
    made = x509.load_pem_x509_certificate(manufacturer.cert_pem.bytes())
    root = ca_cert(ca)
    async with charger201(nursery, csms, ocpp=_profile_2(ca, tmp_path)) as cp:
        station = await registered(cp)
        none = await station.call(
            call.GetInstalledCertificateIds(certificate_type=["MORootCertificate"])
        )
        assert none.status == "NotFound" and none.certificate_hash_data_chain is None
        for kind, pem in (
            ("CSMSRootCertificate", ca.cert_pem.bytes().decode()),
            ("ManufacturerRootCertificate", to_pem(made)),
        ):
            answer = await station.call(
                call.InstallCertificate(certificate_type=kind, certificate=pem)
            )
            assert answer.status == "Accepted", kind
        listed = await station.call(call.GetInstalledCertificateIds())
        assert listed.status == "Accepted"
        assert listed.certificate_hash_data_chain == [
            {
                "certificate_type": "CSMSRootCertificate",
                "certificate_hash_data": _hash(ocsp_ids(root, root)),
            },
            {
                "certificate_type": "ManufacturerRootCertificate",
                "certificate_hash_data": _hash(ocsp_ids(made, made)),
            },
        ]
        deleted = await station.call(
            call.DeleteCertificate(certificate_hash_data=_hash(ocsp_ids(made, made)))
        )
        assert deleted.status == "Accepted"
        v2g = await station.call(
            call.InstallCertificate(certificate_type="V2GRootCertificate", certificate=to_pem(made))
        )
        assert v2g.status == "Rejected" and v2g.status_info["reason_code"] == "NotSupported"
    assert csms.violations == []


async def test_the_charging_station_certificate_renewed_by_request_of_the_csms(
    nursery, start_csms201, autojump_clock, ca, tmp_path
):
    """TC_A_11_CS and TC_A_14_CS: TriggerMessage(SignChargingStationCertificate), a
    SignCertificate in 2.0.1 words, an invalid chain Rejected with the security event
    InvalidChargingStationCertificate, the good one Accepted and presented on the next
    connection (security profile 3)."""
    csms = await start_csms201(ssl_context=_server(ca, client_certs=True))
    state = tmp_path / "state"
    state.mkdir()
    options = {"ocpp": _profile_3(ca, tmp_path), "keys": {"CpoName": CPO}, "state_dir": state}
    async with charger201(nursery, csms, **options) as cp:
        station = await registered(cp)
        sent = await _ask_for_a_certificate(station)
        assert sent.payload["certificateType"] == "ChargingStationCertificate"

        stranger = trustme.CA().issue_cert(SERIAL).cert_chain_pems[0].bytes().decode()
        rejected = await station.call(call.CertificateSigned(certificate_chain=stranger))
        assert rejected.status == "Rejected"
        with trio.fail_after(60):
            event = await station.wait_for(
                "SecurityEventNotification",
                lambda p: p["type"] == "InvalidChargingStationCertificate",
            )
        assert "not for a key this charger made" in event.payload["techInfo"]
        # the event raised before the first link went out in 2.0.1 too (the first offered)
        told = [c.payload["type"] for c in station.calls("SecurityEventNotification")]
        assert told[0] == "StartupOfTheDevice"

        signed = sign_csr(ca, sent.payload["csr"])
        taken = await station.call(
            call.CertificateSigned(
                certificate_chain=to_pem(signed), certificate_type="ChargingStationCertificate"
            )
        )
        assert taken.status == "Accepted"
        await cp.stop()
    async with charger201(nursery, csms, **options) as cp:  # the next connection
        await registered(cp, connection=2)
        first, last = csms.peer_certificates[0], csms.peer_certificates[-1]
        assert first is not None and last is not None
        factory = x509.load_pem_x509_certificate((tmp_path / "factory.pem").read_bytes())
        assert x509.load_der_x509_certificate(first) == factory  # the config file's, at first
        assert x509.load_der_x509_certificate(last) == signed  # the new one, from now on
    assert csms.violations == []


async def test_the_renewal_a_month_before_expiry_speaks_2_0_1(
    nursery, start_csms201, autojump_clock, ca, tmp_path
):
    """A03: the station asks for a new certificate on its own, a month before the one in use
    expires, in the version of the open link."""
    csms = await start_csms201(ssl_context=_server(ca, client_certs=True))
    async with charger201(
        nursery, csms, ocpp=_profile_3(ca, tmp_path), keys={"CpoName": CPO}
    ) as cp:
        station = await registered(cp)
        sent = await _ask_for_a_certificate(station)
        now = cp.parts.certificates.now()
        short = sign_csr(
            ca,
            sent.payload["csr"],
            not_before=now - timedelta(days=1),
            not_after=now + timedelta(days=40),
        )
        taken = await station.call(call.CertificateSigned(certificate_chain=to_pem(short)))
        assert taken.status == "Accepted"
        with trio.fail_after(15 * 86400):
            renewal = await station.wait_for("SignCertificate", count=2)
        assert renewal.payload["certificateType"] == "ChargingStationCertificate"
        assert wall() >= (now + timedelta(days=10)).timestamp() - 86400
    assert csms.violations == []


async def test_on_profile_1_the_way_up_to_tls_is_open_over_2_0_1(
    nursery, start_csms201, autojump_clock, ca
):
    """On security profile 1 the CSMS installs its root and has the station make its key and
    CSR (what a raise to profile 2, then 3, needs first): both answered over 2.0.1."""
    csms = await start_csms201(passwords={CP_ID: "s3cret-password-1"})
    options = {"security_profile": 1, "authorization_key": "s3cret-password-1"}
    async with charger201(nursery, csms, ocpp=options, keys={"CpoName": CPO}) as cp:
        station = await registered(cp)
        installed = await station.call(
            call.InstallCertificate(
                certificate_type="CSMSRootCertificate", certificate=to_pem(ca_cert(ca))
            )
        )
        assert installed.status == "Accepted"
        sent = await _ask_for_a_certificate(station)
        assert sent.payload["certificateType"] == "ChargingStationCertificate"
    assert csms.violations == []


async def test_a_security_event_is_delivered_in_the_version_it_was_recorded_in(
    nursery, start_csms, start_csms201, autojump_clock, tmp_path
):
    """A04 with design decision 5: an event is recorded in the version current when it
    happens (the open link's, else the last agreed; on a first boot it waits for the first
    link to agree one) and is delivered over a link in that version; rows of another version
    wait for theirs and hold nothing; on a 2.0.1 link it is in 2.0.1 words."""
    old = await start_csms()
    async with charger201(nursery, old, state_dir=tmp_path, url=old.url) as cp:
        station = await cp.registered()
        await cp.settle(60)
        # the start was before any link: recorded once the 1.6 link agreed, and told on it
        told = station.calls("SecurityEventNotification")
        assert [t.payload["type"] for t in told] == ["StartupOfTheDevice"]
        assert (await cp.status())["queue"]["waiting_for"] == {}
        await cp.stop()
    new = await start_csms201()
    async with charger201(nursery, new, state_dir=tmp_path, url=new.url) as cp:
        station = await registered(cp)
        await cp.parts.security.occurred("InvalidCentralSystemCertificate", "test: on 2.0.1")
        await cp.settle(60)
        # this start's event (1.6, the version the last link agreed) waits for a 1.6 link;
        # the event just raised, in 2.0.1 words, passes it
        told = station.calls("SecurityEventNotification")
        assert [t.payload["type"] for t in told] == ["InvalidCsmsCertificate"]
        status = await cp.status()
        assert status["queue"]["waiting_for"] == {"ocpp1.6": 1}
        assert status["queue"]["held_for"] == "ocpp1.6"
        assert "1 wait for a connection in ocpp1.6" in ctl.format_status(status)
        pending = await cp.journal.pending_messages()
        assert [(m.protocol, m.payload["type"]) for m in pending] == [
            ("ocpp1.6", "StartupOfTheDevice")
        ]
        await cp.stop()
    assert new.violations == []
    async with charger201(nursery, old, state_dir=tmp_path, url=old.url) as cp:
        station = await cp.registered(connection=2)  # this CSMS's second connection
        await cp.settle(60)
        told = station.calls("SecurityEventNotification")
        assert [t.payload["type"] for t in told] == ["StartupOfTheDevice"]  # the second start's
        # this start's, recorded in 2.0.1 (the last agreed), waits for a 2.0.1 link
        pending = await cp.journal.pending_messages()
        assert [(m.protocol, m.payload["type"]) for m in pending] == [
            ("ocpp2.0.1", "StartupOfTheDevice")
        ]
        assert (await cp.status())["queue"]["waiting_for"] == {"ocpp2.0.1": 1}
    assert old.violations == []


async def test_a_2_0_1_password_is_taken_dialled_with_and_kept_across_a_restart(
    nursery, start_csms201, autojump_clock, tmp_path, caplog
):
    """A01 (TC_A_09_CS) with a 2.0.1 passwordString (not 1.6's hex): SetVariables of
    SecurityCtrlr.BasicAuthPassword is Accepted, the link re-dials with it (the CSMS checks
    it), what was queued goes out on the new link, the value is never logged, and the next
    start dials with it again (the journal keeps it)."""
    caplog.set_level(logging.DEBUG)
    old, new = "s3cret-password-1", "Renewed:Pass_word.2026"
    csms = await start_csms201(passwords={CP_ID: old})
    options = {"security_profile": 1, "authorization_key": old}
    async with charger201(nursery, csms, ocpp=options, state_dir=tmp_path) as cp:
        station = await registered(cp)
        csms.passwords[CP_ID] = new  # the CSMS expects the new one from now on
        answer = await station.call(
            call.SetVariables(
                set_variable_data=[
                    {
                        "component": {"name": "SecurityCtrlr"},
                        "variable": {"name": "BasicAuthPassword"},
                        "attribute_value": new,
                    }
                ]
            )
        )
        assert answer.set_variable_result[0]["attribute_status"] == "Accepted"
        station = await registered(cp, connection=2)  # dialled with the new password
        with trio.fail_after(60):
            told = await station.wait_for(
                "SecurityEventNotification",
                lambda p: p["type"] == "ReconfigurationOfSecurityParameters",
            )
        assert new not in str(told.payload)
        await cp.stop()
    async with charger201(nursery, csms, ocpp=options, state_dir=tmp_path) as cp:
        await registered(cp, connection=3)  # the journal's password, not the config file's
    assert csms.violations == []
    assert new not in caplog.text


async def test_link_failures_are_told_in_2_0_1_words(
    nursery, start_csms201, autojump_clock, ca, tmp_path
):
    """A04 for the link's own failures: a stranger's certificate (A00.FR.309/413:
    InvalidCsmsCertificate) and a refused password (FailedToAuthenticateAtCsms), raised
    before any link agreed a version (so in the first offered, 2.0.1), told once the right
    CSMS answers."""
    good = await start_csms201(
        ssl_context=_server(ca, client_certs=False), passwords={CP_ID: "another-password-16"}
    )
    stranger = await start_csms201(
        ssl_context=_server(trustme.CA(), client_certs=False), passwords={CP_ID: PASSWORD}
    )
    proxy = await nursery.start(Proxy(stranger.port).serve)
    url = proxy.url.replace("ws://", "wss://")
    async with charger201(nursery, good, url=url, ocpp=_profile_2(ca, tmp_path)) as cp:
        connection = cp.parts.connection
        while connection.last_error_kind != "tls-certificate":
            await connection.wait_changed()
        proxy.target_port = good.port  # the right server, which refuses the password first
        while connection.last_error_kind != "unauthorized":
            await connection.wait_changed()
        good.passwords[CP_ID] = PASSWORD
        station = await registered(cp)
        with trio.fail_after(60):
            for word in ("InvalidCsmsCertificate", "FailedToAuthenticateAtCsms"):
                await station.wait_for(
                    "SecurityEventNotification", lambda p, w=word: p["type"] == w
                )
    assert not stranger.stations
    assert good.violations == []


async def test_a_signcertificate_without_its_certificate_is_asked_again(
    nursery, start_csms201, autojump_clock, ca, tmp_path
):
    """TC_A_23_CS (A02.FR.17-18): the CSMS accepts the SignCertificate and sends no
    CertificateSigned: the station asks again with a new key after CertSigningWaitMinimum,
    then twice as long, CertSigningRepeatTimes times; a certificate taken ends it."""
    csms = await start_csms201(
        ssl_context=_server(ca, client_certs=False), passwords={CP_ID: PASSWORD}
    )
    keys = {
        "CpoName": CPO,
        '"SecurityCtrlr.CertSigningWaitMinimum"': 30,  # quoted: a dotted TOML key is a table
        '"SecurityCtrlr.CertSigningRepeatTimes"': 2,
    }
    async with charger201(nursery, csms, ocpp=_profile_2(ca, tmp_path), keys=keys) as cp:
        station = await registered(cp)
        first = await _ask_for_a_certificate(station)
        asked = trio.current_time()
        with trio.fail_after(31):
            second = await station.wait_for("SignCertificate", count=2)
        assert trio.current_time() - asked >= 30
        with trio.fail_after(61):
            third = await station.wait_for("SignCertificate", count=3)
        assert trio.current_time() - asked >= 90
        await trio.sleep(600)
        assert len(station.calls("SignCertificate")) == 3  # CertSigningRepeatTimes: 2
        assert len({first.payload["csr"], second.payload["csr"], third.payload["csr"]}) == 3

        # asked again, and this time the certificate comes: no more SignCertificate
        sent = await _ask_for_a_certificate(station)
        signed = sign_csr(ca, sent.payload["csr"])
        taken = await station.call(call.CertificateSigned(certificate_chain=to_pem(signed)))
        assert taken.status == "Accepted"
        await trio.sleep(600)
        assert len(station.calls("SignCertificate")) == 4
    assert csms.violations == []
