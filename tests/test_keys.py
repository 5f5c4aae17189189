"""Every configuration key: listed, read, changed, refused, and still changed after a restart."""

from __future__ import annotations

import logging

import pytest
import trio
from ocpp.v16 import call

from ocppd.features import PROFILES, declared_keys
from ocppd.features.core.keys import basic_auth_password, default_rotation, rotation_check
from ocppd.model.keys import Keys
from ocppd.testing.csms import CallFailed
from tests.harness import charger

# key -> (a valid new value, an invalid value)
WRITABLE = {
    "AllowOfflineTxForUnknownId": ("true", "maybe"),
    "AuthorizationCacheEnabled": ("false", "2"),
    "AuthorizeRemoteTxRequests": ("true", "yes"),
    "ClockAlignedDataInterval": ("900", "-5"),
    "ConnectionTimeOut": ("90", "0"),
    "ConnectorPhaseRotation": ("0.RST,1.RST", "1.XYZ"),
    "HeartbeatInterval": ("600", "abc"),
    "LocalAuthListEnabled": ("false", "no"),
    "LocalAuthorizeOffline": ("false", ""),
    "LocalPreAuthorize": ("true", "TRUE!"),
    "MaxEnergyOnInvalidId": ("2000", "-1"),
    "MeterValuesAlignedData": ("Power.Active.Import", "Bogus"),
    "MeterValuesSampledData": ("Voltage,Current.Import", "Energy.Active.Import.Register,,Voltage"),
    "MeterValueSampleInterval": ("15", "1.5"),
    "MinimumStatusDuration": ("5", "-1"),
    "ResetRetries": ("3", "11"),
    "StopTransactionOnEVSideDisconnect": ("false", "no"),
    "StopTransactionOnInvalidId": ("false", "0"),
    "StopTxnAlignedData": ("Energy.Active.Import.Register", "Nope"),
    "StopTxnSampledData": ("Energy.Active.Import.Register,Power.Active.Import", "X"),
    "TransactionMessageAttempts": ("5", "0"),
    "TransactionMessageRetryInterval": ("30", "0"),
    "UnlockConnectorOnEVSideDisconnect": ("false", "f"),
    "WebSocketPingInterval": ("30", "-1"),
    "CpoName": ("Example CPO", "x" * 65),
}
WRITE_ONLY = {"AuthorizationKey"}
# writable, but only upwards and with its prerequisites (tests/test_security_profiles.py)
UPGRADE_ONLY = {"SecurityProfile": "0"}
READ_ONLY = {
    "ConnectorPhaseRotationMaxLength": "2",
    "GetConfigurationMaxKeys": "100",
    "LocalAuthListMaxLength": "10000",
    "MeterValuesAlignedDataMaxLength": "12",
    "MeterValuesSampledDataMaxLength": "12",
    "NumberOfConnectors": "1",
    "StopTxnAlignedDataMaxLength": "12",
    "SendLocalListMaxLength": "10000",
    "StopTxnSampledDataMaxLength": "12",
    "ReserveConnectorZeroSupported": "true",
    "SupportedFeatureProfiles": ",".join(p.name for p in PROFILES if p.advertised),
    "SupportedFileTransferProtocols": "HTTP,HTTPS,FTP,FTPS",
    # Smart Charging (1.6 §9.4)
    "ChargeProfileMaxStackLevel": "8",
    "ChargingScheduleAllowedChargingRateUnit": "Current,Power",
    "ChargingScheduleMaxPeriods": "24",
    "MaxChargingProfilesInstalled": "10",
    "ConnectorSwitch3to1PhaseSupported": "false",
    # security whitepaper §7, certificates
    "AdditionalRootCertificateCheck": "false",
    "CertificateSignedMaxChainSize": "10000",
    "CertificateStoreMaxLength": "20",
}


def test_every_declared_key_has_a_row_here() -> None:
    names = {spec.name for spec in declared_keys()}
    assert names == set(WRITABLE) | WRITE_ONLY | set(READ_ONLY) | set(UPGRADE_ONLY)


