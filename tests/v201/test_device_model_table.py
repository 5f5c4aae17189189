"""The 2.0.1 device model as a view over the one key store (design decision 4), without a link:
the mapping table onto the 1.6 keys, the required variables, the per-item answers of
SetVariables (B05) and GetVariables (B06), and the base reports (B07) and their split into
NotifyReports, each validated against the ocpp package's 2.0.1 schemas."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from ocpp.messages import Call, _validate_payload

from ocppd.features import PROFILES, declared_keys, site
from ocppd.features.v201 import V201_PROFILES, device_model
from ocppd.features.v201.variables import (
    VARIABLES,
    DeviceModel,
    Facts,
    Place,
    Variable,
    split,
)
from ocppd.model.keys import Keys, KeySpec, KeyType
from ocppd.model.status import Status
from ocppd.protocol.v201 import codec
from ocppd.protocol.v201 import messages as m
from ocppd.protocol.v201.enums import (
    AttributeEnumType,
    DataEnumType,
    GetVariableStatusEnumType,
    MutabilityEnumType,
    ReportBaseEnumType,
    SetVariableStatusEnumType,
)

ALL = (*PROFILES, *V201_PROFILES)
NOW = datetime(2026, 12, 2, 13, 0, tzinfo=UTC)
STATUS = {0: Status.AVAILABLE, 1: Status.CHARGING, 2: Status.FAULTED}

# 2.0.1 variable -> 1.6 key: the decision 4 pairs and the rest of the table, as a spec reader
# would pair them (OCPP 2.0.1 Part 2 "Referenced Components and Variables" / 1.6 §9)
MAPPED = {
    ("OCPPCommCtrlr", "HeartbeatInterval", None): "HeartbeatInterval",
    ("OCPPCommCtrlr", "WebSocketPingInterval", None): "WebSocketPingInterval",
    ("OCPPCommCtrlr", "MessageAttempts", "TransactionEvent"): "TransactionMessageAttempts",
    ("OCPPCommCtrlr", "MessageAttemptInterval", "TransactionEvent"): (
        "TransactionMessageRetryInterval"
    ),
    ("OCPPCommCtrlr", "ResetRetries", None): "ResetRetries",
    ("OCPPCommCtrlr", "UnlockOnEVSideDisconnect", None): "UnlockConnectorOnEVSideDisconnect",
    ("TxCtrlr", "EVConnectionTimeOut", None): "ConnectionTimeOut",
    ("TxCtrlr", "StopTxOnEVSideDisconnect", None): "StopTransactionOnEVSideDisconnect",
    ("TxCtrlr", "StopTxOnInvalidId", None): "StopTransactionOnInvalidId",
    ("TxCtrlr", "MaxEnergyOnInvalidId", None): "MaxEnergyOnInvalidId",
    ("SampledDataCtrlr", "TxUpdatedMeasurands", None): "MeterValuesSampledData",
    ("SampledDataCtrlr", "TxUpdatedInterval", None): "MeterValueSampleInterval",
    ("SampledDataCtrlr", "TxEndedMeasurands", None): "StopTxnSampledData",
    ("AlignedDataCtrlr", "Interval", None): "ClockAlignedDataInterval",
    ("AlignedDataCtrlr", "Measurands", None): "MeterValuesAlignedData",
    ("AlignedDataCtrlr", "TxEndedMeasurands", None): "StopTxnAlignedData",
    ("AuthCtrlr", "AuthorizeRemoteStart", None): "AuthorizeRemoteTxRequests",
    ("AuthCtrlr", "LocalAuthorizeOffline", None): "LocalAuthorizeOffline",
    ("AuthCtrlr", "LocalPreAuthorize", None): "LocalPreAuthorize",
    ("AuthCtrlr", "OfflineTxForUnknownIdEnabled", None): "AllowOfflineTxForUnknownId",
    ("AuthCacheCtrlr", "Enabled", None): "AuthorizationCacheEnabled",
    ("SecurityCtrlr", "SecurityProfile", None): "SecurityProfile",
    ("SecurityCtrlr", "BasicAuthPassword", None): "AuthorizationKey",
    ("SecurityCtrlr", "OrganizationName", None): "CpoName",
}

# The variables 2.0.1 requires of the blocks built (B, C, E, F, G, J, M, P, A): OCPP 2.0.1
# Part 2, the "required" variables of each controller and of the charging infrastructure.
REQUIRED = [
    ("ChargingStation", "AvailabilityState", None),
    ("ChargingStation", "Available", None),
    ("ChargingStation", "Model", None),
    ("ChargingStation", "VendorName", None),
    ("ChargingStation", "SupplyPhases", None),
    ("EVSE", "AvailabilityState", None),
    ("EVSE", "Available", None),
    ("EVSE", "SupplyPhases", None),
    ("Connector", "AvailabilityState", None),
    ("Connector", "Available", None),
    ("Connector", "SupplyPhases", None),
    ("DeviceDataCtrlr", "ItemsPerMessage", "GetReport"),
    ("DeviceDataCtrlr", "ItemsPerMessage", "GetVariables"),
    ("DeviceDataCtrlr", "BytesPerMessage", "GetReport"),
    ("DeviceDataCtrlr", "BytesPerMessage", "GetVariables"),
    ("DeviceDataCtrlr", "ItemsPerMessage", "SetVariables"),
    ("DeviceDataCtrlr", "BytesPerMessage", "SetVariables"),
    ("OCPPCommCtrlr", "MessageTimeout", "Default"),
    ("OCPPCommCtrlr", "MessageAttempts", "TransactionEvent"),
    ("OCPPCommCtrlr", "MessageAttemptInterval", "TransactionEvent"),
    ("OCPPCommCtrlr", "NetworkConfigurationPriority", None),
    ("OCPPCommCtrlr", "OfflineThreshold", None),
    ("OCPPCommCtrlr", "ResetRetries", None),
    ("OCPPCommCtrlr", "UnlockOnEVSideDisconnect", None),
    ("ClockCtrlr", "DateTime", None),
    ("ClockCtrlr", "TimeSource", None),
    ("SecurityCtrlr", "OrganizationName", None),
    ("SecurityCtrlr", "CertificateEntries", None),
    ("SecurityCtrlr", "SecurityProfile", None),
    ("AuthCtrlr", "AuthorizeRemoteStart", None),
    ("AuthCtrlr", "LocalAuthorizeOffline", None),
    ("AuthCtrlr", "LocalPreAuthorize", None),
    ("TxCtrlr", "EVConnectionTimeOut", None),
    ("TxCtrlr", "StopTxOnEVSideDisconnect", None),
    ("TxCtrlr", "StopTxOnInvalidId", None),
    ("TxCtrlr", "TxStartPoint", None),
    ("TxCtrlr", "TxStopPoint", None),
    ("SampledDataCtrlr", "TxEndedMeasurands", None),
    ("SampledDataCtrlr", "TxEndedInterval", None),
    ("SampledDataCtrlr", "TxStartedMeasurands", None),
    ("SampledDataCtrlr", "TxUpdatedMeasurands", None),
    ("SampledDataCtrlr", "TxUpdatedInterval", None),
    ("AlignedDataCtrlr", "Interval", None),
    ("AlignedDataCtrlr", "Measurands", None),
    ("AlignedDataCtrlr", "TxEndedInterval", None),
    ("AlignedDataCtrlr", "TxEndedMeasurands", None),
]


def make_keys(**persisted: str) -> Keys:
    return Keys(declared_keys(ALL, connectors=2, phases={1: 3, 2: 1}), persisted=persisted)


def make_facts(**status: Status) -> Facts:
    statuses = {**STATUS, **{int(k[1:]): v for k, v in status.items()}}
    return Facts(
        evses={1: 3, 2: 1},
        status=statuses.__getitem__,
        vendor="Acme",
        model="Wallbox 22",
        identity="CP-7",
        now=lambda: NOW,
        serial_number="SN-1",
        certificates=lambda: 2,
        display=True,
    )


@pytest.fixture
def model() -> DeviceModel:
    return DeviceModel(make_keys(), make_facts())


def component(name: str, evse: int | None = None, connector: int | None = None) -> m.ComponentType:
    return m.ComponentType(
        name=name, evse=None if evse is None else m.EVSEType(id=evse, connector_id=connector)
    )


def get(
    model: DeviceModel,
    name: str,
    variable: str,
    instance: str | None = None,
    *,
    evse: int | None = None,
    connector: int | None = None,
    attribute: AttributeEnumType | None = None,
) -> m.GetVariableResultType:
    return model.get(
        m.GetVariableDataType(
            component=component(name, evse, connector),
            variable=m.VariableType(name=variable, instance=instance),
            attribute_type=attribute,
        )
    )


def set_data(
    name: str,
    variable: str,
    value: str,
    instance: str | None = None,
    attribute: AttributeEnumType | None = None,
) -> m.SetVariableDataType:
    return m.SetVariableDataType(
        attribute_value=value,
        component=component(name),
        variable=m.VariableType(name=variable, instance=instance),
        attribute_type=attribute,
    )


# --- the table ---


def test_each_variable_that_means_a_1_6_key_is_that_key():
    table = {(v.component, v.name, v.instance): v.key for v in VARIABLES if v.key is not None}
    for slot, key in MAPPED.items():
        assert table[slot] == key, slot


def test_every_key_the_table_names_is_declared_by_the_profiles():
    declared = {spec.name for spec in declared_keys(ALL)}
    missing = [v.label for v in VARIABLES if v.key is not None and v.key not in declared]
    assert missing == []


def test_the_required_variables_of_the_blocks_built_exist(model):
    have = {(v.component, v.name, v.instance) for v in model.variables}
    assert [slot for slot in REQUIRED if slot not in have] == []


def test_the_2_0_1_only_keys_persist_and_check_like_1_6_keys():
    keys = make_keys(**{"OCPPCommCtrlr.OfflineThreshold": "300"})
    assert keys.get_int("OCPPCommCtrlr.OfflineThreshold") == 300
    spec = keys.specs["ocppcommctrlr.offlinethreshold"]
    with pytest.raises(ValueError, match="below 0"):
        spec.parse("-1")
    # TxStartPoint / TxStopPoint are the central system's to set (E01, E06)
    assert not keys.specs["TxCtrlr.TxStartPoint"].readonly
    assert keys.get_csl("SampledDataCtrlr.TxStartedMeasurands") == (
        "Energy.Active.Import.Register",
    )
    assert not any(
        spec.listed for spec in device_model.keys(site())
    )  # a 1.6 central system does not reach them


def test_a_variable_has_a_key_or_a_reader():
    with pytest.raises(ValueError, match="not both or neither"):
        Variable("X", "Y")


def test_a_variable_whose_key_is_not_declared_is_left_out():
    keys = Keys([KeySpec("HeartbeatInterval", KeyType.INT, 60)])
    model = DeviceModel(keys, make_facts())
    assert "CpoName" not in {v.key for v in model.variables}
    result = get(model, "SecurityCtrlr", "OrganizationName")
    assert result.attribute_status is GetVariableStatusEnumType.UNKNOWN_VARIABLE


# --- GetVariables (B06) ---


def test_get_answers_the_1_6_keys_value_in_any_case_of_the_names(model):
    result = get(model, "ocppcommctrlr", "heartbeatINTERVAL")
    assert result.attribute_status is GetVariableStatusEnumType.ACCEPTED
    assert result.attribute_value == model.keys.text("HeartbeatInterval") == "3600"
    assert result.attribute_type is AttributeEnumType.ACTUAL  # B06.FR.11
    assert result.component.name == "ocppcommctrlr"  # as asked (B06.FR.01)


def test_get_of_an_unknown_component_or_variable(model):
    assert (
        get(model, "FooCtrlr", "HeartbeatInterval").attribute_status
        is GetVariableStatusEnumType.UNKNOWN_COMPONENT
    )
    assert (
        get(model, "OCPPCommCtrlr", "Foo").attribute_status
        is GetVariableStatusEnumType.UNKNOWN_VARIABLE
    )
    # an instance is part of the variable's name
    assert (
        get(model, "OCPPCommCtrlr", "MessageAttempts").attribute_status
        is GetVariableStatusEnumType.UNKNOWN_VARIABLE
    )
    assert get(model, "OCPPCommCtrlr", "MessageAttempts", "TransactionEvent").attribute_value == (
        "3"
    )


@pytest.mark.parametrize(
    ("name", "evse", "connector", "expected"),
    [
        ("EVSE", 1, None, "Occupied"),
        ("EVSE", 2, None, "Faulted"),
        ("Connector", 2, 1, "Faulted"),
        ("ChargingStation", None, None, "Available"),
        ("EVSE", 3, None, None),  # no EVSE 3
        ("EVSE", None, None, None),  # an EVSE needs its id
        ("Connector", 1, 2, None),  # each EVSE has one connector, id 1
        ("Connector", 1, None, None),
        ("ChargingStation", 1, None, None),  # the station is not at an EVSE
        ("TxCtrlr", 1, None, None),
    ],
)
def test_components_at_evses_and_connectors(model, name, evse, connector, expected):
    result = get(model, name, "AvailabilityState", evse=evse, connector=connector)
    if expected is None:
        assert result.attribute_status is GetVariableStatusEnumType.UNKNOWN_COMPONENT
    else:
        assert result.attribute_status is GetVariableStatusEnumType.ACCEPTED
        assert result.attribute_value == expected


def test_get_of_an_attribute_the_variable_does_not_have(model):
    for attribute in (AttributeEnumType.TARGET, AttributeEnumType.MIN_SET):
        result = get(model, "OCPPCommCtrlr", "HeartbeatInterval", attribute=attribute)
        assert result.attribute_status is GetVariableStatusEnumType.NOT_SUPPORTED_ATTRIBUTE_TYPE
        assert result.attribute_type is attribute  # B06.FR.02


def test_a_write_only_variable_is_never_read_back():
    """A01 / TC_A_...: the basic-auth password is WriteOnly: Rejected, no value."""
    model = DeviceModel(make_keys(AuthorizationKey="00" * 20), make_facts())
    result = get(model, "SecurityCtrlr", "BasicAuthPassword")
    assert result.attribute_status is GetVariableStatusEnumType.REJECTED
    assert result.attribute_value is None
    assert "00" * 20 not in repr(result)


def test_facts_of_the_charger(model):
    assert get(model, "ChargingStation", "VendorName").attribute_value == "Acme"
    assert get(model, "ChargingStation", "SupplyPhases").attribute_value == "3"
    assert get(model, "EVSE", "SupplyPhases", evse=2).attribute_value == "1"
    assert get(model, "ClockCtrlr", "DateTime").attribute_value == "2026-12-02T13:00:00Z"
    assert get(model, "SecurityCtrlr", "CertificateEntries").attribute_value == "2"
    assert get(model, "OCPPCommCtrlr", "MessageTimeout", "Default").attribute_value == "30"


def test_a_long_value_is_cut_to_reporting_value_size():
    long = tuple(f"K{i:03}" for i in range(700))
    keys = Keys(
        [
            KeySpec("MeterValuesSampledData", KeyType.CSL, long),
            *declared_keys((device_model.profile,)),
        ]
    )
    model = DeviceModel(keys, make_facts())
    value = get(model, "SampledDataCtrlr", "TxUpdatedMeasurands").attribute_value
    assert value is not None and len(value) == 2500
    assert value == keys.text("MeterValuesSampledData")[:2500]


# --- SetVariables (B05) ---


async def test_a_set_of_a_mapped_variable_is_the_1_6_keys_value():
    model = DeviceModel(make_keys(), make_facts())
    decision = model.decide_set(set_data("SampledDataCtrlr", "TxUpdatedInterval", "15"))
    assert decision.status is SetVariableStatusEnumType.ACCEPTED
    assert decision.change is not None
    assert (decision.change.key, decision.change.value) == ("MeterValueSampleInterval", 15)
    await model.keys.apply(decision.change.key, decision.change.value)
    assert model.keys.text("MeterValueSampleInterval") == "15"
    assert get(model, "SampledDataCtrlr", "TxUpdatedInterval").attribute_value == "15"
    # and the read-only mirror follows
    assert get(model, "SampledDataCtrlr", "TxEndedInterval").attribute_value == "15"


@pytest.mark.parametrize(
    ("data", "status", "why"),
    [
        (set_data("OCPPCommCtrlr", "HeartbeatInterval", "ten"), "Rejected", "not an integer"),
        (set_data("OCPPCommCtrlr", "HeartbeatInterval", "-1"), "Rejected", "below 0"),
        (set_data("SecurityCtrlr", "SecurityProfile", "1"), "Rejected", "ReadOnly"),
        (set_data("ChargingStation", "VendorName", "x"), "Rejected", "ReadOnly"),
        # no parking bay sensor, no signing meter (E01.FR.01, .04)
        (set_data("TxCtrlr", "TxStartPoint", "ParkingBayOccupancy"), "Rejected", "not supported"),
        (
            set_data("TxCtrlr", "TxStopPoint", "EVConnected,DataSigned"),
            "Rejected",
            "not supported: DataSigned",
        ),
        (set_data("TxCtrlr", "TxStopPoint", ""), "Rejected", "at least one point"),
        (set_data("AuthCtrlr", "Enabled", "no"), "Rejected", "true or false"),
        (set_data("SampledDataCtrlr", "TxEndedInterval", "5"), "Rejected", "ReadOnly"),
        (set_data("OCPPCommCtrlr", "Foo", "1"), "UnknownVariable", ""),
        (set_data("FooCtrlr", "HeartbeatInterval", "1"), "UnknownComponent", ""),
        (
            set_data(
                "OCPPCommCtrlr", "HeartbeatInterval", "1", attribute=AttributeEnumType.MAX_SET
            ),
            "NotSupportedAttributeType",
            "",
        ),
        (set_data("SecurityCtrlr", "OrganizationName", "x" * 1001), "Rejected", "longer than"),
        (set_data("AuthCtrlr", "LocalPreAuthorize", "yes"), "Rejected", "true or false"),
    ],
)
def test_set_refusals(model, data, status, why):
    decision = model.decide_set(data)
    assert decision.status.value == status
    assert why in decision.why
    assert decision.change is None


def test_a_key_that_takes_effect_at_the_next_start_is_reboot_required():
    spec = KeySpec("Later", KeyType.INT, 1, reboot_required=True)
    model = DeviceModel(
        Keys([spec, *declared_keys((device_model.profile,))]),
        make_facts(),
        (*VARIABLES, Variable("OCPPCommCtrlr", "Later", key="Later")),
    )
    decision = model.decide_set(set_data("OCPPCommCtrlr", "Later", "2"))
    assert decision.status is SetVariableStatusEnumType.REBOOT_REQUIRED
    assert decision.change is not None


def test_the_password_is_write_only_and_its_refusal_says_nothing_of_it(model):
    decision = model.decide_set(set_data("SecurityCtrlr", "BasicAuthPassword", "ab" * 20))
    assert decision.status is SetVariableStatusEnumType.ACCEPTED
    assert decision.secret
    assert model.mutability(decision_variable(model, "BasicAuthPassword")) is (
        MutabilityEnumType.WRITE_ONLY
    )


def decision_variable(model: DeviceModel, name: str) -> Variable:
    return next(v for v in model.variables if v.name == name)


# --- reports (B07) ---


def validate(report: m.NotifyReportRequest) -> None:
    _validate_payload(Call("1", "NotifyReport", codec.to_payload(report)), ocpp_version="2.0.1")


def notify(part: tuple[m.ReportDataType, ...], seq_no: int = 0) -> m.NotifyReportRequest:
    return m.NotifyReportRequest(request_id=7, generated_at=NOW, seq_no=seq_no, report_data=part)


def slots(data: list[m.ReportDataType]) -> set[tuple[str, int | None, str, str | None]]:
    return {
        (
            d.component.name,
            None if d.component.evse is None else d.component.evse.id,
            d.variable.name,
            d.variable.instance,
        )
        for d in data
    }


def test_full_inventory_reports_every_variable_everywhere_with_its_characteristics(model):
    data = model.base_report(ReportBaseEnumType.FULL_INVENTORY)
    per_evse = [v for v in model.variables if v.component in ("EVSE", "Connector")]
    station = [v for v in model.variables if v.component not in ("EVSE", "Connector")]
    assert len(data) == len(station) + 2 * len(per_evse)
    assert ("Connector", 2, "AvailabilityState", None) in slots(data)
    assert all(d.variable_characteristics is not None for d in data)
    validate(notify(tuple(data)))
    heartbeat = next(d for d in data if d.variable.name == "HeartbeatInterval")
    assert heartbeat.variable_characteristics == m.VariableCharacteristicsType(
        data_type=DataEnumType.INTEGER,
        supports_monitoring=False,
        unit="s",
        min_limit=0,
        max_limit=86400 * 7,
    )
    (attribute,) = heartbeat.variable_attribute
    assert (attribute.type, attribute.value, attribute.mutability, attribute.persistent) == (
        AttributeEnumType.ACTUAL,
        "3600",
        MutabilityEnumType.READ_WRITE,
        True,
    )


def test_configuration_inventory_is_what_can_be_set_and_never_shows_the_password():
    model = DeviceModel(make_keys(AuthorizationKey="ab" * 20), make_facts())
    data = model.base_report(ReportBaseEnumType.CONFIGURATION_INVENTORY)
    assert all(d.variable_attribute[0].mutability is not MutabilityEnumType.READ_ONLY for d in data)
    assert ("SampledDataCtrlr", None, "TxUpdatedInterval", None) in slots(data)
    assert ("ChargingStation", None, "VendorName", None) not in slots(data)
    password = next(d for d in data if d.variable.name == "BasicAuthPassword")
    assert password.variable_attribute[0].value is None
    assert "ab" * 20 not in repr(data)
    validate(notify(tuple(data)))


def test_summary_inventory_is_the_availability_of_the_station_its_evses_and_connectors(model):
    data = model.base_report(ReportBaseEnumType.SUMMARY_INVENTORY)
    assert {(s[0], s[1]) for s in slots(data)} == {
        ("ChargingStation", None),
        ("EVSE", 1),
        ("EVSE", 2),
        ("Connector", 1),
        ("Connector", 2),
    }
    assert [d.variable_attribute[0].value for d in data] == [
        "Available",
        "Occupied",
        "Occupied",
        "Faulted",
        "Faulted",
    ]


def test_a_custom_report_by_component_variable_and_criterion(model):
    wanted = (
        m.ComponentVariableType(component=component("EVSE", 2)),
        m.ComponentVariableType(
            component=component("OCPPCommCtrlr"),
            variable=m.VariableType(name="HeartbeatInterval"),
        ),
    )
    data = model.custom_report(wanted, None)
    assert slots(data) == {
        ("EVSE", 2, "AvailabilityState", None),
        ("EVSE", 2, "Available", None),
        ("EVSE", 2, "SupplyPhases", None),
        ("EVSE", 2, "Problem", None),
        ("OCPPCommCtrlr", None, "HeartbeatInterval", None),
    }
    problems = model.custom_report(None, [m.ComponentCriterionEnumType.PROBLEM])
    assert {(s[0], s[1]) for s in slots(problems)} == {("EVSE", 2), ("Connector", 2)}
    # a component meets a criterion by its variable of that name: AuthCtrlr and
    # SmartChargingCtrlr are Enabled, the station, its EVSEs and connectors, the cache and
    # Smart Charging are Available; none is Active
    enabled = model.custom_report(None, [m.ComponentCriterionEnumType.ENABLED])
    assert {s[0] for s in slots(enabled)} == {
        "AuthCtrlr",
        "AuthCacheCtrlr",
        "SmartChargingCtrlr",
        "ReservationCtrlr",
        "DisplayMessageCtrlr",
    }
    available = model.custom_report(None, [m.ComponentCriterionEnumType.AVAILABLE])
    assert {s[0] for s in slots(available)} == {
        "ChargingStation",
        "EVSE",
        "Connector",
        "AuthCacheCtrlr",
        "SmartChargingCtrlr",
        "ReservationCtrlr",
        "DisplayMessageCtrlr",
    }
    assert model.custom_report(None, [m.ComponentCriterionEnumType.ACTIVE]) == []
    assert model.custom_report((m.ComponentVariableType(component=component("Foo")),), None) == []


def test_a_report_is_split_by_items_and_by_bytes(model):
    data = model.base_report(ReportBaseEnumType.FULL_INVENTORY)
    parts = split(data, 10, 1024 * 1024)
    assert [len(p) for p in parts[:-1]] == [10] * (len(parts) - 1)
    assert [d for p in parts for d in p] == data
    small = split(data, 50, 1500)
    assert len(small) > len(data) // 50 + 1
    for seq_no, part in enumerate(small):
        report = notify(part, seq_no)
        validate(report)
        assert len(part) == 1 or len(str(codec.to_payload(report))) < 1500 * 1.5
    assert split([], 10, 1000) == []


def test_a_place_names_its_component_as_the_wire_does():
    variable = next(v for v in VARIABLES if v.component == "Connector")
    place = Place(variable, 2)
    assert place.component() == m.ComponentType(
        name="Connector", evse=m.EVSEType(id=2, connector_id=1)
    )


def test_a_logged_set_variables_frame_never_shows_the_password():
    """A01: the frame log (session.redact) hides a BasicAuthPassword's attributeValue."""
    from ocppd.features.v201.variables import SECRET_VARIABLES
    from ocppd.session import redact

    assert "BasicAuthPassword" in SECRET_VARIABLES
    secret = "ab" * 20
    items = [
        {
            "attributeValue": secret,
            "component": {"name": "SecurityCtrlr"},
            "variable": {"name": "basicAuthPassword"},
        },
        {
            "attributeValue": "60",
            "component": {"name": "OCPPCommCtrlr"},
            "variable": {"name": "HeartbeatInterval"},
        },
    ]
    frame = json.dumps([2, "1", "SetVariables", {"setVariableData": items}])
    shown = redact(frame, frozenset({"AuthorizationKey"}) | SECRET_VARIABLES)
    assert secret not in shown
    assert '"attributeValue": "***"' in shown and '"60"' in shown


