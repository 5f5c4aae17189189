"""SecurityProfile over OCPP (security whitepaper use case A05; OCTT TC_083, TC_084, TC_085):
raised only, only with its prerequisites; an accepted raise reconnects with the new
profile, and one that fails falls back to the previous profile, durably.

The central systems here are the independent ``ocpp`` package behind TLS with a
throwaway CA (trustme): a plain one for profile 1 and a TLS one at ``ocpp.tls_url``.
"""

from __future__ import annotations

import logging
import ssl
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import trio
import trustme
from ocpp.v16 import call

from ocppd.app import KEY_PREFIX
from ocppd.features.security.profiles import TRIAL_SETTING
from ocppd.testing.csms import NoAnswer
from tests.harness import CP_ID, charger

KEY = "00112233445566778899aabbccddeeff"  # 16 bytes in hex: a usable AuthorizationKey
# OCTT TC_073_CS step 1: "OCA_OCTT_admin_test" hex encoded [A00.FR.205]
OCTT_HEX_KEY = "4F43415F4F4354545F61646D696E5F74657374"
OCTT_PASSWORD = "OCA_OCTT_admin_test"


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


def _server(ca: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    context.verify_mode = ssl.CERT_OPTIONAL  # profile 2 (no certificate) and 3 (one)
    ca.configure_trust(context)
    return context


def _files(ca: trustme.CA, tmp: Path) -> dict[str, str]:
    client = ca.issue_cert(CP_ID)
    files = {
        "ca_file": (tmp / "ca.pem", ca.cert_pem),
        "cert_file": (tmp / "client.pem", client.cert_chain_pems[0]),
        "key_file": (tmp / "client.key", client.private_key_pem),
    }
    for path, blob in files.values():
        blob.write_to_path(str(path))
    return {name: str(path) for name, (path, _) in files.items()}


async def _change(station: Any, value: str) -> str:
    answer = await station.call(call.ChangeConfiguration(key="SecurityProfile", value=value))
    return str(answer.status)


async def _profile_seen(station: Any) -> str:
    listing = await station.call(call.GetConfiguration(key=["SecurityProfile"]))
    return str(listing.configuration_key[0]["value"])


async def test_a_lower_or_equal_profile_is_rejected_without_reconnecting(
    nursery, start_csms, autojump_clock
):
    """OCTT TC_084: Downgrade security profile - Rejected."""
    csms = await start_csms(passwords={CP_ID: KEY})
    async with charger(nursery, csms, ocpp={"security_profile": 1, "authorization_key": KEY}) as cp:
        station = await cp.registered()
        for value in ("0", "1"):
            assert await _change(station, value) == "Rejected"
        await trio.sleep(30)
        assert cp.parts.connection.connects == 1
        assert station.ws.closed is None
        assert await _profile_seen(station) == "1"


async def test_a_raise_without_its_prerequisites_is_rejected(
    nursery, start_csms, autojump_clock, ca, tmp_path
):
    csms = await start_csms()
    async with charger(nursery, csms) as cp:
        station = await cp.registered()
        # profile 1 and 2 need an AuthorizationKey; 2 and 3 a CentralSystemRootCertificate
        for value in ("1", "2", "3"):
            assert await _change(station, value) == "Rejected", value
        answer = await station.call(call.ChangeConfiguration(key="AuthorizationKey", value=KEY))
        assert answer.status == "Accepted"
        station = await cp.station(connection=2)
        for value in ("2", "3"):  # a key, but no root certificate
            assert await _change(station, value) == "Rejected", value
        await trio.sleep(30)
        assert cp.parts.connection.connects == 2
        assert await _profile_seen(station) == "0"
    files = _files(ca, tmp_path)
    async with charger(
        nursery, csms, ocpp={"ca_file": files["ca_file"], "authorization_key": KEY}
    ) as cp:
        station = await cp.registered(connection=3)
        assert await _change(station, "3") == "Rejected"  # no charge point certificate
    old = ca.issue_cert(CP_ID, not_before=datetime(2000, 1, 1), not_after=datetime(2001, 1, 1))
    old.cert_chain_pems[0].write_to_path(files["cert_file"])
    async with charger(nursery, csms, ocpp=files) as cp:
        station = await cp.registered(connection=4)
        assert await _change(station, "3") == "Rejected"  # its certificate expired
        assert cp.keys.get_int("SecurityProfile") == 0


async def test_upgrade_1_to_2_to_3_reconnects_each_time_with_the_new_profile(
    nursery, start_csms, autojump_clock, ca, tmp_path, caplog
):
    """OCTT TC_083: Upgrade Charge Point Security Profile - Accepted."""
    caplog.set_level(logging.INFO, logger="ocppd.connection")
    plain = await start_csms(passwords={CP_ID: KEY})
    tls = await start_csms(ssl_context=_server(ca), passwords={CP_ID: KEY})
    files = _files(ca, tmp_path)
    ocpp = {"security_profile": 1, "authorization_key": KEY, "tls_url": tls.url, **files}
    async with charger(nursery, plain, state_dir=tmp_path, ocpp=ocpp) as cp:
        station = await cp.registered()
        assert await _change(station, "2") == "Accepted"
        with trio.fail_after(60):
            secure = await tls.wait_station(CP_ID, connection=1)
        assert cp.parts.connection.url.startswith("wss://")
        assert await _profile_seen(secure) == "2"
        with trio.fail_after(60):
            while TRIAL_SETTING in await cp.journal.settings():
                await trio.sleep(1)
        tls.passwords.clear()  # profile 3 sends no password: the certificate is the identity
        assert await _change(secure, "3") == "Accepted"
        with trio.fail_after(60):
            third = await tls.wait_station(CP_ID, connection=2)
        assert await _profile_seen(third) == "3"
        status = await cp.control({"cmd": "status"})
        assert status["connection"]["security_profile"] == 3
        assert "(security profile 3)" in caplog.text
    # the raised profile is kept across a restart
    async with charger(nursery, plain, state_dir=tmp_path, ocpp=ocpp) as cp:
        with trio.fail_after(60):
            again = await tls.wait_station(CP_ID, connection=3)
        assert cp.keys.get_int("SecurityProfile") == 3
        assert await _profile_seen(again) == "3"


async def test_a_raise_that_cannot_connect_falls_back_durably(
    nursery, start_csms, autojump_clock, ca, tmp_path
):
    plain = await start_csms(passwords={CP_ID: KEY})
    stranger = await start_csms(ssl_context=_server(trustme.CA()), passwords={CP_ID: KEY})
    files = _files(ca, tmp_path)  # trusts our CA, not the stranger's
    ocpp = {"security_profile": 1, "authorization_key": KEY, "tls_url": stranger.url, **files}
    async with charger(nursery, plain, state_dir=tmp_path, ocpp=ocpp) as cp:
        station = await cp.registered()
        assert await _change(station, "2") == "Accepted"
        back = await cp.station(connection=2)
        assert cp.keys.get_int("SecurityProfile") == 1
        assert await _profile_seen(back) == "1"
        assert not stranger.stations
        assert TRIAL_SETTING not in await cp.journal.settings()
    logged = (tmp_path / "security.log").read_text()
    assert "ReconfigurationOfSecurityParameters SecurityProfile raised from 1 to 2" in logged
    assert "SecurityProfile 2 failed (TLS: certificate not trusted" in logged
    assert "fell back to 1" in logged
    assert "InvalidCentralSystemCertificate" in logged
    async with charger(nursery, plain, state_dir=tmp_path, ocpp=ocpp) as cp:
        station = await cp.registered(connection=3)
        assert cp.keys.get_int("SecurityProfile") == 1
        assert cp.parts.connection.url.startswith("ws://")


async def test_a_trial_cut_short_by_a_restart_still_falls_back(
    nursery, start_csms, autojump_clock, ca, tmp_path
):
    """Power lost after the raise was Accepted, before a link proved it: the trial is in the
    journal, so the next start tries the new profile and still falls back."""
    plain = await start_csms(passwords={CP_ID: KEY})
    stranger = await start_csms(ssl_context=_server(trustme.CA()), passwords={CP_ID: KEY})
    ocpp = {"security_profile": 1, "authorization_key": KEY, "tls_url": stranger.url}
    ocpp.update(_files(ca, tmp_path))
    async with charger(nursery, plain, state_dir=tmp_path, ocpp=ocpp) as cp:
        await cp.registered()
        # what an Accepted raise had written when the power went
        await cp.journal.set_setting(KEY_PREFIX + "SecurityProfile", "2")
        await cp.journal.set_setting(TRIAL_SETTING, "1>2")
    async with charger(nursery, plain, state_dir=tmp_path, ocpp=ocpp) as cp:
        station = await cp.registered(connection=2)
        assert cp.keys.get_int("SecurityProfile") == 1
        assert await _profile_seen(station) == "1"
        assert cp.parts.connection.connects == 1  # the try with profile 2 never connected
        assert TRIAL_SETTING not in await cp.journal.settings()


async def test_a_new_authorization_key_reconnects_keeping_every_queued_message(
    nursery, start_csms, autojump_clock
):
    """OCTT TC_073 (Update Charge Point Password for HTTP Basic Authentication): Accepted,
    the link is closed and dialled again with the new password (the tool's hex key's
    decoded text, as TC_085 expects it), and a transaction message
    that was waiting for its answer is delivered on the new link, once."""
    csms = await start_csms(passwords={CP_ID: KEY})
    async with charger(nursery, csms, ocpp={"security_profile": 1, "authorization_key": KEY}) as cp:
        station = await cp.registered()
        csms.overrides["StartTransaction"] = lambda station, payload: NoAnswer()
        await cp.sim("plug", 1)
        await cp.swipe("TAG-073")
        first = await station.wait_for("StartTransaction")
        csms.passwords[CP_ID] = OCTT_PASSWORD  # the tool expects the key's decoded text
        del csms.overrides["StartTransaction"]
        answer = await station.call(
            call.ChangeConfiguration(key="AuthorizationKey", value=OCTT_HEX_KEY)
        )
        assert answer.status == "Accepted"
        again = await cp.station(connection=2)
        start = await again.wait_for("StartTransaction")
        assert start.unique_id == first.unique_id and start.payload == first.payload
        await cp.swipe("TAG-073")
        await again.wait_for("StopTransaction")
        await trio.sleep(60)
        assert len(again.calls("StartTransaction")) == 1
        assert "ReconfigurationOfSecurityParameters" in events_told(csms)
    assert not csms.rejections  # the new link dialled with the new password at once


async def test_tc_073_the_password_a_hex_key_stands_for_survives_a_restart(
    nursery, start_csms, autojump_clock, tmp_path
):
    """OCTT TC_073 steps 1-6: each ChangeConfiguration(AuthorizationKey) is Accepted and the
    charger dials again with the new password: the tool's hex key as its decoded text;
    then a random binary key (no text) as written. The password in force is kept: after a
    restart the charger dials with it, and the config file's key is not used again."""
    csms = await start_csms(passwords={CP_ID: KEY})
    ocpp = {"security_profile": 1, "authorization_key": KEY}
    binary = "00FF10EF20DF30CF40BF50AF609F708F807F906F"  # 20 bytes, not text: as written
    async with charger(nursery, csms, state_dir=tmp_path, ocpp=ocpp) as cp:
        station = await cp.registered()
        csms.passwords[CP_ID] = OCTT_PASSWORD
        answer = await station.call(
            call.ChangeConfiguration(key="AuthorizationKey", value=OCTT_HEX_KEY)
        )
        assert answer.status == "Accepted"
        station = await cp.registered(connection=2)
        csms.passwords[CP_ID] = binary
        answer = await station.call(call.ChangeConfiguration(key="AuthorizationKey", value=binary))
        assert answer.status == "Accepted"
        station = await cp.registered(connection=3)
        csms.passwords[CP_ID] = OCTT_PASSWORD
        answer = await station.call(
            call.ChangeConfiguration(key="AuthorizationKey", value=OCTT_HEX_KEY.lower())
        )
        assert answer.status == "Accepted"
        await cp.registered(connection=4)
    assert not csms.rejections
    async with charger(nursery, csms, state_dir=tmp_path, ocpp=ocpp) as cp:
        await cp.registered(connection=5)
    assert not csms.rejections  # every link (a restart too) used the password in force


async def test_a_wrong_password_is_refused_by_the_central_system(
    nursery, start_csms, autojump_clock
):
    """The check above can fail: a central system that expects the hex text as written
    refuses the decoded password the charger dials with (the csms's 401)."""
    csms = await start_csms(passwords={CP_ID: KEY})
    async with charger(nursery, csms, ocpp={"security_profile": 1, "authorization_key": KEY}) as cp:
        station = await cp.registered()
        csms.passwords[CP_ID] = OCTT_HEX_KEY  # not what the charger uses
        answer = await station.call(
            call.ChangeConfiguration(key="AuthorizationKey", value=OCTT_HEX_KEY)
        )
        assert answer.status == "Accepted"
        with trio.move_on_after(30):
            while not csms.rejections:
                await trio.sleep(1)
    assert csms.rejections and "bad credentials" in csms.rejections[0]


def events_told(csms: Any) -> list[str]:
    return [
        c.payload["type"] for c in csms.all_calls(CP_ID) if c.action == "SecurityEventNotification"
    ]
