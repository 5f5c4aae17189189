"""OCPP 2.0.1 network configuration: SetNetworkProfile (B09), Migrate to new CSMS (B10) and
the raise of the security profile it carries (A05).

A charging station keeps numbered *configuration slots*, each a way to reach a CSMS (URL,
OCPP version, security profile, message timeout), and dials them in the order of
``OCPPCommCtrlr.NetworkConfigurationPriority``:

- **Slot 0 is the config file's** connection (``ocpp.url``, ``ocpp.versions``, the security
  profile in force): the installer's anchor. SetNetworkProfile cannot write it (Rejected,
  InvalidConfSlot), a reload of the config changes it, and it is dialled after every slot
  of the priority list has had its attempts, even when the list leaves it out: a charger
  whose new CSMS never answers finds its way back without a visit (B10.FR.09: a station
  should not stop trying; the owner expects the configured CSMS to stay reachable).
- **Slots 1-3** are the CSMS's, written with SetNetworkProfile and kept in the journal's
  settings (``network.slot.<n>``, JSON). 2.0.1's NetworkConnectionProfileType carries no
  password: every slot uses the one basic-auth password, SecurityCtrlr.BasicAuthPassword
  (the AuthorizationKey), never logged.

B10: the order takes effect at the next dial after a link ends or the daemon restarts
(a Reset): each entry gets ``NetworkProfileConnectionAttempts`` attempts before the next
one (B10.FR.03), and a restart, or a registered link that ends, begins again with the
first entry (B10.FR.04). A link that registers with another slot than the last one
boots again (B10.FR.10).

A05 (never downgrade): a slot whose security profile is lower than the profile in force is
refused when it is set (B09.FR.04) and when it is put in the order (A05.FR.10), and is
skipped when dialling. A slot with a higher profile raises the profile in force once a
link with it has *registered* (then it is proven); until then the previous slots stay
usable, so a raise that fails falls back to the slots of the same profile only. Slot 0
follows the profile in force (as a 1.6 raise does), so after a raise it is dialled with
TLS too and the charger never reconnects with a lower profile. Profiles 2 and 3 need a
CSMS root certificate and 3 a station certificate (A05.FR.02-03), 1 and 2 a password.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Collection, Mapping
from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import urlsplit

from ocppd.features.profile import Handler, Profile, Services, Site, TypedHandler
from ocppd.features.security.profiles import Credentials, usable_authorization_key
from ocppd.model.keys import Keys, KeySpec, KeyType, Value
from ocppd.protocol.v201 import messages as m
from ocppd.protocol.v201.enums import (
    OCPPTransportEnumType,
    OCPPVersionEnumType,
    SetNetworkProfileStatusEnumType,
)

log = logging.getLogger(__name__)

CONFIG_SLOT = 0
SLOTS = (1, 2, 3)  # the slots SetNetworkProfile writes
ALL_SLOTS = (CONFIG_SLOT, *SLOTS)
PRIORITY = "OCPPCommCtrlr.NetworkConfigurationPriority"
ATTEMPTS = "OCPPCommCtrlr.NetworkProfileConnectionAttempts"
ACTIVE = "OCPPCommCtrlr.ActiveNetworkProfile"
SECURITY_PROFILE = "SecurityProfile"
SLOT_SETTING = "network.slot."  # + the slot number: its connection data (JSON)
ACTIVE_SETTING = "network.active"  # the slot of the last link that registered
PART = "v201.network"

VERSIONS: Mapping[OCPPVersionEnumType, str] = {
    OCPPVersionEnumType.OCPP16: "ocpp1.6",
    OCPPVersionEnumType.OCPP20: "ocpp2.0.1",
}
"""What a slot's ocppVersion offers as the websocket subprotocol; OCPP 1.2 and 1.5 are not
spoken here."""

SECRET_FIELDS = frozenset({"apn", "vpn"})
"""Members of a SetNetworkProfile a logged frame shows as ``***`` whole: an APN carries its
password and SIM PIN, a VPN its password and key (they are refused, but the frame is logged
as it came)."""

ACCEPTED, REJECTED, FAILED = (
    SetNetworkProfileStatusEnumType.ACCEPTED,
    SetNetworkProfileStatusEnumType.REJECTED,
    SetNetworkProfileStatusEnumType.FAILED,
)
INVALID_SLOT, INVALID_CONF, NO_DOWNGRADE = (
    "InvalidConfSlot",
    "InvalidNetworkConf",
    "NoSecurityDowngrade",
)


@dataclass(frozen=True, slots=True)
class Slot:
    """One CSMS's network connection profile, as the charger dials it."""

    number: int
    url: str  # ocppCsmsUrl: the CSMS's URL without the station's identity
    security_profile: int
    version: str  # the subprotocol offered
    message_timeout: int  # seconds: the CALL timeout on links of this slot
    interface: str  # kept and reported; the OS's routing picks the interface

    def endpoint(self, charge_point_id: str) -> str:
        return f"{self.url.rstrip('/')}/{charge_point_id}"

    def text(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def parse(cls, text: str) -> Slot:
        data: dict[str, Any] = json.loads(text)
        slot = cls(**data)
        if not isinstance(slot.number, int) or not isinstance(slot.security_profile, int):
            raise TypeError("not a slot")
        return slot


@dataclass(frozen=True, slots=True)
class Verdict:
    """A SetNetworkProfile decided: the answer and, when Accepted, the slot to keep."""

    status: SetNetworkProfileStatusEnumType
    reason: str = ""
    why: str = ""
    slot: Slot | None = None


def prerequisite_problem(profile: int, credentials: Credentials) -> str | None:
    """Why a link with ``profile`` cannot be made now, or None: a password for 1 and 2
    (A00.FR.205), a CSMS root certificate for 2 and 3 (A05.FR.02), a station certificate
    for 3 (A05.FR.03)."""
    if profile in (1, 2) and not usable_authorization_key(credentials.authorization_key()):
        return f"profile {profile} needs a BasicAuthPassword of 16-40 characters"
    if profile >= 2 and not credentials.central_system_roots():
        return f"profile {profile} needs a CSMSRootCertificate [A05.FR.02]"
    if profile == 3 and (problem := credentials.charge_point_certificate()) is not None:
        return f"profile 3 needs a valid ChargingStationCertificate: {problem} [A05.FR.03]"
    return None


def judge(
    request: m.SetNetworkProfileRequest,
    *,
    current_profile: int,
    offered: Collection[str],
    credentials: Credentials,
) -> Verdict:
    """B09: what a SetNetworkProfile gets, without keeping anything."""
    number, data = request.configuration_slot, request.connection_data
    if number not in ALL_SLOTS:  # B09.FR.05
        return Verdict(REJECTED, INVALID_SLOT, f"slot {number} is not one of {ALL_SLOTS}")
    if number == CONFIG_SLOT:
        return Verdict(REJECTED, INVALID_SLOT, "slot 0 is the config file's (ocpp.url)")
    if data.security_profile < current_profile:  # B09.FR.04, A05
        return Verdict(REJECTED, NO_DOWNGRADE, f"security profile {current_profile} is in force")
    problem = _content_problem(data, offered) or prerequisite_problem(
        data.security_profile, credentials
    )
    if problem is not None:  # B09.FR.02
        return Verdict(REJECTED, INVALID_CONF, problem)
    slot = Slot(
        number=number,
        url=data.ocpp_csms_url,
        security_profile=data.security_profile,
        version=VERSIONS[data.ocpp_version],
        message_timeout=data.message_timeout,
        interface=data.ocpp_interface.value,
    )
    return Verdict(ACCEPTED, slot=slot)


def _content_problem(data: m.NetworkConnectionProfileType, offered: Collection[str]) -> str | None:
    """B09.FR.02: what of the connection data this charger cannot use as asked."""
    if data.ocpp_transport is not OCPPTransportEnumType.JSON:
        return "only OCPP-J (JSON) is spoken"
    version = VERSIONS.get(data.ocpp_version)
    if version is None or version not in offered:
        return f"{data.ocpp_version.value} is not offered here (ocpp.versions)"
    if not 0 <= data.security_profile <= 3:
        return f"no security profile {data.security_profile}"
    # An APN or a VPN would have to be applied to a modem or a VPN client, which ocppd does
    # not drive: accepting them would promise a connection it cannot make (B09.FR.02).
    if data.apn is not None:
        return "no cellular modem: an APN cannot be applied"
    if data.vpn is not None:
        return "no VPN client: a VPN cannot be applied"
    if data.message_timeout < 1:
        return "messageTimeout must be at least 1 s"
    try:
        url = urlsplit(data.ocpp_csms_url)
        host = url.hostname
        url.port  # noqa: B018 - raises ValueError for a port that is no number
    except ValueError:
        return "ocppCsmsUrl is not a URL"
    if url.scheme not in ("ws", "wss") or not host or url.query or url.fragment:
        return "ocppCsmsUrl must be a ws:// or wss:// URL without query"
    if data.security_profile >= 2 and url.scheme != "wss":
        return f"profile {data.security_profile} is TLS: the URL must be wss:// [A00.FR.311]"
    return None


# --- the keys ---


def _priority_check(value: Value) -> str | None:
    assert isinstance(value, tuple)
    if not value:
        return "at least one slot"
    if len(set(value)) != len(value):
        return "a slot may appear once"
    return None


def keys(_site: Site) -> list[KeySpec]:
    """The 2.0.1-only keys of the network configuration (not ``listed``: 1.6 does not reach
    them; the device model and ``[ocpp.keys]`` do)."""
    return [
        KeySpec(
            PRIORITY,
            KeyType.CSL,
            (str(CONFIG_SLOT),),
            listed=False,
            choices=frozenset(str(s) for s in ALL_SLOTS),
            max_items=len(ALL_SLOTS),
            check=_priority_check,
            doc="2.0.1 OCPPCommCtrlr.NetworkConfigurationPriority: the configuration slots "
            "dialled, in order (0: the config file's ocpp.url)",
        ),
        KeySpec(
            ATTEMPTS,
            KeyType.INT,
            3,
            minimum=1,
            maximum=100,
            listed=False,
            doc="2.0.1 OCPPCommCtrlr.NetworkProfileConnectionAttempts: failed attempts on one "
            "slot before the next",
        ),
        KeySpec(
            ACTIVE,
            KeyType.INT,
            0,
            readonly=True,
            derived=True,
            listed=False,
            doc="2.0.1 OCPPCommCtrlr.ActiveNetworkProfile: the slot of the link in use",
        ),
    ]


# --- the slots, and which one to dial ---

Store = Callable[[str, str | None], Awaitable[None]]


class NetworkSlots:
    """The configuration slots and the dialling order (B10). ``choose()`` gives the slot to
    dial next (None: slot 0, the config file's); ``link_ended`` and ``registered`` move
    along the order; ``refusal`` is NetworkConfigurationPriority's guard (A05)."""

    def __init__(
        self,
        *,
        keys: Keys,
        stored: Mapping[str, str],
        store: Store,
        credentials: Credentials,
        forget_registration: Callable[[], None],
    ) -> None:
        self._keys = keys
        self._store = store
        self.credentials = credentials
        self._forget_registration = forget_registration
        self.slots: dict[int, Slot] = {}
        for number in SLOTS:
            text = stored.get(f"{SLOT_SETTING}{number}")
            if text is None:
                continue
            try:
                self.slots[number] = Slot.parse(text)
            except (ValueError, TypeError) as exc:
                log.error("network profile slot %d in the journal is unreadable: %s", number, exc)
        active = stored.get(ACTIVE_SETTING, "")
        self.registered_on: int | None = int(active) if active.isdigit() else None
        self.position = 0  # in the dialling order
        self.failures = 0  # attempts that failed on the slot at ``position``
        self.dialled: int | None = None  # the slot of the link being dialled or open
        keys.guard(PRIORITY, self.refusal)

    def __repr__(self) -> str:
        return (
            f"<NetworkSlots order={self.order()} dialled={self.dialled} "
            f"failures={self.failures} slots={sorted(self.slots)}>"
        )

    def profile_of(self, number: int) -> int:
        current = self._keys.get_int(SECURITY_PROFILE)
        return current if number == CONFIG_SLOT else self.slots[number].security_profile

    def order(self) -> list[int]:
        """The slots to dial, in order: NetworkConfigurationPriority's that exist and are not
        below the profile in force, then slot 0 if the list left it out (the anchor)."""
        current = self._keys.get_int(SECURITY_PROFILE)
        found = [
            number
            for number in (int(text) for text in self._keys.get_csl(PRIORITY))
            if number == CONFIG_SLOT
            or (number in self.slots and self.slots[number].security_profile >= current)
        ]
        if CONFIG_SLOT not in found:
            found.append(CONFIG_SLOT)
        return found

    def choose(self) -> Slot | None:
        """The slot to dial now (None: slot 0). Dialling another slot than the one the last
        registration was made on boots again on the new link (B10.FR.10)."""
        order = self.order()
        number = order[self.position % len(order)]
        if self.registered_on is not None and number != self.registered_on:
            self._forget_registration()
        self.dialled = number
        return None if number == CONFIG_SLOT else self.slots[number]

    def call_timeout(self, default: float) -> float:
        """The CALL timeout of the slot dialled: its messageTimeout (slot 0: the config's)."""
        slot = self.slots.get(self.dialled) if self.dialled is not None else None
        return float(slot.message_timeout) if slot is not None else default

    def link_ended(self, *, healthy: bool) -> None:
        """A link ended that we did not hang up on purpose: after a registered one, the next
        dial begins with the first entry (B10.FR.03-04); a failed attempt counts, and after
        NetworkProfileConnectionAttempts of them the next entry is dialled."""
        if healthy:
            self.position, self.failures = 0, 0
            return
        self.failures += 1
        attempts = self._keys.get_int(ATTEMPTS)
        if self.failures >= attempts:
            log.warning(
                "network profile slot %s failed %d time(s): trying the next one",
                self.dialled,
                self.failures,
            )
            self.position = (self.position + 1) % len(self.order())
            self.failures = 0

    async def registered(self) -> int | None:
        """The link of the slot dialled registered: it is the active one (kept), and the
        profile it proved, when higher than the one in force, is returned to be raised."""
        number = self.dialled
        if number is None:
            return None
        self.failures = 0
        if number != self.registered_on:
            self.registered_on = number
            await self._store(ACTIVE_SETTING, str(number))
            log.info("network profile slot %d is in use", number)
        await self._keys.apply(ACTIVE, number)
        profile = self.profile_of(number)
        return profile if profile > self._keys.get_int(SECURITY_PROFILE) else None

    async def keep(self, slot: Slot) -> None:
        """Keep a slot SetNetworkProfile set (JournalError when it cannot be kept)."""
        await self._store(f"{SLOT_SETTING}{slot.number}", slot.text())
        self.slots[slot.number] = slot

    def refusal(self, value: Value) -> str | None:
        """Why a NetworkConfigurationPriority is Rejected, or None: a slot without a
        profile, one below the profile in force (A05.FR.10), one whose prerequisites are
        missing (A05.FR.02-03)."""
        assert isinstance(value, tuple)
        current = self._keys.get_int(SECURITY_PROFILE)
        for text in value:
            number = int(text)
            if number != CONFIG_SLOT and number not in self.slots:
                return f"slot {number} has no network profile"
            profile = self.profile_of(number)
            if profile < current:
                return f"slot {number} has security profile {profile} < {current} [A05.FR.10]"
            if (problem := prerequisite_problem(profile, self.credentials)) is not None:
                return f"slot {number}: {problem}"
        return None


def network_of(services: Services) -> NetworkSlots:
    """The daemon's slots (``app.py`` makes them before the handlers and the connection)."""

    def missing() -> NetworkSlots:
        raise RuntimeError("the network slots are made by the daemon (app.py)")

    return services.part(PART, missing)


# --- B09 SetNetworkProfile ---


class NetworkHandlers:
    def __init__(self, services: Services) -> None:
        self.services = services

    def __repr__(self) -> str:
        return f"<NetworkHandlers {network_of(self.services)!r}>"

    async def set_network_profile(self, request: m.SetNetworkProfileRequest) -> Any:
        services = self.services
        offered = services.settings.ocpp.versions if services.settings is not None else ()
        verdict = judge(
            request,
            current_profile=services.keys.get_int(SECURITY_PROFILE),
            offered=offered,
            credentials=network_of(services).credentials,
        )
        slot = verdict.slot
        if slot is not None:
            try:
                await network_of(services).keep(slot)  # B09.FR.01: stored, then Accepted
            except Exception as exc:  # not kept = not set
                log.error("SetNetworkProfile slot %d: cannot keep it (%s)", slot.number, exc)
                verdict = Verdict(FAILED, "WriteFailed", "the journal refused it")  # B09.FR.03
        if verdict.status is ACCEPTED and slot is not None:
            log.info(
                "network profile slot %d set: %s, security profile %d, %s",
                slot.number,
                slot.url,
                slot.security_profile,
                slot.version,
            )
            await services.security_event(
                "ReconfigurationOfSecurityParameters",
                f"network profile slot {slot.number} set: security profile {slot.security_profile}",
            )
        else:
            log.info(
                "SetNetworkProfile slot %d %s: %s",
                request.configuration_slot,
                verdict.status.value,
                verdict.why,
            )
        info = (
            m.StatusInfoType(reason_code=verdict.reason, additional_info=verdict.why[:512] or None)
            if verdict.reason
            else None
        )
        return m.SetNetworkProfileResponse(status=verdict.status, status_info=info)


def handlers(services: Services) -> Mapping[str, Handler]:
    calls = services.part("v201.network.handlers", lambda: NetworkHandlers(services))
    return {
        "SetNetworkProfile": TypedHandler(m.SetNetworkProfileRequest, calls.set_network_profile)
    }


profile = Profile("NetworkConfiguration", keys=keys, handlers=handlers, advertised=False)
"""B09-B10 and A05's raise through a network profile."""
