"""The 2.0.1 device model (B05-B07) as a view over the one key store, and the table behind it.

OCPP 2.0.1 configures a charging station through components (ChargingStation, EVSE n,
Connector n, the controllers: OCPPCommCtrlr, TxCtrlr, ...) and their variables, each
with attributes (Actual, Target, MinSet, MaxSet), a mutability (ReadOnly, ReadWrite,
WriteOnly) and characteristics (dataType, unit, limits, valuesList). ocppd keeps one
configuration: the :class:`~ocppd.model.keys.Keys` the 1.6 keys live in. A variable that
means what a 1.6 key means *is* that key (:data:`VARIABLES`, one table): a value set
with SetVariables is the value GetConfiguration shows, it feeds the same model
policies (``features/core/policies.py``) and persists the same way. 2.0.1-only
variables that the central system may set are keys of their own (:func:`keys`, named
``<Component>.<Variable>``), declared by the 2.0.1 profile, persisted and checked by
``ocppd check-config`` like any other key. What the charger *is* (its availability,
vendor, the time, the number of certificates) is read from the charger as it is now
(:class:`Facts`): read-only variables.

This module is pure: it decides each GetVariables and SetVariables item and builds the
report data; ``device_model.py`` applies the changes (persist, then apply, as a 1.6
ChangeConfiguration does) and sends the NotifyReports.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import Enum

from ocppd.features.core.keys import V201_RULES
from ocppd.features.profile import Site
from ocppd.features.v201 import display
from ocppd.features.v201.status import connector_status
from ocppd.features.v201.words import TX_POINT
from ocppd.model.keys import Keys, KeySpec, KeyType, Value
from ocppd.model.metering import default_measurands
from ocppd.model.status import Status
from ocppd.protocol.v201 import codec
from ocppd.protocol.v201 import messages as m
from ocppd.protocol.v201.enums import (
    AttributeEnumType,
    ComponentCriterionEnumType,
    ConnectorStatusEnumType,
    DataEnumType,
    GetVariableStatusEnumType,
    MutabilityEnumType,
    ReportBaseEnumType,
    SetVariableStatusEnumType,
)

ACTUAL = AttributeEnumType.ACTUAL
READ_ONLY, READ_WRITE, WRITE_ONLY = (
    MutabilityEnumType.READ_ONLY,
    MutabilityEnumType.READ_WRITE,
    MutabilityEnumType.WRITE_ONLY,
)

# The limits the charger reports in DeviceDataCtrlr (2.0.1 Part 2, "DeviceDataCtrlr").
ITEMS_PER_MESSAGE = 50
REPORTING_VALUE_SIZE = 2500  # GetVariableResult.attributeValue, VariableAttribute.value
CONFIGURATION_VALUE_SIZE = 1000  # SetVariableData.attributeValue


class Scope(Enum):
    """Where a component lives: the station as a whole, one EVSE, or one EVSE's connector."""

    STATION = "station"
    EVSE = "EVSE"
    CONNECTOR = "connector"


SCOPES: Mapping[str, Scope] = {"evse": Scope.EVSE, "connector": Scope.CONNECTOR}
"""Components (by folded name) that exist once per EVSE or connector; every other is the
station's (decision 6: each 1.6 connector N is EVSE N with one connector, id 1)."""


async def _nothing_to_refresh() -> None:
    return None


@dataclass(frozen=True, slots=True)
class Facts:
    """What the read-only variables read: the charger as it is now. ``evses`` gives each
    EVSE's phase count; ``status(n)``/``operative(n)`` are EVSE n's (0: the station)."""

    evses: Mapping[int, int]
    status: Callable[[int], Status]
    vendor: str
    model: str
    identity: str
    now: Callable[[], datetime | None]
    serial_number: str | None = None
    firmware_version: str | None = None
    call_timeout_s: float = 30.0
    max_frame_bytes: int = 1024 * 1024
    certificates: Callable[[], int] = lambda: 0
    charging_profiles: Callable[[], int] = lambda: 0  # installed now (SmartChargingCtrlr.Entries)
    rate_units: Callable[[], str] = lambda: "A,W"  # SmartChargingCtrlr.RateUnit
    display: bool = False  # a local display is configured ([display])
    # what the journal holds, by name ("local_list.entries", "local_list.bytes",
    # "cache.bytes"), as last read by ``refresh`` (the device model is read synchronously;
    # its handlers refresh before each answer or report)
    stored: Callable[[], Mapping[str, int]] = lambda: {}
    refresh: Callable[[], Awaitable[None]] = _nothing_to_refresh
    # a cable is in EVSE n (0: any): Occupied needs one (status.connector_status)
    plugged: Callable[[int], bool] = lambda _evse: True


Reader = Callable[[Facts, int], "str | None"]
"""A read-only value: the facts and the EVSE id (0 for a station component); None when
the charger has no value to give (the attribute is then reported without one)."""


