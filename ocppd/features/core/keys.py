"""The Core profile's configuration keys (OCPP 1.6 §9.1, OCPP-J §7, security whitepaper §7).

One table: name, type, default, limits, access. Optional keys that are present
advertise the feature (1.6 §9.1): AuthorizationCacheEnabled, AllowOfflineTxForUnknownId,
MaxEnergyOnInvalidId and MinimumStatusDuration are all implemented.
"""

from __future__ import annotations

import re

from ocppd.model.keys import KeySpec, KeyType, Value

B, N, L, S = KeyType.BOOL, KeyType.INT, KeyType.CSL, KeyType.STRING

ROTATIONS = ("NotApplicable", "Unknown", "RST", "RTS", "SRT", "STR", "TRS", "TSR")
MEASURAND_LIST_MAX = 12


def _rotation(value: Value) -> str | None:
    assert isinstance(value, tuple)
    pattern = re.compile(rf"(\d+\.)?({'|'.join(ROTATIONS)})")
    bad = [item for item in value if not pattern.fullmatch(item)]
    return f"not a phase rotation: {', '.join(bad)}" if bad else None


def _hex_key(value: Value) -> str | None:
    assert isinstance(value, str)
    if not re.fullmatch(r"(?:[0-9A-Fa-f]{2}){16,20}", value):
        return "expected 16 to 20 bytes written as 32 to 40 hexadecimal digits"
    return None


def core_keys(
    *,
    connectors: int,
    measurands: frozenset[str],
    profiles: tuple[str, ...],
    security_profile: int,
) -> list[KeySpec]:
    """The Core keys for a charger with ``connectors`` and meters that can give ``measurands``."""

    def measurand_list(name: str, default: str, doc: str) -> KeySpec:
        return KeySpec(
            name,
            L,
            tuple(d for d in default.split(",") if d),
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
            ("NotApplicable",),
            max_items=connectors + 1,
            check=_rotation,
            doc="per connector, e.g. 1.RST",
        ),
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
            "Energy.Active.Import.Register",
            "measurands of clock-aligned meter values",
        ),
        max_length("MeterValuesAlignedData"),
        measurand_list(
            "MeterValuesSampledData",
            "Energy.Active.Import.Register",
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
            "StopTxnAlignedData", "", "clock-aligned measurands in StopTransaction.transactionData"
        ),
        max_length("StopTxnAlignedData"),
        measurand_list(
            "StopTxnSampledData", "", "sampled measurands in StopTransaction.transactionData"
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
            check=_hex_key,
            max_length=40,
            doc="basic-auth password (write-only); a change reconnects with it",
        ),
        KeySpec(
            "SecurityProfile",
            N,
            security_profile,
            readonly=True,
            derived=True,
            doc="from the config file; raising it over OCPP is not built yet",
        ),
    ]
