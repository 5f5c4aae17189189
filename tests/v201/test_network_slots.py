"""The network profile slots without a link: SetNetworkProfile's verdicts (B09), the dialling
order and its attempts (B10), the guard of NetworkConfigurationPriority (A05), and the
redaction of an APN's or a VPN's secrets in the logged frame."""

from __future__ import annotations

import json
from typing import Any

from ocppd.features.profile import Site
from ocppd.features.v201 import network
from ocppd.features.v201.network import (
    ACTIVE_SETTING,
    ATTEMPTS,
    PRIORITY,
    SECRET_FIELDS,
    NetworkSlots,
    Slot,
    judge,
)
from ocppd.model.keys import Keys, KeySpec, KeyType
from ocppd.protocol.v201 import codec
from ocppd.protocol.v201 import messages as m
from ocppd.session import redact


class Credentials:
    def __init__(self, *, key: str | None = "0123456789abcdef", roots: bool = True) -> None:
        self.key, self.roots, self.certificate = key, roots, None

    def authorization_key(self) -> str | None:
        return self.key

    def central_system_roots(self) -> bool:
        return self.roots

    def charge_point_certificate(self) -> str | None:
        return self.certificate


def make_keys(profile: int = 1, **values: Any) -> Keys:
    site = Site(phases={1: 3}, measurands=frozenset(), security_profile=profile, profiles=())
    specs = [KeySpec("SecurityProfile", KeyType.INT, profile), *network.keys(site)]
    return Keys(specs, {}, {k: str(v) for k, v in values.items()})


def request(slot: int, **data: Any) -> m.SetNetworkProfileRequest:
    connection = {
        "ocppVersion": "OCPP20",
        "ocppTransport": "JSON",
        "ocppCsmsUrl": "ws://csms.example/ocpp",
        "messageTimeout": 30,
        "securityProfile": 1,
        "ocppInterface": "Wired0",
        **data,
    }
    payload = {"configurationSlot": slot, "connectionData": connection}
    decoded: m.SetNetworkProfileRequest = codec.decode_request("SetNetworkProfile", payload)
    return decoded


def verdict(req: m.SetNetworkProfileRequest, **options: Any) -> tuple[str, str]:
    found = judge(
        req,
        current_profile=options.get("current", 1),
        offered=options.get("offered", ("ocpp2.0.1", "ocpp1.6")),
        credentials=options.get("credentials", Credentials()),
    )
    return found.status.value, found.reason


def test_b09_verdicts() -> None:
    assert verdict(request(1)) == ("Accepted", "")
    assert verdict(request(3, ocppVersion="OCPP16")) == ("Accepted", "")
    assert verdict(request(999)) == ("Rejected", "InvalidConfSlot")  # TC_B_43_CS
    assert verdict(request(0)) == ("Rejected", "InvalidConfSlot")
    assert verdict(request(1, securityProfile=0)) == ("Rejected", "NoSecurityDowngrade")
    assert verdict(request(1, ocppVersion="OCPP16"), offered=("ocpp2.0.1",)) == (
        "Rejected",
        "InvalidNetworkConf",
    )
    for bad in (
        {"ocppTransport": "SOAP"},
        {"ocppVersion": "OCPP12"},
        {"ocppCsmsUrl": "ftp://csms/ocpp"},
        {"ocppCsmsUrl": "ws://csms/ocpp?x=1"},
        {"ocppCsmsUrl": "ws://:99999/ocpp"},
        {"securityProfile": 2},  # ws:// for TLS
        {"securityProfile": 4},
        {"messageTimeout": 0},
        {"apn": {"apn": "internet", "apnAuthentication": "NONE"}},
    ):
        assert verdict(request(1, **bad)) == ("Rejected", "InvalidNetworkConf"), bad
    tls = {"ocppCsmsUrl": "wss://csms/ocpp"}
    assert verdict(request(1, securityProfile=2, **tls)) == ("Accepted", "")
    assert verdict(request(1, securityProfile=2, **tls), credentials=Credentials(roots=False)) == (
        "Rejected",
        "InvalidNetworkConf",
    )  # A05.FR.02
    no_certificate = Credentials()
    no_certificate.certificate = "expired"
    assert verdict(request(1, securityProfile=3, **tls), credentials=no_certificate) == (
        "Rejected",
        "InvalidNetworkConf",
    )  # A05.FR.03
    assert verdict(request(1), credentials=Credentials(key=None)) == (
        "Rejected",
        "InvalidNetworkConf",
    )  # profile 1 needs a password