@dataclass(frozen=True, slots=True)
class Variable:
    """One variable of one component. Its Actual value is the configuration key ``key``
    (a 1.6 key, or a 2.0.1-only one) or, for a fact of the charger, ``read``.

    ``mutability`` None follows the key (read-only, write-only when secret, else
    ReadWrite); a variable may be stricter than its key (SecurityProfile is changed
    through the network profile in 2.0.1, not by SetVariables: A05)."""

    component: str
    name: str
    instance: str | None = None
    key: str | None = None
    read: Reader | None = None
    mutability: MutabilityEnumType | None = None
    data_type: DataEnumType | None = None
    unit: str | None = None
    values_list: tuple[str, ...] | None = None
    persistent: bool = True
    constant: bool = False
    # a read-only count's largest value is this key's (its maxLimit: the CSMS sizes what it
    # sends by it, as LocalAuthListCtrlr.Entries for SendLocalList, D01.FR.12)
    max_key: str | None = None

    def __post_init__(self) -> None:
        if (self.key is None) == (self.read is None):
            raise ValueError(f"{self.label}: give a key or a reader, not both or neither")

    @property
    def label(self) -> str:
        instance = f"[{self.instance}]" if self.instance else ""
        return f"{self.component}.{self.name}{instance}"

    @property
    def scope(self) -> Scope:
        return SCOPES.get(self.component.casefold(), Scope.STATION)


# --- readers ---


def const(text: str) -> Reader:
    return lambda _facts, _evse: text


def _availability(facts: Facts, evse: int) -> str:
    """AvailabilityState: the word a StatusNotification says (``status.connector_status``)."""
    return connector_status(facts.status(evse), facts.plugged(evse)).value


def _problem(facts: Facts, evse: int) -> str:
    """Problem: a fault keeps it from charging (its status is Faulted)."""
    return "true" if facts.status(evse) is Status.FAULTED else "false"


def _phases(facts: Facts, evse: int) -> str:
    return str(facts.evses[evse] if evse else max(facts.evses.values(), default=0))


def stored(name: str) -> Reader:
    """A size the journal holds (:attr:`Facts.stored`); None when it could not be read."""

    def read(facts: Facts, _evse: int) -> str | None:
        value = facts.stored().get(name)
        return None if value is None else str(value)

    return read


def _date_time(facts: Facts, _evse: int) -> str | None:
    now = facts.now()
    return None if now is None else now.isoformat().replace("+00:00", "Z")


# --- the table ---

CS, EVSE, CONN = "ChargingStation", "EVSE", "Connector"
COMM, TX, SAMPLED, ALIGNED = "OCPPCommCtrlr", "TxCtrlr", "SampledDataCtrlr", "AlignedDataCtrlr"
AUTH, CACHE, SECURITY = "AuthCtrlr", "AuthCacheCtrlr", "SecurityCtrlr"
DEVICE_DATA, CLOCK = "DeviceDataCtrlr", "ClockCtrlr"
SMART = "SmartChargingCtrlr"
DISPLAY = display.CONTROLLER
FORMATS = tuple(word.value for word in display.SUPPORTED_FORMATS)
PRIORITIES = tuple(word.value for word in display.SUPPORTED_PRIORITIES)
LOCAL_LIST = "LocalAuthListCtrlr"

INT, BOOL, STR = DataEnumType.INTEGER, DataEnumType.BOOLEAN, DataEnumType.STRING
AVAILABILITY_STATES = tuple(word.value for word in ConnectorStatusEnumType)

TX_START_POINT = f"{TX}.TxStartPoint"
TX_STOP_POINT = f"{TX}.TxStopPoint"
TX_STARTED_MEASURANDS = f"{SAMPLED}.TxStartedMeasurands"
AUTH_ENABLED = f"{AUTH}.Enabled"
OFFLINE_THRESHOLD = f"{COMM}.OfflineThreshold"


def _limit(variable: str, instance: str) -> str:
    return f"{DEVICE_DATA}.{variable}{instance}"