async def test_get_configuration_lists_every_key_with_its_access(
    nursery, start_csms, autojump_clock
):
    csms = await start_csms()
    async with charger(nursery, csms) as cp:
        station = await cp.registered()
        listing = await station.call(call.GetConfiguration())
        got = {k["key"]: k for k in listing.configuration_key}
        assert set(got) == set(WRITABLE) | WRITE_ONLY | set(READ_ONLY) | set(UPGRADE_ONLY)
        for name, value in READ_ONLY.items():
            assert got[name] == {"key": name, "readonly": True, "value": value}
        for name in WRITABLE:
            assert got[name]["readonly"] is False and "value" in got[name]
        for name, value in UPGRADE_ONLY.items():
            assert got[name] == {"key": name, "readonly": False, "value": value}
        assert got["AuthorizationKey"] == {"key": "AuthorizationKey", "readonly": False}
        assert listing.unknown_key is None
        some = await station.call(call.GetConfiguration(key=["HeartbeatInterval", "Foo", "Bar"]))
        assert [k["key"] for k in some.configuration_key] == ["HeartbeatInterval"]
        assert some.unknown_key == ["Foo", "Bar"]


async def test_get_configuration_refuses_more_keys_than_it_takes(
    nursery, start_csms, autojump_clock
):
    csms = await start_csms()
    async with charger(nursery, csms) as cp:
        station = await cp.registered()
        with pytest.raises(CallFailed) as refused:
            await station.call(call.GetConfiguration(key=[f"K{i}" for i in range(101)]))
        assert refused.value.code == "OccurenceConstraintViolation"
        assert not csms.violations or all("GetConfiguration" not in v.what for v in csms.violations)


async def test_every_writable_key_accepts_refuses_and_persists(
    nursery, start_csms, autojump_clock, tmp_path
):
    csms = await start_csms(heartbeat_interval=300)
    async with charger(nursery, csms, state_dir=tmp_path) as cp:
        station = await cp.registered()
        for name, (good, bad) in WRITABLE.items():
            before = await station.call(call.GetConfiguration(key=[name]))
            refused = await station.call(call.ChangeConfiguration(key=name, value=bad))
            assert refused.status == "Rejected", name
            after = await station.call(call.GetConfiguration(key=[name]))
            assert after.configuration_key == before.configuration_key, name
            accepted = await station.call(call.ChangeConfiguration(key=name, value=good))
            assert accepted.status == "Accepted", name
            now = await station.call(call.GetConfiguration(key=[name]))
            assert now.configuration_key[0]["value"] == good, name
        for name in [*READ_ONLY, *UPGRADE_ONLY]:  # "1" needs an AuthorizationKey first
            answer = await station.call(call.ChangeConfiguration(key=name, value="1"))
            assert answer.status == "Rejected", name
        unknown = await station.call(call.ChangeConfiguration(key="HeartbeatIntervall", value="6"))
        assert unknown.status == "NotSupported"
    async with charger(nursery, csms, state_dir=tmp_path) as cp:
        station = await cp.registered(connection=2)
        listing = await station.call(call.GetConfiguration(key=list(WRITABLE)))
        got = {k["key"]: k["value"] for k in listing.configuration_key}
        for name, (good, _) in WRITABLE.items():
            # the BootNotification answer sets the heartbeat interval on every start
            expected = "300" if name == "HeartbeatInterval" else good
            assert got[name] == expected, name
        assert not csms.violations


async def test_a_value_the_central_system_set_wins_over_the_config_file(
    nursery, start_csms, autojump_clock, tmp_path
):
    csms = await start_csms()
    async with charger(
        nursery, csms, state_dir=tmp_path, keys={"MeterValueSampleInterval": 120}
    ) as cp:
        station = await cp.registered()
        assert cp.keys.get_int("MeterValueSampleInterval") == 120
        await station.call(call.ChangeConfiguration(key="MeterValueSampleInterval", value="45"))
    async with charger(
        nursery, csms, state_dir=tmp_path, keys={"MeterValueSampleInterval": 120}
    ) as cp:
        await cp.registered(connection=2)
        assert cp.keys.get_int("MeterValueSampleInterval") == 45


