"""A realistic payload for every OCPP 1.6 request and response, as on the wire.

Date-times are written the way `format_datetime` writes them, so decoding and
encoding again gives back the identical payload.
"""

from __future__ import annotations

from typing import Any

T0 = "2026-11-21T10:00:00Z"
T1 = "2026-11-21T10:15:00.250Z"
T2 = "2026-11-21T11:00:00Z"
PEM = "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUJ0h9\n-----END CERTIFICATE-----\n"
HASH_DATA = {
    "hashAlgorithm": "SHA256",
    "issuerNameHash": "8e3b5a9c0d4f1e2a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f40",
    "issuerKeyHash": "0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9",
    "serialNumber": "5d2f9a7e01",
}
SCHEDULE = {
    "duration": 86400,
    "startSchedule": "2026-11-21T00:00:00Z",
    "chargingRateUnit": "A",
    "chargingSchedulePeriod": [
        {"startPeriod": 0, "limit": 32.0, "numberPhases": 3},
        {"startPeriod": 61200, "limit": 21.4, "numberPhases": 3},
        {"startPeriod": 79200, "limit": 16.0},
    ],
    "minChargingRate": 6.0,
}
FOUR_SAMPLES = [
    {
        "value": "152340",
        "context": "Sample.Periodic",
        "format": "Raw",
        "measurand": "Energy.Active.Import.Register",
        "location": "Outlet",
        "unit": "Wh",
    },
    {
        "value": "15.9",
        "context": "Sample.Periodic",
        "measurand": "Current.Import",
        "phase": "L1",
        "unit": "A",
    },
    {
        "value": "231.2",
        "context": "Sample.Periodic",
        "measurand": "Voltage",
        "phase": "L1-N",
        "unit": "V",
    },
    {
        "value": "3676",
        "context": "Sample.Periodic",
        "measurand": "Power.Active.Import",
        "unit": "W",
    },
]