VARIABLES: tuple[Variable, ...] = (
    # ChargingStation, EVSE n, Connector n (2.0.1 Part 2, "Charging Infrastructure")
    Variable(CS, "AvailabilityState", read=_availability, values_list=AVAILABILITY_STATES,
             persistent=False),
    Variable(CS, "Available", read=const("true"), data_type=BOOL, constant=True),
    Variable(CS, "Model", read=lambda f, _: f.model, constant=True),
    Variable(CS, "VendorName", read=lambda f, _: f.vendor, constant=True),
    Variable(CS, "SerialNumber", read=lambda f, _: f.serial_number, constant=True),
    Variable(CS, "SupplyPhases", read=_phases, data_type=INT, constant=True),
    Variable(CS, "Problem", read=_problem, data_type=BOOL, persistent=False),
    Variable(EVSE, "AvailabilityState", read=_availability, values_list=AVAILABILITY_STATES,
             persistent=False),
    Variable(EVSE, "Available", read=const("true"), data_type=BOOL, constant=True),
    Variable(EVSE, "SupplyPhases", read=_phases, data_type=INT, constant=True),
    Variable(EVSE, "Problem", read=_problem, data_type=BOOL, persistent=False),
    Variable(CONN, "AvailabilityState", read=_availability, values_list=AVAILABILITY_STATES,
             persistent=False),
    Variable(CONN, "Available", read=const("true"), data_type=BOOL, constant=True),
    Variable(CONN, "SupplyPhases", read=_phases, data_type=INT, constant=True),
    Variable(CONN, "Problem", read=_problem, data_type=BOOL, persistent=False),
    # OCPPCommCtrlr
    Variable(COMM, "HeartbeatInterval", key="HeartbeatInterval", unit="s"),
    Variable(COMM, "WebSocketPingInterval", key="WebSocketPingInterval", unit="s"),
    Variable(COMM, "MessageAttempts", "TransactionEvent", key="TransactionMessageAttempts"),
    Variable(COMM, "MessageAttemptInterval", "TransactionEvent",
             key="TransactionMessageRetryInterval", unit="s"),
    Variable(COMM, "ResetRetries", key="ResetRetries"),
    Variable(COMM, "UnlockOnEVSideDisconnect", key="UnlockConnectorOnEVSideDisconnect"),
    Variable(COMM, "MessageTimeout", "Default", read=lambda f, _: f"{f.call_timeout_s:g}",
             data_type=INT, unit="s", constant=True),
    Variable(COMM, "OfflineThreshold", key=OFFLINE_THRESHOLD, unit="s"),
    # TxCtrlr
    Variable(TX, "EVConnectionTimeOut", key="ConnectionTimeOut", unit="s"),
    Variable(TX, "StopTxOnEVSideDisconnect", key="StopTransactionOnEVSideDisconnect"),
    Variable(TX, "StopTxOnInvalidId", key="StopTransactionOnInvalidId"),
    Variable(TX, "MaxEnergyOnInvalidId", key="MaxEnergyOnInvalidId", unit="Wh"),
    Variable(TX, "TxStartPoint", key=TX_START_POINT),
    Variable(TX, "TxStopPoint", key=TX_STOP_POINT),
    # SampledDataCtrlr
    Variable(SAMPLED, "TxStartedMeasurands", key=TX_STARTED_MEASURANDS),
    Variable(SAMPLED, "TxUpdatedMeasurands", key="MeterValuesSampledData"),
    Variable(SAMPLED, "TxUpdatedInterval", key="MeterValueSampleInterval", unit="s"),
    Variable(SAMPLED, "TxEndedMeasurands", key="StopTxnSampledData"),
    # The samples an Ended event carries are taken at TxUpdatedInterval
    Variable(SAMPLED, "TxEndedInterval", key="MeterValueSampleInterval", mutability=READ_ONLY,
             unit="s"),
    # AlignedDataCtrlr
    Variable(ALIGNED, "Interval", key="ClockAlignedDataInterval", unit="s"),
    Variable(ALIGNED, "Measurands", key="MeterValuesAlignedData"),
    Variable(ALIGNED, "TxEndedMeasurands", key="StopTxnAlignedData"),
    Variable(ALIGNED, "TxEndedInterval", key="ClockAlignedDataInterval", mutability=READ_ONLY,
             unit="s"),
    # AuthCtrlr
    Variable(AUTH, "Enabled", key=AUTH_ENABLED),  # transactions.py
    Variable(AUTH, "AuthorizeRemoteStart", key="AuthorizeRemoteTxRequests"),
    Variable(AUTH, "LocalAuthorizeOffline", key="LocalAuthorizeOffline"),
    Variable(AUTH, "LocalPreAuthorize", key="LocalPreAuthorize"),
    Variable(AUTH, "OfflineTxForUnknownIdEnabled", key="AllowOfflineTxForUnknownId"),
    # AuthCacheCtrlr
    Variable(CACHE, "Available", read=const("true"), data_type=BOOL, constant=True),
    Variable(CACHE, "Enabled", key="AuthorizationCacheEnabled"),
    Variable(CACHE, "LifeTime", key="AuthCacheCtrlr.LifeTime", unit="s"),  # authorization.py
    # SecurityCtrlr (A01: BasicAuthPassword is write-only, never read back or logged)
    Variable(SECURITY, "SecurityProfile", key="SecurityProfile", mutability=READ_ONLY),
    Variable(SECURITY, "BasicAuthPassword", key="AuthorizationKey", mutability=WRITE_ONLY),
    Variable(SECURITY, "OrganizationName", key="CpoName"),
    Variable(SECURITY, "Identity", read=lambda f, _: f.identity, constant=True),
    Variable(SECURITY, "CertificateEntries", read=lambda f, _: str(f.certificates()),
             data_type=INT, persistent=False),
    Variable(SECURITY, "CertSigningWaitMinimum", key="SecurityCtrlr.CertSigningWaitMinimum",
             unit="s"),  # certificates.py
    Variable(SECURITY, "CertSigningRepeatTimes", key="SecurityCtrlr.CertSigningRepeatTimes"),
    # DeviceDataCtrlr
    *(
        Variable(DEVICE_DATA, "ItemsPerMessage", instance, key=_limit("ItemsPerMessage", instance))
        for instance in ("GetReport", "GetVariables", "SetVariables")
    ),
    # the largest frame the link takes (ocpp.max_frame_bytes)
    *(
        Variable(DEVICE_DATA, "BytesPerMessage", instance, read=lambda f, _: str(f.max_frame_bytes),
                 data_type=INT, constant=True)
        for instance in ("GetReport", "GetVariables", "SetVariables")
    ),
    Variable(DEVICE_DATA, "ReportingValueSize", key=f"{DEVICE_DATA}.ReportingValueSize"),
    Variable(DEVICE_DATA, "ConfigurationValueSize", key=f"{DEVICE_DATA}.ConfigurationValueSize"),
    # ClockCtrlr: the central system's time (boot and heartbeat answers), else the
    # system's real-time clock (README "Time")
    Variable(CLOCK, "DateTime", read=_date_time, data_type=DataEnumType.DATE_TIME,
             persistent=False),
    Variable(CLOCK, "TimeSource", read=const("Heartbeat,RealTimeClock"),
             data_type=DataEnumType.SEQUENCE_LIST, values_list=("Heartbeat", "RealTimeClock"),
             constant=True),
    # K Smart Charging (smart_charging.py): the 1.6 Smart Charging keys where they mean the
    # same; the limits are the charger's own (read-only, set in the config file)
    Variable(SMART, "Enabled", read=const("true"), data_type=BOOL, constant=True),
    Variable(SMART, "Available", read=const("true"), data_type=BOOL, constant=True),
    Variable(SMART, "Entries", "ChargingProfiles", read=lambda f, _: str(f.charging_profiles()),
             data_type=INT, persistent=False),
    Variable(SMART, "ProfileStackLevel", key="ChargeProfileMaxStackLevel"),
    Variable(SMART, "PeriodsPerSchedule", key="ChargingScheduleMaxPeriods"),
    Variable(SMART, "RateUnit", read=lambda f, _: f.rate_units(),
             data_type=DataEnumType.MEMBER_LIST, values_list=("A", "W"), constant=True),
    Variable(SMART, "ACPhaseSwitchingSupported", key="ConnectorSwitch3to1PhaseSupported"),
    Variable(SMART, "LimitChangeSignificance", key=f"{SMART}.LimitChangeSignificance", unit="%"),
    # H Reservation (reservation.py): NonEvseSpecific is 1.6's ReserveConnectorZeroSupported
    Variable("ReservationCtrlr", "Available", read=const("true"), data_type=BOOL, constant=True),
    Variable("ReservationCtrlr", "Enabled", key="ReservationCtrlr.Enabled"),
    Variable("ReservationCtrlr", "NonEvseSpecific", key="ReserveConnectorZeroSupported"),
    # L, N firmware and logs (firmware.py): where UpdateFirmware and GetLog may point
    Variable(COMM, "FileTransferProtocols", key="SupportedFileTransferProtocols",
             data_type=DataEnumType.MEMBER_LIST, values_list=("FTP", "FTPS", "HTTP", "HTTPS")),
    # O DisplayMessage (display.py)
    Variable(DISPLAY, "Available", read=lambda f, _: "true" if f.display else "false",
             data_type=BOOL, constant=True),
    Variable(DISPLAY, "Enabled", key=display.ENABLED),
    Variable(DISPLAY, "DisplayMessages", key=display.CAPACITY),
    Variable(DISPLAY, "SupportedFormats", read=const(",".join(FORMATS)),
             data_type=DataEnumType.MEMBER_LIST, values_list=FORMATS, constant=True),
    Variable(DISPLAY, "SupportedPriorities", read=const(",".join(PRIORITIES)),
             data_type=DataEnumType.MEMBER_LIST, values_list=PRIORITIES, constant=True),
    # B Network configuration (network.py): slot 0 is the config file's ocpp.url, 1-3 are
    # set with SetNetworkProfile (B09); the order takes effect at the next dial (B10)
    Variable(COMM, "NetworkConfigurationPriority", key=f"{COMM}.NetworkConfigurationPriority",
             data_type=DataEnumType.SEQUENCE_LIST, values_list=("0", "1", "2", "3")),
    Variable(COMM, "NetworkProfileConnectionAttempts",
             key=f"{COMM}.NetworkProfileConnectionAttempts"),
    Variable(COMM, "ActiveNetworkProfile", key=f"{COMM}.ActiveNetworkProfile",
             persistent=False),
    # D LocalAuthListCtrlr, and C's AuthCtrlr/AuthCacheCtrlr rules (local_list.py,
    # authorization.py): Enabled and ItemsPerMessage are the 1.6 keys; the list holds at
    # most LocalAuthListMaxLength entries
    Variable(LOCAL_LIST, "Enabled", key="LocalAuthListEnabled"),
    Variable(LOCAL_LIST, "Available", read=const("true"), data_type=BOOL, constant=True),
    Variable(LOCAL_LIST, "Entries", read=stored("local_list.entries"), data_type=INT,
             persistent=False, max_key="LocalAuthListMaxLength"),
    Variable(LOCAL_LIST, "ItemsPerMessage", key="SendLocalListMaxLength"),
    Variable(LOCAL_LIST, "BytesPerMessage", read=lambda f, _: str(f.max_frame_bytes),
             data_type=INT, constant=True),
    Variable(LOCAL_LIST, "Storage", read=stored("local_list.bytes"), data_type=INT,
             unit="B", persistent=False),
    Variable(AUTH, "MasterPassGroupId", key="AuthCtrlr.MasterPassGroupId"),
    Variable(AUTH, "DisableRemoteAuthorization", key="AuthCtrlr.DisableRemoteAuthorization"),
    Variable(CACHE, "Policy", key="AuthCacheCtrlr.Policy"),
    Variable(CACHE, "Storage", read=stored("cache.bytes"), data_type=INT, unit="B",
             persistent=False),
)  # fmt: skip
"""Every variable of the device model. A variable whose key this charger does not declare
is left out (a profile that is not offered)."""