README = (Path(__file__).resolve().parents[2] / "README.md").read_text()
DOCS = (Path(__file__).resolve().parents[2] / "docs" / "ocpp201.md").read_text()


@pytest.mark.parametrize("spec", device_model.keys(site()), ids=lambda s: s.name)
def test_every_2_0_1_key_is_in_the_readme(spec):
    assert f"`{spec.name}`" in README


@pytest.mark.parametrize("variable", VARIABLES, ids=lambda v: v.label)
def test_every_variable_is_in_the_device_model_table_with_its_key(variable):
    name = variable.name + (f" [{variable.instance}]" if variable.instance else "")
    source = f"`{variable.key}`" if variable.key else "the charger"
    assert any(
        f"| {name} | {source} |" in line and line.startswith(f"| {variable.component}")
        for line in DOCS.splitlines()
    )


def test_every_list_variable_gives_its_values_list(model):
    """TC_B_12_CS / TC_B_13_CS: an OptionList, SequenceList or MemberList has a valuesList."""
    lists = (DataEnumType.OPTION_LIST, DataEnumType.SEQUENCE_LIST, DataEnumType.MEMBER_LIST)
    for variable in model.variables:
        found = model.characteristics(variable)
        if found.data_type in lists:
            assert found.values_list, variable.label


