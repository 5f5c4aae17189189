"""The words of 2.0.1 security (block A) and certificates (block M): total maps, checked against
the 2.0.1 schemas the `ocpp` package ships; the version and words (design decision 5) of a
security event; BasicAuthPassword never in a logged frame."""

from __future__ import annotations

import json

import pytest
import trio
from ocpp.messages import Call, _validate_payload

from ocppd.app import SecurityQueue
from ocppd.connection import LinkState
from ocppd.features.core.transactions import OutboxSignal
from ocppd.features.link import Versions
from ocppd.features.security.events import EVENT_TYPES
from ocppd.features.v201 import V201_PROFILES
from ocppd.features.v201 import certificates as c
from ocppd.features.v201.security import EVENT_WORDS, in_words
from ocppd.features.v201.variables import SECRET_VARIABLES
from ocppd.journal import Journal
from ocppd.protocol.errors import Violation
from ocppd.protocol.v201.dialect import V201
from ocppd.protocol.v201.enums import GetCertificateIdUseEnumType, InstallCertificateUseEnumType
from ocppd.security.store import Deleted, Installed, RootKind
from ocppd.session import redact

# The 2.0.1 names of the whitepaper's events, written out here from the 2.0.1 appendix
# "Security events" (independently of the table under test).
RENAMED = {
    "FailedToAuthenticateAtCentralSystem": "FailedToAuthenticateAtCsms",
    "CentralSystemFailedToAuthenticate": "CsmsFailedToAuthenticate",
    "InvalidCentralSystemCertificate": "InvalidCsmsCertificate",
    "InvalidChargePointCertificate": "InvalidChargingStationCertificate",
}


def test_every_security_event_has_its_2_0_1_name():
    assert set(EVENT_WORDS) == set(EVENT_TYPES)
    for kind, word in EVENT_WORDS.items():
        assert word == RENAMED.get(kind, kind)


@pytest.mark.parametrize("kind", sorted(EVENT_TYPES))
def test_each_event_in_2_0_1_words_is_a_valid_security_event_notification(kind):
    payload = {"type": kind, "timestamp": "2026-12-02T12:00:00Z", "techInfo": "why"}
    said = in_words(V201.subprotocol, payload)
    assert said["type"] == EVENT_WORDS[kind]
    assert said["timestamp"] == payload["timestamp"] and said["techInfo"] == "why"
    _validate_payload(Call("1", "SecurityEventNotification", said), ocpp_version="2.0.1")
    assert in_words("ocpp1.6", payload) is payload  # 1.6 keeps the whitepaper's words


def test_the_certificate_tables_name_every_2_0_1_word_and_every_store_outcome():
    assert set(c.INSTALL_KINDS) == set(InstallCertificateUseEnumType)
    assert set(c.LISTED_KINDS) == set(GetCertificateIdUseEnumType)
    assert set(c.KIND_WORDS) == set(RootKind)
    assert set(c.INSTALLED) == set(Installed)
    assert set(c.DELETED) == set(Deleted)
    # only the two roots of the link and of firmware are kept: no ISO 15118 here
    assert {k for k, v in c.INSTALL_KINDS.items() if v is not None} == {
        InstallCertificateUseEnumType.CSMS_ROOT_CERTIFICATE,
        InstallCertificateUseEnumType.MANUFACTURER_ROOT_CERTIFICATE,
    }
    for kind, word in c.KIND_WORDS.items():
        assert c.LISTED_KINDS[word] is kind
    for _status, reason in (*c.INSTALLED.values(), *c.DELETED.values()):
        assert len(reason) <= 20  # StatusInfoType.reasonCode is string[0..20]


def test_the_2_0_1_block_is_registered_with_its_trigger():
    assert c.profile in V201_PROFILES
    assert set(c.profile.triggers) == {"SignChargingStationCertificate"}
    assert not c.profile.advertised
    assert V201.error_codes[Violation.NOT_PERMITTED] == "SecurityError"  # profiles 0 and 1


async def _nowhere(_version: str) -> None:
    return None


async def test_a_security_event_is_journaled_in_the_current_version_with_its_words(tmp_path):
    async with trio.open_nursery() as nursery, await Journal.open(tmp_path, inline=True) as j:
        await nursery.start(j.run)
        link = LinkState()  # no link open: the version the last link agreed is current
        outbox = OutboxSignal()
        for agreed in ("ocpp2.0.1", "ocpp1.6"):
            versions = Versions(link, lambda: ("ocpp2.0.1", "ocpp1.6"), agreed, keep=_nowhere)
            queue = SecurityQueue(j, outbox, versions)
            event = {"type": "InvalidCentralSystemCertificate", "timestamp": "t"}
            await queue("SecurityEventNotification", event)
        rows = await j.pending_messages()
        assert [(r.protocol, r.action, r.payload["type"]) for r in rows] == [
            ("ocpp2.0.1", "SecurityEventNotification", "InvalidCsmsCertificate"),
            ("ocpp1.6", "SecurityEventNotification", "InvalidCentralSystemCertificate"),
        ]
        nursery.cancel_scope.cancel()


SET = [
    2,
    "1",
    "SetVariables",
    {
        "setVariableData": [
            {
                "attributeValue": "a-new-password-0123456789",
                "component": {"name": "SecurityCtrlr"},
                "variable": {"name": "BasicAuthPassword"},
            },
            {
                "attributeValue": "300",
                "component": {"name": "OCPPCommCtrlr"},
                "variable": {"name": "HeartbeatInterval"},
            },
        ]
    },
]


def test_basic_auth_password_never_shows_in_a_logged_2_0_1_frame():
    """A01: the password the CSMS sets is write-only and never logged."""
    shown = redact(json.dumps(SET), SECRET_VARIABLES | {"AuthorizationKey"})
    assert "a-new-password-0123456789" not in shown
    data = json.loads(shown)[3]["setVariableData"]
    assert data[0]["attributeValue"] == "***"
    assert data[1]["attributeValue"] == "300"  # the rest of the frame stays readable
    report = [
        2,
        "2",
        "NotifyReport",
        {
            "reportData": [
                {
                    "component": {"name": "SecurityCtrlr"},
                    "variable": {"name": "basicauthpassword"},
                    "variableAttribute": [{"value": "leaked?", "mutability": "WriteOnly"}],
                }
            ]
        },
    ]
    shown = redact(json.dumps(report), SECRET_VARIABLES)
    assert "leaked?" not in shown and "WriteOnly" in shown
    result = [
        3,
        "1",
        {
            "getVariableResult": [
                {"attributeValue": "x" * 20, "variable": {"name": "BasicAuthPassword"}}
            ]
        },
    ]
    assert "x" * 20 not in redact(json.dumps(result), SECRET_VARIABLES)


async def test_before_any_version_was_agreed_a_security_event_waits_bounded(tmp_path):
    """A first boot: no link ever agreed a version, so an event is not recorded in a guess;
    it waits in memory, at most ``limit`` of them (the oldest goes first)."""
    async with trio.open_nursery() as nursery, await Journal.open(tmp_path, inline=True) as j:
        await nursery.start(j.run)
        versions = Versions(LinkState(), lambda: ("ocpp2.0.1", "ocpp1.6"), None, keep=_nowhere)
        assert versions.known() is None and versions.current == "ocpp2.0.1"
        queue = SecurityQueue(j, OutboxSignal(), versions, limit=2)
        for n in range(3):
            await queue("SecurityEventNotification", {"type": f"E{n}", "timestamp": "t"})
        assert await j.pending_messages() == []
        assert [p["type"] for _, p in queue.waiting] == ["E1", "E2"]
        nursery.cancel_scope.cancel()