REQUESTS: dict[str, dict[str, Any]] = {
    "Authorize": {"idTag": "04A2B3C4D5E6F7"},
    "BootNotification": {
        "chargePointVendor": "ocppd",
        "chargePointModel": "Pi Wallbox 22",
        "chargePointSerialNumber": "PW22-000123",
        "chargeBoxSerialNumber": "CB-000123",
        "firmwareVersion": "0.1.0",
        "iccid": "8931080019073497795",
        "imsi": "262019876543210",
        "meterType": "Eastron SDM630",
        "meterSerialNumber": "SDM-4711",
    },
    "CancelReservation": {"reservationId": 17},
    "CertificateSigned": {"certificateChain": PEM},
    "ChangeAvailability": {"connectorId": 1, "type": "Inoperative"},
    "ChangeConfiguration": {"key": "HeartbeatInterval", "value": "600"},
    "ClearCache": {},
    "ClearChargingProfile": {
        "id": 3,
        "connectorId": 1,
        "chargingProfilePurpose": "TxDefaultProfile",
        "stackLevel": 0,
    },
    "DataTransfer": {
        "vendorId": "com.example.ocppd",
        "messageId": "DisplayText",
        "data": '{"text": "Grüß Gott"}',
    },
    "DeleteCertificate": {"certificateHashData": HASH_DATA},
    "DiagnosticsStatusNotification": {"status": "Uploaded"},
    "ExtendedTriggerMessage": {"requestedMessage": "SignChargePointCertificate"},
    "FirmwareStatusNotification": {"status": "Installing"},
    "GetCompositeSchedule": {"connectorId": 1, "duration": 3600, "chargingRateUnit": "A"},
    "GetConfiguration": {"key": ["HeartbeatInterval", "MeterValueSampleInterval"]},
    "GetDiagnostics": {
        "location": "ftp://diag:secret@diag.example.com/uploads/",
        "retries": 3,
        "retryInterval": 60,
        "startTime": "2026-11-20T00:00:00Z",
        "stopTime": T0,
    },
    "GetInstalledCertificateIds": {"certificateType": "CentralSystemRootCertificate"},
    "GetLocalListVersion": {},
    "GetLog": {
        "log": {
            "remoteLocation": "https://logs.example.com/upload/PW22-000123",
            "oldestTimestamp": "2026-11-01T00:00:00Z",
            "latestTimestamp": T0,
        },
        "logType": "SecurityLog",
        "requestId": 42,
        "retries": 2,
        "retryInterval": 30,
    },
    "Heartbeat": {},
    "InstallCertificate": {"certificateType": "ManufacturerRootCertificate", "certificate": PEM},
    "LogStatusNotification": {"status": "Uploading", "requestId": 42},
    "MeterValues": {
        "connectorId": 1,
        "transactionId": 1234,
        "meterValue": [{"timestamp": T1, "sampledValue": FOUR_SAMPLES}],
    },
    "RemoteStartTransaction": {
        "connectorId": 1,
        "idTag": "04A2B3C4D5E6F7",
        "chargingProfile": {
            "chargingProfileId": 9,
            "stackLevel": 1,
            "chargingProfilePurpose": "TxProfile",
            "chargingProfileKind": "Relative",
            "chargingSchedule": {
                "chargingRateUnit": "W",
                "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 7400.0}],
            },
        },
    },
    "RemoteStopTransaction": {"transactionId": 1234},
    "ReserveNow": {
        "connectorId": 1,
        "expiryDate": T2,
        "idTag": "04A2B3C4D5E6F7",
        "parentIdTag": "FLEET-7",
        "reservationId": 17,
    },
    "Reset": {"type": "Soft"},
    "SecurityEventNotification": {
        "type": "SettingSystemTime",
        "timestamp": T1,
        "techInfo": "clock stepped by +2.1 s",
    },
    "SendLocalList": {
        "listVersion": 6,
        "localAuthorizationList": [
            {"idTag": "04A2B3C4D5E6F7", "idTagInfo": {"expiryDate": T2, "status": "Accepted"}},
            {"idTag": "DEADBEEF", "idTagInfo": {"status": "Blocked"}},
            {"idTag": "REMOVED-01"},
        ],
        "updateType": "Differential",
    },
    "SetChargingProfile": {
        "connectorId": 0,
        "csChargingProfiles": {
            "chargingProfileId": 100,
            "stackLevel": 0,
            "chargingProfilePurpose": "ChargePointMaxProfile",
            "chargingProfileKind": "Recurring",
            "recurrencyKind": "Daily",
            "validFrom": "2026-11-01T00:00:00Z",
            "validTo": "2027-11-01T00:00:00Z",
            "chargingSchedule": SCHEDULE,
        },
    },
    "SignCertificate": {
        "csr": "-----BEGIN CERTIFICATE REQUEST-----\nMIIBWz\n-----END CERTIFICATE REQUEST-----\n"
    },
    "SignedFirmwareStatusNotification": {"status": "SignatureVerified", "requestId": 7},
    "SignedUpdateFirmware": {
        "retries": 3,
        "retryInterval": 120,
        "requestId": 7,
        "firmware": {
            "location": "https://fw.example.com/ocppd-0.2.0.tar",
            "retrieveDateTime": T0,
            "installDateTime": T2,
            "signingCertificate": PEM,
            "signature": "MEUCIQDx7Qn2",
        },
    },
    "StartTransaction": {
        "connectorId": 1,
        "idTag": "04A2B3C4D5E6F7",
        "meterStart": 152340,
        "reservationId": 17,
        "timestamp": T0,
    },
    "StatusNotification": {
        "connectorId": 1,
        "errorCode": "NoError",
        "info": "cable plugged",
        "status": "Preparing",
        "timestamp": T0,
        "vendorId": "com.example.ocppd",
        "vendorErrorCode": "0",
    },
    "StopTransaction": {
        "idTag": "04A2B3C4D5E6F7",
        "meterStop": 161020,
        "timestamp": T2,
        "transactionId": 1234,
        "reason": "EVDisconnected",
        "transactionData": [
            {
                "timestamp": T0,
                "sampledValue": [
                    {"value": "152340", "context": "Transaction.Begin", "unit": "Wh"},
                ],
            },
            {
                "timestamp": T2,
                "sampledValue": [
                    {"value": "161.02", "context": "Transaction.End", "unit": "kWh"},
                ],
            },
        ],
    },
    "TriggerMessage": {"requestedMessage": "StatusNotification", "connectorId": 1},
    "UnlockConnector": {"connectorId": 1},
    "UpdateFirmware": {
        "location": "https://fw.example.com/ocppd-0.2.0.tar",
        "retries": 2,
        "retrieveDate": T2,
        "retryInterval": 300,
    },
}