SECRET_VARIABLES = frozenset(v.name for v in VARIABLES if v.mutability is WRITE_ONLY)
"""The names whose values a logged frame never shows (A01: BasicAuthPassword), beside the
secret keys'."""


def _some_point(value: Value) -> str | None:
    return None if value else "at least one point"


def keys(site: Site) -> list[KeySpec]:
    """The 2.0.1-only keys: what the central system may set that no 1.6 key means, and
    the limits DeviceDataCtrlr reports (read-only, like 1.6's GetConfigurationMaxKeys).
    They are not ``listed``: a 1.6 GetConfiguration or ChangeConfiguration does not reach
    them (they mean nothing in 1.6); SetVariables and ``[ocpp.keys]`` do."""
    measurands = site.measurands
    register = tuple(q for q in default_measurands(measurands) if q.startswith("Energy"))[:1]
    # where a 2.0.1 transaction begins and ends (features/v201/transactions.py, E01/E06):
    # PowerPathClosed (a driver authorised and the EV plugged in) is 1.6's rule. The charger
    # has no parking bay sensor and no signing meter: ParkingBayOccupancy and DataSigned are
    # not in the valuesList, and SetVariables with them is Rejected.
    points = frozenset(TX_POINT.values())
    return [
        KeySpec(
            TX_START_POINT,
            KeyType.CSL,
            ("PowerPathClosed",),
            listed=False,
            choices=points,
            max_items=len(points),
            check=_some_point,
            doc="2.0.1 TxCtrlr.TxStartPoint: where a transaction begins (the first reached)",
        ),
        KeySpec(
            TX_STOP_POINT,
            KeyType.CSL,
            ("PowerPathClosed",),
            listed=False,
            choices=points,
            max_items=len(points),
            check=_some_point,
            doc="2.0.1 TxCtrlr.TxStopPoint: where a transaction ends (the first that ends)",
        ),
        # B04: after an outage longer than this, the status of every connector is sent
        # again. The charger sends every status on each new connection, however short the
        # outage, so any threshold is met; the value is kept for the central system (OCTT
        # sets it, TC_B_09_CS).
        KeySpec(
            OFFLINE_THRESHOLD,
            KeyType.INT,
            0,
            minimum=0,
            maximum=86400 * 7,
            listed=False,
            doc="2.0.1 OCPPCommCtrlr.OfflineThreshold (s); every status is sent on reconnect",
        ),
        # A TransactionEvent Started carries the energy register at Transaction.Begin
        # (transactions.py), as 1.6's meterStart, and the values of these measurands at
        # Transaction.Begin (MeterPolicy.start_sampled).
        KeySpec(
            TX_STARTED_MEASURANDS,
            KeyType.CSL,
            register,
            choices=measurands,
            max_items=12,
            listed=False,
            doc="2.0.1: measurands of the meter values a TransactionEvent Started carries",
        ),
        *(
            KeySpec(
                _limit("ItemsPerMessage", instance),
                KeyType.INT,
                ITEMS_PER_MESSAGE,
                readonly=True,
                derived=True,
                listed=False,
            )
            for instance in ("GetReport", "GetVariables", "SetVariables")
        ),
        KeySpec(
            f"{DEVICE_DATA}.ReportingValueSize",
            KeyType.INT,
            REPORTING_VALUE_SIZE,
            readonly=True,
            derived=True,
            listed=False,
        ),
        KeySpec(
            f"{DEVICE_DATA}.ConfigurationValueSize",
            KeyType.INT,
            CONFIGURATION_VALUE_SIZE,
            readonly=True,
            derived=True,
            listed=False,
        ),
    ]


