"""The Core profile's configuration keys (OCPP 1.6 §9.1, OCPP-J §7, security whitepaper §7).

One table: name, type, default, limits, access. Optional keys that are present
advertise the feature (1.6 §9.1): AuthorizationCacheEnabled, AllowOfflineTxForUnknownId,
MaxEnergyOnInvalidId and MinimumStatusDuration are all implemented.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from types import MappingProxyType

from ocppd.model.keys import KeySpec, KeyType, Value
from ocppd.model.metering import default_measurands

B, N, L, S = KeyType.BOOL, KeyType.INT, KeyType.CSL, KeyType.STRING

# 1.6 §9.1 ConnectorPhaseRotation (9.1.7 in edition 2): R, S and T are L1, L2 and L3
# as wired from the meter (or the grid) to the connector.
NOT_APPLICABLE, UNKNOWN = "NotApplicable", "Unknown"
THREE_PHASE_ROTATIONS = ("RST", "RTS", "SRT", "STR", "TRS", "TSR")
ROTATIONS = (NOT_APPLICABLE, UNKNOWN, *THREE_PHASE_ROTATIONS)
MEASURAND_LIST_MAX = 12
_ROTATION_ITEM = re.compile(r"(0|[1-9][0-9]*)\.([A-Za-z]+)")


def default_rotation(phases: Mapping[int, int]) -> tuple[str, ...]:
    """``N.Unknown`` for each three-phase connector, ``N.NotApplicable`` for each single-phase
    one. Connector 0 (grid connection to the main meter) is reported only "if known"
    (§9.1), so it is left out until the central system or the config file sets it."""
    return tuple(
        f"{cid}.{NOT_APPLICABLE if count == 1 else UNKNOWN}"
        for cid, count in sorted(phases.items())
    )


def rotation_check(phases: Mapping[int, int]) -> Callable[[Value], str | None]:
    """The rules of §9.1 ConnectorPhaseRotation for a charger whose connector N has
    ``phases[N]`` phases: items ``<connector>.<rotation>`` (``0.RST, 1.RST, 2.RTS``), each
    connector 0..N at most once; NotApplicable only where there is no rotation (a
    single-phase connector; connector 0 only when every connector is single-phase), and a
    three-phase rotation only where there is one."""

    def single_phase(cid: int) -> bool:
        return all(n == 1 for n in phases.values()) if cid == 0 else phases[cid] == 1

    def check(value: Value) -> str | None:
        assert isinstance(value, tuple)
        seen: set[int] = set()
        for item in value:
            match = _ROTATION_ITEM.fullmatch(item)
            if match is None:
                return f"{item!r} is not <connector>.<rotation>, e.g. 1.RST"
            cid, rotation = int(match[1]), match[2]
            if rotation not in ROTATIONS:
                return f"{item}: {rotation!r} is not one of {', '.join(ROTATIONS)}"
            if cid != 0 and cid not in phases:
                return f"{item}: no connector {cid} (0 to {max(phases, default=0)})"
            if cid in seen:
                return f"{item}: connector {cid} is given twice"
            seen.add(cid)
            if rotation == NOT_APPLICABLE and not single_phase(cid):
                return f"{item}: NotApplicable is for single-phase connectors only"
            if rotation in THREE_PHASE_ROTATIONS and single_phase(cid):
                return f"{item}: connector {cid} is single-phase (NotApplicable or Unknown)"
        return None

    return check


_HEX_KEY = re.compile(r"(?:[0-9A-Fa-f]{2}){16,20}")
_PASSWORD_STRING = re.compile(r"[A-Za-z0-9*\-_=:+|@.]{16,40}")
_HEX_TEXT = re.compile(r"[\x20-\x7e]{16,20}")  # the text a 1.6 hex key can stand for


def hex_key(value: Value) -> str | None:
    """The AuthorizationKey a 1.6 central system writes: 16-20 bytes as 32-40 hexadecimal
    digits [SEC §7.2]; ChangeConfiguration holds it to that (:data:`V16_RULES`)."""
    assert isinstance(value, str)
    if not _HEX_KEY.fullmatch(value):
        return "expected 16 to 20 bytes written as 32 to 40 hexadecimal digits"
    return None


def basic_auth_password(key: str) -> str:
    """The HTTP basic-auth password an AuthorizationKey set over OCPP 1.6 stands for.

    The security whitepaper (edition 3, A00.FR.205) has the key "hexadecimal represented
    (20 bytes maximum, represented as a string of up to 40 hexadecimal digits)", of at
    least 16 bytes, and the OCTT sets it that way: TC_073_CS writes
    ``4F43415F4F4354545F61646D696E5F74657374`` and TC_085_CS expects the password in the
    Authorization header to be the decoded "OCA_OCTT_admin_test" (32-40 characters are
    hex, 16-20 plain text). The whitepaper leaves open what a charger does with a binary
    key that is no text; like EVerest's libocpp (ChargePointConfiguration::
    setAuthorizationKey) an even number of 32 to 40 hex digits whose every byte is
    printable ASCII (0x20-0x7e) is its decoded text, and anything else is the password as
    written: a random binary key kept in its hex form (which the central system then also
    has to use as written).

    Only OCPP 1.6's ChangeConfiguration means hex (:data:`V16_MEANING`): 2.0.1's
    BasicAuthPassword is a passwordString (as written), and so are the config file's keys
    (INTERFACE.md)."""
    if not _HEX_KEY.fullmatch(key):
        return key
    decoded = bytes.fromhex(key)
    if not all(0x20 <= byte <= 0x7E for byte in decoded):
        return key
    return decoded.decode("ascii")


def password_string(value: Value) -> str | None:
    """The basic-auth password a 2.0.1 CSMS writes: a passwordString, 16-40 characters of
    A-Z a-z 0-9 and ``*-_=:+|@.`` (SecurityCtrlr.BasicAuthPassword [A01]); SetVariables
    holds it to that (:data:`V201_RULES`)."""
    assert isinstance(value, str)
    if not _PASSWORD_STRING.fullmatch(value):
        return "expected 16 to 40 characters of A-Z a-z 0-9 *-_=:+|@."
    return None


def _password(value: Value) -> str | None:
    """What the basic-auth password may be in either version: a 2.0.1 passwordString (the
    1.6 hex form is one of those), or the text a 1.6 hex key stands for, 16-20 printable
    ASCII characters (:func:`basic_auth_password`). A key kept in the journal is read back
    by this rule, so a password either version set survives a restart."""
    assert isinstance(value, str)
    if not (_PASSWORD_STRING.fullmatch(value) or _HEX_TEXT.fullmatch(value)):
        return (
            "expected 16 to 40 characters of A-Z a-z 0-9 *-_=:+|@. (or 32 to 40 hex digits,"
            " or the 16 to 20 printable ASCII characters they stand for)"
        )
    return None


V16_RULES: Mapping[str, Callable[[Value], str | None]] = MappingProxyType(
    {"AuthorizationKey": hex_key}
)
"""What 1.6's ChangeConfiguration asks of a key's text beyond its declaration: a key two
versions share is declared by what both accept, and each version's own rule is held where
that version changes it."""

V16_MEANING: Mapping[str, Callable[[str], str]] = MappingProxyType(
    {"AuthorizationKey": basic_auth_password}
)
"""What a 1.6 ChangeConfiguration text (that passed :data:`V16_RULES`) stands for: the
value checked against the declaration and kept."""

V201_RULES: Mapping[str, Callable[[Value], str | None]] = MappingProxyType(
    {"AuthorizationKey": password_string}
)
"""What 2.0.1's SetVariables asks of a key beyond its declaration (see :data:`V16_RULES`)."""