RESPONSES: dict[str, dict[str, Any]] = {
    "Authorize": {"idTagInfo": {"expiryDate": T2, "parentIdTag": "FLEET-7", "status": "Accepted"}},
    "BootNotification": {"status": "Accepted", "currentTime": T1, "interval": 300},
    "CancelReservation": {"status": "Accepted"},
    "CertificateSigned": {"status": "Rejected"},
    "ChangeAvailability": {"status": "Scheduled"},
    "ChangeConfiguration": {"status": "RebootRequired"},
    "ClearCache": {"status": "Accepted"},
    "ClearChargingProfile": {"status": "Unknown"},
    "DataTransfer": {"status": "Accepted", "data": "shown"},
    "DeleteCertificate": {"status": "NotFound"},
    "DiagnosticsStatusNotification": {},
    "ExtendedTriggerMessage": {"status": "Accepted"},
    "FirmwareStatusNotification": {},
    "GetCompositeSchedule": {
        "status": "Accepted",
        "connectorId": 1,
        "scheduleStart": T0,
        "chargingSchedule": {
            "duration": 3600,
            "startSchedule": T0,
            "chargingRateUnit": "A",
            "chargingSchedulePeriod": [
                {"startPeriod": 0, "limit": 16.0, "numberPhases": 3},
                {"startPeriod": 1800, "limit": 10.5, "numberPhases": 1},
            ],
        },
    },
    "GetConfiguration": {
        "configurationKey": [
            {"key": "HeartbeatInterval", "readonly": False, "value": "300"},
            {"key": "NumberOfConnectors", "readonly": True, "value": "1"},
            {"key": "AuthorizationKey", "readonly": False},
        ],
        "unknownKey": ["VendorSpecificThing"],
    },
    "GetDiagnostics": {"fileName": "diagnostics-PW22-000123-20261121.tar.gz"},
    "GetInstalledCertificateIds": {"certificateHashData": [HASH_DATA], "status": "Accepted"},
    "GetLocalListVersion": {"listVersion": 6},
    "GetLog": {"status": "Accepted", "filename": "security-42.log"},
    "Heartbeat": {"currentTime": T1},
    "InstallCertificate": {"status": "Accepted"},
    "LogStatusNotification": {},
    "MeterValues": {},
    "RemoteStartTransaction": {"status": "Accepted"},
    "RemoteStopTransaction": {"status": "Rejected"},
    "ReserveNow": {"status": "Occupied"},
    "Reset": {"status": "Accepted"},
    "SecurityEventNotification": {},
    "SendLocalList": {"status": "VersionMismatch"},
    "SetChargingProfile": {"status": "NotSupported"},
    "SignCertificate": {"status": "Accepted"},
    "SignedFirmwareStatusNotification": {},
    "SignedUpdateFirmware": {"status": "InvalidCertificate"},
    "StartTransaction": {"idTagInfo": {"status": "ConcurrentTx"}, "transactionId": 1234},
    "StatusNotification": {},
    "StopTransaction": {"idTagInfo": {"status": "Accepted"}},
    "TriggerMessage": {"status": "NotImplemented"},
    "UnlockConnector": {"status": "Unlocked"},
    "UpdateFirmware": {},
}