# --- the view ---


@dataclass(frozen=True, slots=True)
class Place:
    """One variable at one place: the component as the central system addresses it."""

    variable: Variable
    evse: int  # 0: the station

    def component(self) -> m.ComponentType:
        scope = self.variable.scope
        if scope is Scope.STATION:
            return m.ComponentType(name=self.variable.component)
        connector = 1 if scope is Scope.CONNECTOR else None
        return m.ComponentType(
            name=self.variable.component, evse=m.EVSEType(id=self.evse, connector_id=connector)
        )

    def variable_type(self) -> m.VariableType:
        return m.VariableType(name=self.variable.name, instance=self.variable.instance)


@dataclass(frozen=True, slots=True)
class Change:
    """A SetVariables item the charger takes: ``text`` (as the central system sent it) into
    ``key`` as ``value``."""

    key: str
    value: Value
    text: str


@dataclass(frozen=True, slots=True)
class SetDecision:
    status: SetVariableStatusEnumType
    why: str = ""
    change: Change | None = None
    secret: bool = False


def _folded(text: str | None) -> str | None:
    return None if text is None else text.casefold()


def _data_type(spec: KeySpec) -> DataEnumType:
    if spec.type is KeyType.BOOL:
        return DataEnumType.BOOLEAN
    if spec.type is KeyType.INT:
        return DataEnumType.INTEGER
    if spec.type is KeyType.CSL:
        return DataEnumType.MEMBER_LIST if spec.choices else DataEnumType.SEQUENCE_LIST
    return DataEnumType.OPTION_LIST if spec.choices else DataEnumType.STRING


