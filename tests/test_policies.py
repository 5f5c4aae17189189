"""The 1.6 keys feed the model's policies (ocppd/features/core/policies.py), and follow
every change the central system makes."""

from __future__ import annotations

import trio
import trio.testing

from ocppd.features import PROFILES, declared_keys
from ocppd.features.core.policies import POLICY_KEYS, follow_keys
from ocppd.features.v201 import V201_PROFILES
from ocppd.model.keys import Keys
from ocppd.model.policies import AuthPolicy, MeterPolicy, Policies, TxPolicy


def test_every_key_that_feeds_a_policy_is_declared() -> None:
    # every version's keys: the charger declares them all (2.0.1's AuthCacheCtrlr.LifeTime)
    keys = Keys(declared_keys((*PROFILES, *V201_PROFILES)))
    assert [name for name in POLICY_KEYS if not keys.has(name)] == []


USEFUL = (
    "Energy.Active.Import.Register",
    "Power.Active.Import",
    "Current.Import",
    "Voltage",
    "Current.Offered",
)


def test_the_policies_are_what_the_keys_say() -> None:
    keys = Keys(
        declared_keys(),
        {"LocalPreAuthorize": True, "ConnectionTimeOut": 30, "StopTxnSampledData": "Voltage"},
        {"MaxEnergyOnInvalidId": "500", "AllowOfflineTxForUnknownId": "true"},
    )
    policies = follow_keys(keys)
    assert policies.auth == AuthPolicy(
        cache_enabled=True,
        local_pre_authorize=True,
        local_authorize_offline=True,
        allow_offline_unknown=True,
        local_list_enabled=True,  # LocalAuthListManagement's key, true by default
    )
    assert policies.tx == TxPolicy(
        connection_timeout_s=30,
        stop_on_ev_disconnect=True,
        unlock_on_ev_disconnect=True,
        stop_on_invalid_id=True,
        max_energy_on_invalid_id_wh=500,
    )
    assert policies.meter == MeterPolicy(
        sample_interval_s=60,
        sampled=USEFUL,  # the default: what a full meter measures (issue 20)
        stop_sampled=("Voltage",),
        aligned_interval_s=0,
        aligned=USEFUL,
        stop_aligned=(),
    )


async def test_a_changed_key_changes_its_policy_and_wakes_the_waiters() -> None:
    keys = Keys(declared_keys())
    policies = follow_keys(keys)
    woken: list[TxPolicy] = []

    async def waiter() -> None:
        await policies.wait_changed()
        woken.append(policies.tx)

    async with trio.open_nursery() as nursery:
        nursery.start_soon(waiter)
        await trio.testing.wait_all_tasks_blocked()
        await keys.apply("HeartbeatInterval", 10)  # feeds no policy
        await trio.testing.wait_all_tasks_blocked()
        assert woken == []
        await keys.apply("stoptransactiononevsidedisconnect", False)  # any case (CiString)
        await trio.testing.wait_all_tasks_blocked()
    assert [p.stop_on_ev_disconnect for p in woken] == [False]
    assert policies.tx.stop_on_ev_disconnect is False


async def test_an_update_that_changes_nothing_wakes_nobody() -> None:
    policies = Policies()
    woken = False

    async def waiter() -> None:
        nonlocal woken
        await policies.wait_changed()
        woken = True

    async with trio.open_nursery() as nursery:
        nursery.start_soon(waiter)
        await trio.testing.wait_all_tasks_blocked()
        policies.update(tx=TxPolicy(), meter=MeterPolicy())
        await trio.testing.wait_all_tasks_blocked()
        assert not woken
        policies.update(meter=MeterPolicy(sample_interval_s=5))
        await trio.testing.wait_all_tasks_blocked()
        assert woken
