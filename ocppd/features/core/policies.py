"""The Core profile's configuration keys as the model's policies (ocppd/model/policies.py).

The model reads policies, never 1.6 key names: this is the one place that says which
key feeds which policy. :func:`follow_keys` builds the policies from the effective keys
(defaults, the config file, what the central system set before) and keeps them current
on every ChangeConfiguration.
"""

from __future__ import annotations

from ocppd.features.v201.words import TX_POINT_BY_WORD
from ocppd.model.keys import Keys, Value
from ocppd.model.policies import AuthPolicy, MeterPolicy, Policies, TxPolicy
from ocppd.model.txpoints import CLASSIC, TxPoint, TxPoints

# declared by OCPP 2.0.1's transactions block (features/v201/variables.py, transactions.py);
# a 1.6 transaction keeps 1.6's rule whatever they say (TransactionLog.follows_points)
TX_START_POINT, TX_STOP_POINT = "TxCtrlr.TxStartPoint", "TxCtrlr.TxStopPoint"
AUTH_ENABLED = "AuthCtrlr.Enabled"
TX_STARTED = "SampledDataCtrlr.TxStartedMeasurands"


def _flag(keys: Keys, name: str) -> bool:
    """An optional boolean key: off when this charge point does not declare it."""
    return keys.has(name) and keys.get_bool(name)


def auth_policy(keys: Keys) -> AuthPolicy:
    return AuthPolicy(
        cache_enabled=_flag(keys, "AuthorizationCacheEnabled"),
        local_pre_authorize=keys.get_bool("LocalPreAuthorize"),
        local_authorize_offline=keys.get_bool("LocalAuthorizeOffline"),
        allow_offline_unknown=_flag(keys, "AllowOfflineTxForUnknownId"),
        # declared by the LocalAuthListManagement profile (ocppd/features/local_auth_list.py)
        local_list_enabled=_flag(keys, "LocalAuthListEnabled"),
        # declared by OCPP 2.0.1's authorization block (ocppd/features/v201/authorization.py)
        cache_lifetime_s=(
            keys.get_int("AuthCacheCtrlr.LifeTime") if keys.has("AuthCacheCtrlr.LifeTime") else 0
        ),
    )


def _points(keys: Keys, name: str, default: frozenset[TxPoint]) -> frozenset[TxPoint]:
    if not keys.has(name):
        return default
    return frozenset(TX_POINT_BY_WORD[w] for w in keys.get_csl(name) if w in TX_POINT_BY_WORD) or (
        default
    )


def tx_points(keys: Keys) -> TxPoints:
    """Where transactions begin and end (2.0.1 TxStartPoint, TxStopPoint, AuthCtrlr.Enabled)."""
    return TxPoints(
        start=_points(keys, TX_START_POINT, CLASSIC.start),
        stop=_points(keys, TX_STOP_POINT, CLASSIC.stop),
        authorization=keys.get_bool(AUTH_ENABLED) if keys.has(AUTH_ENABLED) else True,
    )


def tx_policy(keys: Keys) -> TxPolicy:
    return TxPolicy(
        connection_timeout_s=keys.get_int("ConnectionTimeOut"),
        stop_on_ev_disconnect=keys.get_bool("StopTransactionOnEVSideDisconnect"),
        unlock_on_ev_disconnect=keys.get_bool("UnlockConnectorOnEVSideDisconnect"),
        stop_on_invalid_id=keys.get_bool("StopTransactionOnInvalidId"),
        max_energy_on_invalid_id_wh=(
            keys.get_int("MaxEnergyOnInvalidId") if keys.has("MaxEnergyOnInvalidId") else 0
        ),
        points=tx_points(keys),
    )


def meter_policy(keys: Keys) -> MeterPolicy:
    return MeterPolicy(
        sample_interval_s=keys.get_int("MeterValueSampleInterval"),
        sampled=keys.get_csl("MeterValuesSampledData"),
        stop_sampled=keys.get_csl("StopTxnSampledData"),
        aligned_interval_s=keys.get_int("ClockAlignedDataInterval"),
        aligned=keys.get_csl("MeterValuesAlignedData"),
        stop_aligned=keys.get_csl("StopTxnAlignedData"),
        start_sampled=keys.get_csl(TX_STARTED) if keys.has(TX_STARTED) else (),
    )


POLICY_KEYS = (
    "AllowOfflineTxForUnknownId",
    "AuthCacheCtrlr.LifeTime",
    "AuthorizationCacheEnabled",
    "LocalAuthListEnabled",
    "LocalAuthorizeOffline",
    "LocalPreAuthorize",
    "ConnectionTimeOut",
    "MaxEnergyOnInvalidId",
    TX_START_POINT,
    TX_STOP_POINT,
    AUTH_ENABLED,
    "StopTransactionOnEVSideDisconnect",
    "StopTransactionOnInvalidId",
    "UnlockConnectorOnEVSideDisconnect",
    "ClockAlignedDataInterval",
    "MeterValueSampleInterval",
    "MeterValuesAlignedData",
    "MeterValuesSampledData",
    "StopTxnAlignedData",
    "StopTxnSampledData",
    TX_STARTED,
)
"""The keys that feed a policy (each is re-read when any of them changes)."""


def follow_keys(keys: Keys) -> Policies:
    """The policies the keys say now, kept current on every change of one of them."""
    policies = Policies(auth_policy(keys), tx_policy(keys), meter_policy(keys))

    async def changed(_: Value) -> None:
        policies.update(auth=auth_policy(keys), tx=tx_policy(keys), meter=meter_policy(keys))

    for name in POLICY_KEYS:
        if keys.has(name):
            keys.on_change(name, changed)
    return policies