class DeviceModel:
    """The variables this charger has, over its keys and its facts.

    Names are matched in any case (ComponentType.name and VariableType.name are "case
    insensitive" in the schemas); instances and EVSE ids must match exactly what exists."""

    def __init__(
        self,
        keys: Keys,
        facts: Facts,
        variables: Iterable[Variable] = VARIABLES,
    ) -> None:
        self.keys = keys
        self.facts = facts
        self.variables = tuple(v for v in variables if v.key is None or keys.has(v.key))
        self._index: dict[tuple[str, str, str | None], Variable] = {}
        for v in self.variables:
            slot = (v.component.casefold(), v.name.casefold(), _folded(v.instance))
            if slot in self._index:
                raise ValueError(f"variable {v.label} declared twice")
            self._index[slot] = v
        self._components = {v.component.casefold() for v in self.variables}

    def __repr__(self) -> str:
        return f"<DeviceModel {len(self.variables)} variables, evses={sorted(self.facts.evses)}>"

    # --- addressing ---

    def places(self) -> list[Place]:
        """Every variable at every place it exists, stations first, then EVSE by EVSE."""
        evses = sorted(self.facts.evses)
        found: list[Place] = [Place(v, 0) for v in self.variables if v.scope is Scope.STATION]
        for evse in evses:
            found += [Place(v, evse) for v in self.variables if v.scope is Scope.EVSE]
            found += [Place(v, evse) for v in self.variables if v.scope is Scope.CONNECTOR]
        return found

    def _component_exists(self, component: m.ComponentType) -> bool:
        name = component.name.casefold()
        if name not in self._components or component.instance is not None:
            return False
        scope = SCOPES.get(name, Scope.STATION)
        evse = component.evse
        if scope is Scope.STATION:
            return evse is None
        if evse is None or evse.id not in self.facts.evses:
            return False
        if scope is Scope.EVSE:
            return evse.connector_id is None
        return evse.connector_id == 1

    def find(
        self, component: m.ComponentType, variable: m.VariableType
    ) -> Place | GetVariableStatusEnumType:
        """The variable addressed, or UnknownComponent / UnknownVariable (B05.FR.04-05,
        B06.FR.05-06)."""
        if not self._component_exists(component):
            return GetVariableStatusEnumType.UNKNOWN_COMPONENT
        found = self._index.get(
            (component.name.casefold(), variable.name.casefold(), _folded(variable.instance))
        )
        if found is None:
            return GetVariableStatusEnumType.UNKNOWN_VARIABLE
        return Place(found, component.evse.id if component.evse is not None else 0)

    # --- what a variable is ---

    def spec(self, variable: Variable) -> KeySpec | None:
        return None if variable.key is None else self.keys.specs[variable.key]

    def mutability(self, variable: Variable) -> MutabilityEnumType:
        if variable.mutability is not None:
            return variable.mutability
        spec = self.spec(variable)
        if spec is None or spec.readonly:
            return READ_ONLY
        return WRITE_ONLY if spec.secret else READ_WRITE

    def value(self, place: Place) -> str | None:
        """The Actual value's text; None for a write-only variable (never read back: A01) or
        one the charger has no value for."""
        variable = place.variable
        if self.mutability(variable) is WRITE_ONLY:
            return None
        if variable.read is not None:
            return variable.read(self.facts, place.evse)
        assert variable.key is not None
        return self.keys.text(variable.key)

    def characteristics(self, variable: Variable) -> m.VariableCharacteristicsType:
        spec = self.spec(variable)
        values = variable.values_list
        low: float | None = None
        high: float | None = None
        if spec is not None:
            data_type = variable.data_type or _data_type(spec)
            if values is None and spec.choices is not None:
                values = tuple(sorted(spec.choices))
            if spec.type is KeyType.INT:
                low, high = spec.minimum, spec.maximum
            elif spec.type is KeyType.STRING:
                high = spec.max_length  # a string's maxLimit is its longest length
        else:
            data_type = variable.data_type or (
                DataEnumType.OPTION_LIST if values is not None else DataEnumType.STRING
            )
        if variable.max_key is not None and self.keys.has(variable.max_key):
            low, high = 0, self.keys.get_int(variable.max_key)
        return m.VariableCharacteristicsType(
            data_type=data_type,
            supports_monitoring=False,  # monitoring (N) is not built
            unit=variable.unit,
            min_limit=low,
            max_limit=high,
            values_list=",".join(values)[:1000] if values else None,
        )

    # --- GetVariables (B06) ---

    def limit(self, what: str) -> int:
        """ItemsPerMessage<what>: GetVariables, SetVariables, GetReport."""
        return self.keys.get_int(_limit("ItemsPerMessage", what))

    def get(self, data: m.GetVariableDataType) -> m.GetVariableResultType:
        attribute = data.attribute_type or ACTUAL  # B06.FR.02, B06.FR.11
        answer = _get_result(data, attribute)
        place = self.find(data.component, data.variable)
        if not isinstance(place, Place):
            return answer(place)
        if attribute is not ACTUAL:
            return answer(GetVariableStatusEnumType.NOT_SUPPORTED_ATTRIBUTE_TYPE)
        if self.mutability(place.variable) is WRITE_ONLY:
            return answer(GetVariableStatusEnumType.REJECTED, "WriteOnly")
        value = self.value(place)
        size = self.keys.get_int(f"{DEVICE_DATA}.ReportingValueSize")
        return m.GetVariableResultType(
            attribute_status=GetVariableStatusEnumType.ACCEPTED,
            component=data.component,
            variable=data.variable,
            attribute_type=attribute,
            attribute_value=(value or "")[:size],
        )

    # --- SetVariables (B05) ---

    def decide_set(self, data: m.SetVariableDataType) -> SetDecision:
        """What a SetVariables item gets, without changing anything."""
        place = self.find(data.component, data.variable)
        if not isinstance(place, Place):
            return SetDecision(SetVariableStatusEnumType(place.value))
        variable = place.variable
        spec = self.spec(variable)
        secret = spec is not None and spec.secret
        if (data.attribute_type or ACTUAL) is not ACTUAL:
            return SetDecision(SetVariableStatusEnumType.NOT_SUPPORTED_ATTRIBUTE_TYPE)
        if self.mutability(variable) is READ_ONLY or variable.key is None:
            return SetDecision(SetVariableStatusEnumType.REJECTED, "ReadOnly", secret=secret)
        size = self.keys.get_int(f"{DEVICE_DATA}.ConfigurationValueSize")
        if len(data.attribute_value) > size:
            return SetDecision(
                SetVariableStatusEnumType.REJECTED, f"longer than {size}", secret=secret
            )
        result, value, why = self.keys.check_change(variable.key, data.attribute_value)
        rule = V201_RULES.get(variable.key)  # a shared key's 2.0.1 form (BasicAuthPassword)
        if value is not None and rule is not None and (problem := rule(value)) is not None:
            value, why = None, problem
        if value is None:
            return SetDecision(SetVariableStatusEnumType.REJECTED, why, secret=secret)
        return SetDecision(
            SetVariableStatusEnumType(result.value),  # Accepted or RebootRequired
            change=Change(variable.key, value, data.attribute_value),
            secret=secret,
        )

    # --- reports (B07, B08) ---

    def report_data(self, place: Place, *, characteristics: bool) -> m.ReportDataType:
        variable = place.variable
        mutability = self.mutability(variable)
        value = self.value(place)
        size = self.keys.get_int(f"{DEVICE_DATA}.ReportingValueSize")
        return m.ReportDataType(
            component=place.component(),
            variable=place.variable_type(),
            variable_attribute=(
                m.VariableAttributeType(
                    type=ACTUAL,
                    value=None if value is None else value[:size],
                    mutability=mutability,
                    persistent=variable.persistent,
                    constant=variable.constant,
                ),
            ),
            variable_characteristics=self.characteristics(variable) if characteristics else None,
        )

    def base_report(self, base: ReportBaseEnumType) -> list[m.ReportDataType]:
        """B07.FR.07-09: ConfigurationInventory is what the central system can set (with
        its characteristics), FullInventory everything with its characteristics,
        SummaryInventory the availability of the station, its EVSEs and connectors."""
        places = self.places()
        if base is ReportBaseEnumType.CONFIGURATION_INVENTORY:
            return [
                self.report_data(p, characteristics=True)
                for p in places
                if self.mutability(p.variable) is not READ_ONLY
            ]
        if base is ReportBaseEnumType.SUMMARY_INVENTORY:
            return [
                self.report_data(p, characteristics=False)
                for p in places
                if p.variable.name == "AvailabilityState"
            ]
        return [self.report_data(p, characteristics=True) for p in places]

    def custom_report(
        self,
        wanted: Sequence[m.ComponentVariableType] | None,
        criteria: Sequence[ComponentCriterionEnumType] | None,
    ) -> list[m.ReportDataType]:
        """B08: the variables of the components asked for (a component alone: all its
        variables), restricted to the components that meet any of ``criteria``: a
        component meets Active, Available, Enabled or Problem when its variable of that
        name is true (a component without one does not)."""
        places = self.places()
        if wanted:
            places = [p for p in places if any(self._matches(p, cv) for cv in wanted)]
        if criteria:
            places = [p for p in places if any(self._meets(p, c) for c in criteria)]
        return [self.report_data(p, characteristics=True) for p in places]

    def _matches(self, place: Place, wanted: m.ComponentVariableType) -> bool:
        component = place.component()
        asked = wanted.component
        if asked.name.casefold() != component.name.casefold() or asked.instance is not None:
            return False
        if asked.evse is not None and (
            component.evse is None
            or asked.evse.id != component.evse.id
            or asked.evse.connector_id not in (None, component.evse.connector_id)
        ):
            return False
        variable = wanted.variable
        return variable is None or (
            variable.name.casefold() == place.variable.name.casefold()
            and _folded(variable.instance) == _folded(place.variable.instance)
        )

    def _meets(self, place: Place, criterion: ComponentCriterionEnumType) -> bool:
        flag = self._index.get(
            (place.variable.component.casefold(), criterion.value.casefold(), None)
        )
        return flag is not None and self.value(Place(flag, place.evse)) == "true"