async def test_a_new_heartbeat_interval_applies_at_once(nursery, start_csms, autojump_clock):
    csms = await start_csms(heartbeat_interval=3600)
    async with charger(nursery, csms) as cp:
        station = await cp.registered()
        await station.call(call.ChangeConfiguration(key="HeartbeatInterval", value="20"))
        changed = trio.current_time()
        await station.wait_for("Heartbeat", count=2)
        assert trio.current_time() - changed <= 41


async def test_an_authorization_key_that_is_not_hex_is_refused(nursery, start_csms, autojump_clock):
    """1.6: 16 to 20 bytes as 32 to 40 hex digits [A00.FR.205]; a plain-text password too."""
    csms = await start_csms()
    async with charger(nursery, csms) as cp:
        station = await cp.registered()
        for bad in (
            "short",
            "zz" * 16,
            "00" * 21,
            "41" * 15,
            "41" * 16 + "4",
            "OCA_OCTT_admin_test",
        ):
            answer = await station.call(call.ChangeConfiguration(key="AuthorizationKey", value=bad))
            assert answer.status == "Rejected"
        assert cp.parts.connection.connects == 1


# --- key names are CiString50Type (1.6 §7.17): case-insensitive -----------------------------


async def test_key_names_match_in_any_case_and_answers_give_the_declared_spelling(
    nursery, start_csms, autojump_clock, tmp_path
):
    csms = await start_csms()
    async with charger(nursery, csms, state_dir=tmp_path) as cp:
        station = await cp.registered()
        changed = await station.call(
            call.ChangeConfiguration(key="metervaluesampleinterval", value="45")
        )
        assert changed.status == "Accepted"
        assert cp.keys.get_int("MeterValueSampleInterval") == 45
        asked = ["METERVALUESAMPLEINTERVAL", "Nope", "meterValueSampleInterval", "nope"]
        listing = await station.call(call.GetConfiguration(key=asked))
        assert listing.configuration_key == [
            {"key": "MeterValueSampleInterval", "readonly": False, "value": "45"}
        ]
        assert listing.unknown_key == ["Nope", "nope"]  # as asked
        readonly = await station.call(call.ChangeConfiguration(key="numberofconnectors", value="3"))
        assert readonly.status == "Rejected"
        stored = await cp.journal.settings()  # persisted under the declared name, once
        assert [
            (k, v) for k, v in stored.items() if k.lower() == "key.metervaluesampleinterval"
        ] == [("key.MeterValueSampleInterval", "45")]
    async with charger(nursery, csms, state_dir=tmp_path) as cp:
        await cp.registered(connection=2)
        assert cp.keys.get_int("MeterValueSampleInterval") == 45
        assert not csms.violations


async def test_a_secret_key_in_another_case_is_still_secret(
    nursery, start_csms, autojump_clock, caplog
):
    caplog.set_level(logging.INFO)
    secret = "00112233445566778899AABBCCDDEEFF"
    csms = await start_csms()
    async with charger(nursery, csms) as cp:
        station = await cp.registered()
        answer = await station.call(call.ChangeConfiguration(key="authorizationkey", value=secret))
        assert answer.status == "Accepted"
        assert cp.keys.get_str("AuthorizationKey") == secret
        station = await cp.station(connection=2)  # a new key: a new connection with it
        listing = await station.call(call.GetConfiguration(key=["AUTHORIZATIONKEY"]))
        assert listing.configuration_key == [{"key": "AuthorizationKey", "readonly": False}]
    assert "ChangeConfiguration AuthorizationKey = ***: Accepted" in caplog.text
    assert secret not in caplog.text