async def test_offline_threshold_is_set_and_read_as_the_octt_does(model):
    """TC_B_09_CS then TC_B_06_CS: OCPPCommCtrlr.OfflineThreshold = 300, read back."""
    decision = model.decide_set(
        set_data("OCPPCommCtrlr", "OfflineThreshold", "300", attribute=AttributeEnumType.ACTUAL)
    )
    assert decision.status is SetVariableStatusEnumType.ACCEPTED
    assert decision.change is not None
    await model.keys.apply(decision.change.key, decision.change.value)
    result = get(model, "OCPPCommCtrlr", "OfflineThreshold", attribute=AttributeEnumType.ACTUAL)
    assert (result.attribute_status, result.attribute_value) == (
        GetVariableStatusEnumType.ACCEPTED,
        "300",
    )
    assert result.attribute_status_info is None


def test_an_item_beyond_the_limit_is_rejected(model):
    from ocppd.features.v201.variables import too_many

    assert model.limit("GetVariables") == 50
    data = m.GetVariableDataType(
        component=component("OCPPCommCtrlr"), variable=m.VariableType(name="HeartbeatInterval")
    )
    result = too_many(data)
    assert result.attribute_status is GetVariableStatusEnumType.REJECTED
    assert result.attribute_status_info == m.StatusInfoType(reason_code="TooManyElements")


def test_the_blocks_own_tables_agree_with_the_device_model():
    """A block that names its variables' keys (authorization.py) says what this table says."""
    from ocppd.features.v201 import authorization

    table = {(v.component, v.name): v.key for v in VARIABLES if v.instance is None}
    for slot, key in {**authorization.SAME_AS_V16, **authorization.V201_ONLY}.items():
        assert table[slot] == key, slot


def test_tx_points_say_what_this_charger_supports(model):
    """TC_E_*: TxStartPoint and TxStopPoint are MemberLists whose valuesList names the four
    points the charger follows (no ParkingBayOccupancy, no DataSigned)."""
    for name in ("TxStartPoint", "TxStopPoint"):
        variable = next(v for v in model.variables if (v.component, v.name) == ("TxCtrlr", name))
        found = model.characteristics(variable)
        assert found.data_type is DataEnumType.MEMBER_LIST
        assert set(found.values_list.split(",")) == {
            "Authorized",
            "EVConnected",
            "EnergyTransfer",
            "PowerPathClosed",
        }
