"""Security in OCPP 2.0.1 (functional block A): SecurityEventNotification in 2.0.1 words [A04].

The security events are raised once, in the whitepaper's words, by
``features/security/events.py`` (the log file, journald, the outbox). The message queued
for the central system is in the version current when the event happens
(``features/link.py`` ``Versions``: the open link's, else the last agreed, else the first
offered) and is delivered in that version only, as a transaction's messages are. The
message is the same in both versions (type, timestamp, techInfo); only some event names
differ: :data:`EVENT_WORDS`, which :func:`in_words` applies (``app.SecurityQueue``).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from ocppd.protocol.v201.dialect import V201

EVENT_WORDS: Mapping[str, str] = MappingProxyType(
    {
        # the whitepaper's type -> the 2.0.1 type [2.0.1 Part 2, appendix "Security events"]
        "FirmwareUpdated": "FirmwareUpdated",
        "FailedToAuthenticateAtCentralSystem": "FailedToAuthenticateAtCsms",
        "CentralSystemFailedToAuthenticate": "CsmsFailedToAuthenticate",
        "SettingSystemTime": "SettingSystemTime",
        "StartupOfTheDevice": "StartupOfTheDevice",
        "ResetOrReboot": "ResetOrReboot",
        "SecurityLogWasCleared": "SecurityLogWasCleared",
        "ReconfigurationOfSecurityParameters": "ReconfigurationOfSecurityParameters",
        "MemoryExhaustion": "MemoryExhaustion",
        "InvalidMessages": "InvalidMessages",
        "AttemptedReplayAttacks": "AttemptedReplayAttacks",
        "TamperDetectionActivated": "TamperDetectionActivated",
        "InvalidFirmwareSignature": "InvalidFirmwareSignature",
        "InvalidFirmwareSigningCertificate": "InvalidFirmwareSigningCertificate",
        "InvalidCentralSystemCertificate": "InvalidCsmsCertificate",
        "InvalidChargePointCertificate": "InvalidChargingStationCertificate",
        "InvalidTLSVersion": "InvalidTLSVersion",
        "InvalidTLSCipherSuite": "InvalidTLSCipherSuite",
    }
)
"""Every security event of the whitepaper (``features/security/events.EVENT_TYPES``) in
2.0.1 words (a total map, tested)."""


def in_words(protocol: str, payload: dict[str, Any]) -> dict[str, Any]:
    """A SecurityEventNotification payload (whitepaper words) as ``protocol`` says it."""
    if protocol != V201.subprotocol:
        return payload
    return {**payload, "type": EVENT_WORDS[payload["type"]]}