def core_keys(
    *,
    phases: Mapping[int, int],
    measurands: frozenset[str],
    profiles: tuple[str, ...],
    security_profile: int,
) -> list[KeySpec]:
    """The Core keys for a charger whose connector N has ``phases[N]`` phases and whose
    meters can give ``measurands``. The measurand lists default to what those meters really
    measure (:func:`default_measurands`), not to the register alone: a central system such
    as Home Assistant's that asks for everything is refused and keeps the default."""
    connectors = len(phases)

    useful = default_measurands(measurands)[:MEASURAND_LIST_MAX]

    def measurand_list(name: str, default: tuple[str, ...], doc: str) -> KeySpec:
        return KeySpec(
            name,
            L,
            default,
            choices=measurands,
            max_items=MEASURAND_LIST_MAX,
            doc=doc,
        )

    def max_length(name: str) -> KeySpec:
        return KeySpec(f"{name}MaxLength", N, MEASURAND_LIST_MAX, readonly=True, derived=True)

    return [
        KeySpec(
            "AllowOfflineTxForUnknownId",
            B,
            False,
            doc="offline, start for tags the charger does not know",
        ),
        KeySpec(
            "AuthorizationCacheEnabled",
            B,
            True,
            doc="remember the central system's answers about tags (kept across restarts)",
        ),
        KeySpec(
            "AuthorizeRemoteTxRequests", B, False, doc="RemoteStartTransaction asks Authorize first"
        ),
        KeySpec(
            "ClockAlignedDataInterval",
            N,
            0,
            minimum=0,
            maximum=86400,
            doc="seconds between clock-aligned meter values (from UTC midnight); 0 = off",
        ),
        KeySpec(
            "ConnectionTimeOut",
            N,
            60,
            minimum=1,
            maximum=3600,
            doc="seconds an authorised driver has to plug in",
        ),
        KeySpec(
            "ConnectorPhaseRotation",
            L,
            default_rotation(phases),
            max_items=connectors + 1,
            check=rotation_check(phases),
            doc="per connector 0..N, e.g. 0.RST,1.RTS (NotApplicable: single-phase only)",
        ),
        KeySpec("ConnectorPhaseRotationMaxLength", N, connectors + 1, readonly=True, derived=True),
        KeySpec("GetConfigurationMaxKeys", N, 100, readonly=True, derived=True),
        KeySpec(
            "HeartbeatInterval",
            N,
            3600,
            minimum=0,
            maximum=86400 * 7,
            doc="seconds between heartbeats (the BootNotification answer sets it)",
        ),
        KeySpec(
            "LocalAuthorizeOffline", B, True, doc="offline, start for tags the cache knows as valid"
        ),
        KeySpec(
            "LocalPreAuthorize",
            B,
            False,
            doc="online, start at once for tags the cache knows as valid",
        ),
        KeySpec(
            "MaxEnergyOnInvalidId",
            N,
            0,
            minimum=0,
            maximum=10**9,
            doc="Wh still delivered after the central system says the tag is invalid",
        ),
        measurand_list(
            "MeterValuesAlignedData",
            useful,
            "measurands of clock-aligned meter values",
        ),
        max_length("MeterValuesAlignedData"),
        measurand_list(
            "MeterValuesSampledData",
            useful,
            "measurands of periodic meter values during a transaction",
        ),
        max_length("MeterValuesSampledData"),
        KeySpec(
            "MeterValueSampleInterval",
            N,
            60,
            minimum=0,
            maximum=86400,
            doc="seconds between meter values during a transaction; 0 = off",
        ),
        KeySpec(
            "MinimumStatusDuration",
            N,
            0,
            minimum=0,
            maximum=3600,
            doc="a status must last this many seconds before it is reported",
        ),
        KeySpec("NumberOfConnectors", N, connectors, readonly=True, derived=True),
        KeySpec(
            "ResetRetries",
            N,
            1,
            minimum=0,
            maximum=10,
            doc="kept for the central system; a Linux reset does not fail half-way",
        ),
        KeySpec("StopTransactionOnEVSideDisconnect", B, True),
        KeySpec("StopTransactionOnInvalidId", B, True),
        measurand_list(
            "StopTxnAlignedData", (), "clock-aligned measurands in StopTransaction.transactionData"
        ),
        max_length("StopTxnAlignedData"),
        measurand_list(
            "StopTxnSampledData",
            useful,
            "sampled measurands in StopTransaction.transactionData",
        ),
        max_length("StopTxnSampledData"),
        KeySpec("SupportedFeatureProfiles", L, profiles, readonly=True, derived=True),
        KeySpec(
            "TransactionMessageAttempts",
            N,
            3,
            minimum=1,
            maximum=100,
            doc="tries of a transaction message the central system answers with an error",
        ),
        KeySpec(
            "TransactionMessageRetryInterval",
            N,
            60,
            minimum=1,
            maximum=86400,
            doc="seconds before retry n is n times this",
        ),
        KeySpec("UnlockConnectorOnEVSideDisconnect", B, True),
        KeySpec(
            "WebSocketPingInterval",
            N,
            60,
            minimum=0,
            maximum=3600,
            doc="seconds between websocket pings; no pong within it = dead link; 0 = off",
        ),
        # Security whitepaper keys
        KeySpec(
            "AuthorizationKey",
            S,
            "",
            secret=True,
            check=_password,
            max_length=40,
            doc="basic-auth password (write-only; 1.6 hex = its text); a change reconnects",
        ),
        KeySpec(
            "SecurityProfile",
            N,
            security_profile,
            minimum=0,
            maximum=3,
            derived=True,  # the config file's ocpp.security_profile
            doc="0-3; raised only, with its prerequisites; reconnects, falls back if refused",
        ),
    ]