def too_many(data: m.GetVariableDataType) -> m.GetVariableResultType:
    """An item beyond ItemsPerMessageGetVariables: Rejected (TC_B_08_CS: the first ones are
    answered, the rest Rejected)."""
    return _get_result(data, data.attribute_type or ACTUAL)(
        GetVariableStatusEnumType.REJECTED, "TooManyElements"
    )


def _get_result(
    data: m.GetVariableDataType, attribute: AttributeEnumType
) -> Callable[..., m.GetVariableResultType]:
    def answer(status: GetVariableStatusEnumType, why: str = "") -> m.GetVariableResultType:
        return m.GetVariableResultType(
            attribute_status=status,
            component=data.component,
            variable=data.variable,
            attribute_type=attribute,
            attribute_status_info=m.StatusInfoType(reason_code=why) if why else None,
        )

    return answer


def split(
    data: Sequence[m.ReportDataType], per_message: int, max_bytes: int
) -> list[tuple[m.ReportDataType, ...]]:
    """The report in NotifyReports of at most ``per_message`` items and about ``max_bytes``
    of payload each (ItemsPerMessageGetReport, BytesPerMessageGetReport); at least one item
    each, so a report always ends."""
    budget = max(max_bytes - 200, 1)  # requestId, generatedAt, seqNo, tbc and the frame
    parts: list[tuple[m.ReportDataType, ...]] = []
    part: list[m.ReportDataType] = []
    size = 0
    for item in data:
        length = len(json.dumps(codec.to_payload(item), separators=(",", ":"))) + 1
        if part and (len(part) >= per_message or size + length > budget):
            parts.append(tuple(part))
            part, size = [], 0
        part.append(item)
        size += length
    if part:
        parts.append(tuple(part))
    return parts
