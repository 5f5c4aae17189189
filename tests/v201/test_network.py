"""Network profiles in OCPP 2.0.1 against the independent 2.0.1 CSMS: SetNetworkProfile (B09),
the dialling order of NetworkConfigurationPriority (B10) and the raise of the security
profile a network profile carries (A05), over real TLS on loopback.

Slot 0 is the config file's connection; the CSMS writes slots 1-3. The order takes effect
at the next dial after a Reset (the daemon ends; the test starts the next process on the
same state directory, as systemd would)."""

from __future__ import annotations

import logging
import ssl
from pathlib import Path
from typing import Any

import pytest
import trio
import trustme
from ocpp.v201 import call

from ocppd.app import Outcome
from ocppd.ctl import format_status
from tests.harness import CP_ID, Charger
from tests.test_offline import Disk
from tests.v201.harness import charger201, registered

KEY = "0123456789abcdef0123"  # a BasicAuthPassword (passwordString, 16-40 characters)


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


def tls_server(ca: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    context.verify_mode = ssl.CERT_OPTIONAL  # profile 2 (no certificate) and 3 (one)
    ca.configure_trust(context)
    return context


def pki_files(ca: trustme.CA, tmp: Path) -> dict[str, str]:
    client = ca.issue_cert(CP_ID)
    files = {
        "ca_file": (tmp / "ca.pem", ca.cert_pem),
        "cert_file": (tmp / "client.pem", client.cert_chain_pems[0]),
        "key_file": (tmp / "client.key", client.private_key_pem),
    }
    for path, blob in files.values():
        blob.write_to_path(str(path))
    return {name: str(path) for name, (path, _) in files.items()}


def profile(url: str, security: int, **extra: Any) -> dict[str, Any]:
    return {
        "ocpp_version": "OCPP20",
        "ocpp_transport": "JSON",
        "ocpp_csms_url": url,
        "message_timeout": 30,
        "security_profile": security,
        "ocpp_interface": "Wired0",
        **extra,
    }


async def set_profile(station: Any, slot: int, data: dict[str, Any]) -> tuple[str, str | None]:
    answer = await station.call(
        call.SetNetworkProfile(configuration_slot=slot, connection_data=data)
    )
    info = answer.status_info or {}
    return str(answer.status), info.get("reason_code")


async def set_priority(station: Any, value: str) -> str:
    answer = await station.call(
        call.SetVariables(
            set_variable_data=[
                {
                    "attribute_value": value,
                    "component": {"name": "OCPPCommCtrlr"},
                    "variable": {"name": "NetworkConfigurationPriority"},
                }
            ]
        )
    )
    return str(answer.set_variable_result[0]["attribute_status"])


async def variable(station: Any, component: str, name: str) -> str:
    answer = await station.call(
        call.GetVariables(
            get_variable_data=[{"component": {"name": component}, "variable": {"name": name}}]
        )
    )
    return str(answer.get_variable_result[0].get("attribute_value"))


async def reset(cp: Charger, station: Any) -> None:
    answer = await station.call(call.Reset(type="OnIdle"))
    assert answer.status == "Accepted"
    with trio.fail_after(60):
        await cp.done.wait()
    assert cp.outcome == [Outcome.SOFT_RESET]


async def test_tc_b_43_cs_invalid_network_profiles_are_rejected(
    nursery, start_csms201, autojump_clock
) -> None:
    """TC_B_43_CS (slot 999) and the rest of B09.FR.02/04/05: a slot that does not exist or
    is the config file's, a transport, version or URL this charger cannot use, an APN or a
    VPN it cannot apply, a lower security profile, missing prerequisites: Rejected, with the
    reasonCode of the 2.0.1 errata; nothing kept."""
    csms = await start_csms201(passwords={CP_ID: KEY})
    ocpp = {"security_profile": 1, "authorization_key": KEY}
    async with charger201(nursery, csms, ocpp=ocpp) as cp:
        station = await registered(cp)
        url = "ws://127.0.0.1:9/ocpp"
        tls_url = "wss://127.0.0.1:9/ocpp"
        apn = {"apn": "internet", "apn_authentication": "NONE"}
        vpn = {"server": "vpn", "user": "u", "password": "secret-vpn", "key": "k", "type": "IPSec"}
        cases = [
            (999, profile(url, 1), "InvalidConfSlot"),  # TC_B_43_CS
            (0, profile(url, 1), "InvalidConfSlot"),  # the config file's
            (1, profile(url, 0), "NoSecurityDowngrade"),  # B09.FR.04
            (1, profile(url, 1, ocpp_transport="SOAP"), "InvalidNetworkConf"),
            (1, profile(url, 1, ocpp_version="OCPP15"), "InvalidNetworkConf"),
            (1, profile("http://127.0.0.1/ocpp", 1), "InvalidNetworkConf"),
            (1, profile(url, 2), "InvalidNetworkConf"),  # TLS needs wss://
            (1, profile(tls_url, 2), "InvalidNetworkConf"),  # no CSMS root (A05.FR.02)
            (1, profile(url, 1, apn=apn), "InvalidNetworkConf"),
            (1, profile(url, 1, vpn=vpn), "InvalidNetworkConf"),
        ]
        for slot, data, reason in cases:
            assert await set_profile(station, slot, data) == ("Rejected", reason), (slot, data)
        # the priority may name only slots that exist
        assert await set_priority(station, "1,0") == "Rejected"
        assert await set_priority(station, "0") == "Accepted"
        assert not any(k.startswith("network.slot.") for k in await cp.journal.settings())
        assert csms.violations == []


async def test_tc_b_45_cs_migrate_to_a_new_csms(
    nursery, start_csms201, autojump_clock, tmp_path: Path
) -> None:
    """TC_B_45_CS: a new network profile in a free slot (B09.FR.01), the priority puts it
    first (B10.FR.01), and after the Reset the station connects to the new CSMS (B10.FR.04)
    with a BootNotification; the slot in use is ActiveNetworkProfile and `ocppctl status`."""
    old = await start_csms201()
    new = await start_csms201()
    async with charger201(nursery, old, state_dir=tmp_path) as cp:
        station = await registered(cp)
        assert await variable(station, "OCPPCommCtrlr", "ActiveNetworkProfile") == "0"
        assert await set_profile(station, 1, profile(new.url, 0)) == ("Accepted", None)
        assert await set_priority(station, "1,0") == "Accepted"
        assert await variable(station, "OCPPCommCtrlr", "NetworkConfigurationPriority") == "1,0"
        await trio.sleep(30)  # the order takes effect at the next dial: no reconnect now
        assert cp.parts.connection.connects == 1
        await reset(cp, station)
    async with charger201(nursery, old, state_dir=tmp_path) as cp:
        moved = await registered_at(cp, new)
        assert moved.calls()[0].action == "BootNotification"
        assert await variable(moved, "OCPPCommCtrlr", "ActiveNetworkProfile") == "1"
        status = await cp.status()
        assert status["connection"]["slot"] == 1
        assert status["connection"]["url"] == f"{new.url}/{CP_ID}"
        assert "network profile slot 1)" in format_status(status)
    assert old.connections == [CP_ID]
    assert old.violations == [] and new.violations == []


async def registered_at(cp: Charger, csms: Any, connection: int = 1) -> Any:
    with trio.fail_after(120):
        station = await csms.wait_station(CP_ID, connection=connection)
        n = len(cp.charger.connectors)
        await station.wait_for("StatusNotification", lambda p: p["evseId"] == n)
    return station


async def test_tc_b_46_cs_falls_back_after_the_attempts_of_a_failing_slot(
    nursery, start_csms201, autojump_clock, tmp_path: Path, caplog
) -> None:
    """TC_B_46_CS: the first entry cannot be reached: NetworkProfileConnectionAttempts
    attempts (B10.FR.03), then the next entry, here the config file's, which registers."""
    caplog.set_level(logging.INFO, logger="ocppd.connection")
    csms = await start_csms201()
    async with charger201(nursery, csms, state_dir=tmp_path) as cp:
        station = await registered(cp)
        nowhere = "ws://127.0.0.1:9/ocpp"  # the discard port: refused
        assert await set_profile(station, 2, profile(nowhere, 0)) == ("Accepted", None)
        assert await set_priority(station, "2,0") == "Accepted"
        answer = await station.call(
            call.SetVariables(
                set_variable_data=[
                    {
                        "attribute_value": "2",
                        "component": {"name": "OCPPCommCtrlr"},
                        "variable": {"name": "NetworkProfileConnectionAttempts"},
                    }
                ]
            )
        )
        assert answer.set_variable_result[0]["attribute_status"] == "Accepted"
        await reset(cp, station)
    async with charger201(nursery, csms, state_dir=tmp_path) as cp:
        back = await registered_at(cp, csms, connection=2)
        assert back.calls()[0].action == "BootNotification"
        assert caplog.text.count(f"connecting to {nowhere}/{CP_ID}") == 2
        assert (await cp.status())["connection"]["slot"] == 0
    assert csms.violations == []


async def test_tc_a_19_cs_upgrade_from_profile_1_to_2_and_never_back(
    nursery, start_csms201, autojump_clock, ca, tmp_path: Path, caplog
) -> None:
    """TC_A_19_CS from security profile 1: a network profile with profile 2 (B09.FR.01), the
    priority puts it first (A05.FR.04), after the Reset the station connects with TLS
    (A05.FR.05) and, registered, profile 2 is in force. When that CSMS refuses it later,
    the station does not go back to profile 1 (the 2025-06 errata's added steps): slot 0
    is dialled with TLS too, never over ws://."""
    caplog.set_level(logging.INFO, logger="ocppd.connection")
    plain = await start_csms201(passwords={CP_ID: KEY})
    tls = await start_csms201(ssl_context=tls_server(ca), passwords={CP_ID: KEY})
    files = pki_files(ca, tmp_path)
    ocpp = {"security_profile": 1, "authorization_key": KEY, "ca_file": files["ca_file"]}
    state = tmp_path / "state"
    state.mkdir()
    async with charger201(nursery, plain, state_dir=state, ocpp=ocpp) as cp:
        station = await registered(cp)
        assert await set_profile(station, 1, profile(tls.url, 2)) == ("Accepted", None)
        assert await set_priority(station, "1,0") == "Accepted"
        await reset(cp, station)
    async with charger201(nursery, plain, state_dir=state, ocpp=ocpp) as cp:
        secure = await registered_at(cp, tls)
        assert await variable(secure, "SecurityCtrlr", "SecurityProfile") == "2"
        with trio.fail_after(30):
            while cp.keys.get_int("SecurityProfile") != 2:
                await trio.sleep(1)
        assert cp.parts.connection.url.startswith("wss://")
        tls.passwords[CP_ID] = "another-password-0000"  # the TLS CSMS refuses it now
        with trio.move_on_after(10):  # the close handshake over TLS may not complete
            await secure.close()
        await trio.sleep(120)
        assert plain.connections == [CP_ID]  # never again over ws:// with profile 1
        # slot 0, the config file's, was dialled after slot 1's attempts: with TLS
        assert f"connecting to wss://127.0.0.1:{plain.port}/ocpp/{CP_ID}" in caplog.text
        assert cp.parts.connection.security_profile == 2
    assert plain.violations == [] and tls.violations == []


async def test_tc_a_19_cs_upgrade_from_profile_2_to_3(
    nursery, start_csms201, autojump_clock, ca, tmp_path: Path
) -> None:
    """TC_A_19_CS from security profile 2: a network profile with profile 3 (the station
    certificate is there: A05.FR.03), first in the priority; after the Reset the station
    presents its certificate and profile 3 is in force. A profile-2 slot is refused from
    then on (B09.FR.04, NoSecurityDowngrade), and so is a priority naming one (A05.FR.10)."""
    files = pki_files(ca, tmp_path)
    two = await start_csms201(ssl_context=tls_server(ca), passwords={CP_ID: KEY})
    three = await start_csms201(ssl_context=tls_server(ca))
    ocpp = {"security_profile": 2, "authorization_key": KEY, **files}
    state = tmp_path / "state"
    state.mkdir()
    async with charger201(nursery, two, state_dir=state, ocpp=ocpp) as cp:
        station = await registered(cp)
        assert await set_profile(station, 2, profile(two.url, 2)) == ("Accepted", None)
        assert await set_profile(station, 1, profile(three.url, 3)) == ("Accepted", None)
        assert await set_priority(station, "1,0") == "Accepted"
        await reset(cp, station)
    async with charger201(nursery, two, state_dir=state, ocpp=ocpp) as cp:
        secure = await registered_at(cp, three)
        assert three.peer_certificates[-1] is not None  # the station's certificate
        with trio.fail_after(30):
            while cp.keys.get_int("SecurityProfile") != 3:
                await trio.sleep(1)
        assert await variable(secure, "SecurityCtrlr", "SecurityProfile") == "3"
        assert await set_profile(secure, 3, profile(two.url, 2)) == (
            "Rejected",
            "NoSecurityDowngrade",
        )
        assert await set_priority(secure, "2,1") == "Rejected"  # slot 2 is profile 2
        assert await set_priority(secure, "1,0") == "Accepted"
    assert two.violations == [] and three.violations == []


async def test_a_reload_of_the_config_files_connection_wins_over_the_csms_slots(
    nursery, start_csms201, autojump_clock, tmp_path: Path
) -> None:
    """The installer's config stays the anchor: after a migration to the CSMS's slot 1, an
    edited `ocpp.url` and a reload dial the config file's connection at once, and the
    order is `0` again, durably; the CSMS's slot is kept."""
    old = await start_csms201()
    new = await start_csms201()
    installer = await start_csms201()
    async with charger201(nursery, old, state_dir=tmp_path) as cp:
        station = await registered(cp)
        assert await set_profile(station, 1, profile(new.url, 0)) == ("Accepted", None)
        assert await set_priority(station, "1,0") == "Accepted"
        await reset(cp, station)
    async with charger201(nursery, old, state_dir=tmp_path) as cp:
        await registered_at(cp, new)
        await trio.Path(cp.settings.path).write_text(
            cp.settings_text.replace(old.url, installer.url)
        )
        assert cp.daemon.reload() == []
        back = await registered_at(cp, installer)
        assert await variable(back, "OCPPCommCtrlr", "NetworkConfigurationPriority") == "0"
        assert (await cp.status())["connection"]["slot"] == 0
        assert "network.slot.1" in await cp.journal.settings()
    assert old.violations == [] and new.violations == [] and installer.violations == []


async def test_tc_a_21_cs_no_station_certificate_no_profile_3(
    nursery, start_csms201, autojump_clock, ca, tmp_path: Path
) -> None:
    """TC_A_21_CS: profile 3 without a valid ChargingStationCertificate (A05.FR.03): the
    network profile is refused (the 2025-04 errata allow it for TC_A_20_CS, and a slot
    that could never connect is not kept), so a priority naming its slot is refused too;
    the link stays as it is. TC_A_20_CS (no CSMSRootCertificate, A05.FR.02) is in
    test_tc_b_43_cs_invalid_network_profiles_are_rejected."""
    files = pki_files(ca, tmp_path)
    tls = await start_csms201(ssl_context=tls_server(ca), passwords={CP_ID: KEY})
    ocpp = {"security_profile": 2, "authorization_key": KEY, "ca_file": files["ca_file"]}
    async with charger201(nursery, tls, ocpp=ocpp) as cp:
        station = await registered(cp)
        assert await set_profile(station, 1, profile(tls.url, 3)) == (
            "Rejected",
            "InvalidNetworkConf",
        )
        assert await set_priority(station, "1,0") == "Rejected"
        await trio.sleep(30)
        assert cp.parts.connection.connects == 1
        assert cp.keys.get_int("SecurityProfile") == 2
    assert tls.violations == []


async def test_b09_fr_03_a_profile_the_journal_cannot_keep_fails(
    nursery, start_csms201, autojump_clock
) -> None:
    """B09.FR.03: a valid network profile that cannot be stored (the journal's disk is full)
    is Failed, and nothing of it is kept: a priority naming its slot is refused."""
    csms = await start_csms201()
    disk = type("DiskOf", (Disk,), {"full": False})
    async with charger201(
        nursery, csms, journal_options={"connection_factory": disk.factory()}
    ) as cp:
        station = await registered(cp)
        disk.full = True
        assert await set_profile(station, 1, profile(csms.url, 0)) == ("Failed", "WriteFailed")
        disk.full = False
        assert await set_priority(station, "1,0") == "Rejected"
        assert await set_profile(station, 1, profile(csms.url, 0)) == ("Accepted", None)
    assert csms.violations == []


async def test_b10_fr_10_a_switch_of_slot_without_a_restart_boots_again(
    nursery, start_csms201, autojump_clock, tmp_path: Path
) -> None:
    """B10.FR.03 and B10.FR.10: the new CSMS (slot 1) goes away; after its attempts the
    station dials slot 0 and, though the process did not restart, sends a BootNotification
    there before anything else."""
    old = await start_csms201()
    new = await start_csms201()
    async with charger201(nursery, old, state_dir=tmp_path) as cp:
        station = await registered(cp)
        assert await set_profile(station, 1, profile(new.url, 0)) == ("Accepted", None)
        assert await set_priority(station, "1,0") == "Accepted"
        await reset(cp, station)
    async with charger201(nursery, old, state_dir=tmp_path) as cp:
        moved = await registered_at(cp, new)
        new.passwords[CP_ID] = "not-this-charger-00"  # it refuses the station from now on
        with trio.move_on_after(10):
            await moved.close()
        back = await registered_at(cp, old, connection=2)
        assert back.calls()[0].action == "BootNotification"
        assert (await cp.status())["connection"]["slot"] == 0
    assert len(new.connections) == 1
    assert old.violations == [] and new.violations == []