def test_config_file_and_journal_names_in_another_case_reach_the_key() -> None:
    keys = Keys(
        declared_keys(),
        config={"heartbeatinterval": 60},
        persisted={"METERVALUESAMPLEINTERVAL": "15"},
    )
    assert keys.get_int("HeartbeatInterval") == 60
    assert keys.get_int("MeterValueSampleInterval") == 15
    assert "heartbeatINTERVAL" in keys.specs
    assert "HeartbeatInterval" in list(keys.specs)


# --- ConnectorPhaseRotation (1.6 §9.1) ------------------------------------------------------------

THREE_AND_SINGLE = {1: 3, 2: 1}  # connector 1 three-phase, connector 2 single-phase


@pytest.mark.parametrize(
    "value",
    [
        "0.RST, 1.RST",  # the spec's own example, spaces and all
        "0.Unknown,1.TSR,2.NotApplicable",
        "1.RTS",  # connector 0 is reported only if known
        "2.Unknown",
        "",
    ],
)
def test_phase_rotations_the_spec_allows(value: str) -> None:
    spec = {s.name: s for s in declared_keys(phases=THREE_AND_SINGLE)}["ConnectorPhaseRotation"]
    spec.parse(value)


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("RST", "'RST' is not <connector>.<rotation>, e.g. 1.RST"),
        (
            "1.rst",
            "1.rst: 'rst' is not one of NotApplicable, Unknown, RST, RTS, SRT, STR, TRS, TSR",
        ),
        ("1.XYZ", "1.XYZ: 'XYZ' is not one of"),
        ("01.RST", "'01.RST' is not <connector>.<rotation>"),
        ("-1.RST", "'-1.RST' is not <connector>.<rotation>"),
        ("3.RST", "3.RST: no connector 3 (0 to 2)"),
        ("1.RST,1.RTS", "1.RTS: connector 1 is given twice"),
        ("1.NotApplicable", "1.NotApplicable: NotApplicable is for single-phase connectors only"),
        ("0.NotApplicable", "0.NotApplicable: NotApplicable is for single-phase connectors only"),
        ("2.RST", "2.RST: connector 2 is single-phase (NotApplicable or Unknown)"),
        ("0.RST,1.RST,2.Unknown,0.RTS", "more than 3 items"),
    ],
)
def test_phase_rotations_the_spec_does_not_allow(value: str, problem: str) -> None:
    spec = {s.name: s for s in declared_keys(phases=THREE_AND_SINGLE)}["ConnectorPhaseRotation"]
    with pytest.raises(ValueError) as caught:
        spec.parse(value)
    assert str(caught.value).startswith(problem)


def test_the_default_rotation_follows_the_phases_of_each_connector() -> None:
    assert default_rotation(THREE_AND_SINGLE) == ("1.Unknown", "2.NotApplicable")
    assert default_rotation({1: 1, 2: 1}) == ("1.NotApplicable", "2.NotApplicable")
    assert rotation_check({1: 1, 2: 1})(("0.NotApplicable",)) is None  # all single-phase
    specs = {s.name: s for s in declared_keys(phases=THREE_AND_SINGLE)}
    assert specs["ConnectorPhaseRotationMaxLength"].default == 3


async def test_connector_phase_rotation_over_ocpp(nursery, start_csms, autojump_clock):
    csms = await start_csms()
    async with charger(nursery, csms, connectors=2) as cp:
        station = await cp.registered()
        listing = await station.call(call.GetConfiguration(key=["ConnectorPhaseRotation"]))
        assert listing.configuration_key[0]["value"] == "1.Unknown,2.Unknown"
        for bad in ("NotApplicable", "3.RST", "1.NotApplicable", "1.RST,1.RTS"):
            answer = await station.call(
                call.ChangeConfiguration(key="ConnectorPhaseRotation", value=bad)
            )
            assert answer.status == "Rejected", bad
        good = await station.call(
            call.ChangeConfiguration(key="connectorphaserotation", value="0.RST,1.RST,2.RTS")
        )
        assert good.status == "Accepted"
        assert cp.keys.get_csl("ConnectorPhaseRotation") == ("0.RST", "1.RST", "2.RTS")