def slots(keys: Keys, stored: dict[str, str] | None = None) -> tuple[NetworkSlots, list[str]]:
    forgotten: list[str] = []
    kept: dict[str, str | None] = {}

    async def store(name: str, value: str | None) -> None:
        kept[name] = value

    made = NetworkSlots(
        keys=keys,
        stored=stored or {},
        store=store,
        credentials=Credentials(),
        forget_registration=lambda: forgotten.append("boot again"),
    )
    return made, forgotten


def slot(number: int, profile: int = 1) -> Slot:
    return Slot(number, f"ws://csms{number}/ocpp", profile, "ocpp2.0.1", 30, "Wired0")


def stored(*made: Slot) -> dict[str, str]:
    return {f"network.slot.{s.number}": s.text() for s in made}


def test_b10_each_entry_gets_its_attempts_then_the_next_and_slot_0_is_the_anchor() -> None:
    keys = make_keys(**{PRIORITY: "2,1", ATTEMPTS: 2})
    network_slots, _ = slots(keys, stored(slot(1), slot(2)))
    assert network_slots.order() == [2, 1, 0]  # slot 0 follows, though not listed
    dialled = []
    for _ in range(7):
        chosen = network_slots.choose()
        dialled.append(0 if chosen is None else chosen.number)
        network_slots.link_ended(healthy=False)
    assert dialled == [2, 2, 1, 1, 0, 0, 2]
    network_slots.choose()
    network_slots.link_ended(healthy=True)  # a registered link ended: the first entry again
    chosen = network_slots.choose()
    assert chosen is not None and chosen.number == 2


def test_a05_a_slot_below_the_profile_in_force_is_skipped_and_refused() -> None:
    keys = make_keys(profile=2, **{PRIORITY: "1,2,0"})
    network_slots, _ = slots(keys, stored(slot(1, profile=1), slot(2, profile=3)))
    assert network_slots.order() == [2, 0]
    assert network_slots.refusal(("1", "0")) is not None  # A05.FR.10
    assert network_slots.refusal(("2", "0")) is None
    assert network_slots.refusal(("3",)) == "slot 3 has no network profile"


def test_b10_fr_10_another_slot_than_the_registered_one_boots_again() -> None:
    keys = make_keys(**{PRIORITY: "1,0"})
    network_slots, forgotten = slots(keys, {**stored(slot(1)), ACTIVE_SETTING: "0"})
    network_slots.choose()
    assert forgotten == ["boot again"]


async def test_a_registered_slot_is_kept_active_and_names_the_profile_it_proved() -> None:
    keys = make_keys(**{PRIORITY: "1,0"})
    network_slots, _ = slots(keys, stored(slot(1, profile=2)))
    network_slots.choose()
    assert await network_slots.registered() == 2  # to be raised by SecurityProfiles.settle
    assert keys.get_int(network.ACTIVE) == 1
    assert network_slots.registered_on == 1


def test_a_damaged_slot_in_the_journal_is_left_out() -> None:
    keys = make_keys()
    network_slots, _ = slots(keys, {"network.slot.1": "{not json", **stored(slot(2))})
    assert sorted(network_slots.slots) == [2]


def test_the_secrets_of_an_apn_or_a_vpn_are_not_logged() -> None:
    frame = [
        2,
        "1",
        "SetNetworkProfile",
        {
            "configurationSlot": 1,
            "connectionData": {
                "ocppCsmsUrl": "ws://csms/ocpp",
                "apn": {"apn": "internet", "apnPassword": "apn-secret", "simPin": 1234},
                "vpn": {"server": "s", "user": "u", "password": "vpn-secret", "key": "vpn-key"},
            },
        },
    ]
    shown = redact(json.dumps(frame), SECRET_FIELDS)
    for secret in ("apn-secret", "1234", "vpn-secret", "vpn-key"):
        assert secret not in shown