# --- AuthorizationKey: the whitepaper's hex notation over 1.6 [A00.FR.205] ----------------

OCTT_HEX_KEY = "4F43415F4F4354545F61646D696E5F74657374"  # OCTT TC_073_CS


def test_a_hex_key_of_text_is_its_text_in_either_case():
    assert basic_auth_password(OCTT_HEX_KEY) == "OCA_OCTT_admin_test"
    assert basic_auth_password(OCTT_HEX_KEY.lower()) == "OCA_OCTT_admin_test"
    assert basic_auth_password("4f43415F4f4354545f61646D696e5F74657374") == "OCA_OCTT_admin_test"
    assert basic_auth_password("20" * 16) == " " * 16  # 0x20 and 0x7e are printable
    assert basic_auth_password("7e" * 20) == "~" * 20


def test_a_key_that_is_not_hex_text_is_kept_as_written():
    for key in (
        "00112233445566778899aabbccddeeff",  # binary: 0x00 is no text
        "ab" * 20,  # bytes above 0x7e
        "7f" * 16,  # DEL
        "41" * 16 + "0a",  # 17 bytes, one a newline
        "41" * 15 + "4",  # 31 digits: odd, and 15.5 bytes
        "41" * 20 + "4",  # 41 digits
        "41" * 15,  # 30 digits: 15 bytes, too short for a hex key: a 30-char password
        "41" * 21,  # 42 digits: 21 bytes, too long
        "OCA_OCTT_admin_test",  # plain text
        "4G43415F4F4354545F61646D696E5F74657374",  # not hex
        " 4F43415F4F4354545F61646D696E5F7465737",  # a space in front
    ):
        assert basic_auth_password(key) == key, key


async def test_a_hex_key_is_kept_as_the_password_it_stands_for(
    nursery, start_csms, autojump_clock, tmp_path
):
    """ChangeConfiguration(AuthorizationKey) in hex: kept (and persisted) as its text, so
    a restart dials with the same password; a binary key is kept as written."""
    csms = await start_csms()
    async with charger(nursery, csms, state_dir=tmp_path) as cp:
        station = await cp.registered()
        answer = await station.call(
            call.ChangeConfiguration(key="AuthorizationKey", value=OCTT_HEX_KEY)
        )
        assert answer.status == "Accepted"
        assert cp.keys.get_str("AuthorizationKey") == "OCA_OCTT_admin_test"
        stored = await cp.journal.settings()
        assert stored["key.AuthorizationKey"] == "OCA_OCTT_admin_test"
        await cp.station(connection=2)  # a new key: a new connection
    async with charger(nursery, csms, state_dir=tmp_path) as cp:
        station = await cp.registered(connection=3)
        assert cp.keys.get_str("AuthorizationKey") == "OCA_OCTT_admin_test"
        spaced = "4F4341204F43545420" + "61646D696E2074657374"  # "OCA OCTT admin test"
        answer = await station.call(call.ChangeConfiguration(key="AuthorizationKey", value=spaced))
        assert answer.status == "Accepted"  # printable ASCII, though no 2.0.1 passwordString
        assert cp.keys.get_str("AuthorizationKey") == "OCA OCTT admin test"
        station = await cp.station(connection=4)
        binary = "00112233445566778899AABBCCDDEEFF"  # not text: kept as written
        answer = await station.call(call.ChangeConfiguration(key="AuthorizationKey", value=binary))
        assert answer.status == "Accepted"
        assert cp.keys.get_str("AuthorizationKey") == binary
        await cp.station(connection=5)
    async with charger(nursery, csms, state_dir=tmp_path) as cp:
        await cp.registered(connection=6)
        assert cp.keys.get_str("AuthorizationKey") == binary
