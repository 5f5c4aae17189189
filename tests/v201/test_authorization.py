"""OCPP 2.0.1 authorization (C) and remote start and stop (F01-F03) against the independent
2.0.1 CSMS (strict schema validation: every frame the station sends is checked)."""

from __future__ import annotations

from typing import Any

import pytest
import trio
from ocpp.v201 import call

from tests.harness import ControlRefused
from tests.netutil import Proxy
from tests.v201.harness import charger201, registered

TAG = "04A2B3C4"
NO_OFFLINE_START = {"AllowOfflineTxForUnknownId": False}


def authorize_answer(**info: Any):  # an override: the CSMS's idTokenInfo as given
    def answer(_station: Any, _payload: dict[str, Any]) -> dict[str, Any]:
        return {"idTokenInfo": info}

    return answer


async def test_c01_a_tag_is_asked_about_with_its_type_and_accepted(
    nursery, start_csms201, autojump_clock
) -> None:
    """C01: AuthorizeRequest with the reader's type (ISO14443); Accepted starts."""
    csms = await start_csms201()
    async with charger201(nursery, csms) as cp:
        station = await registered(cp)
        await cp.sim("plug", 1)
        reply = await cp.swipe(TAG)
        assert "charging on connector 1" in reply
        (asked,) = station.calls("Authorize")
        assert asked.payload == {"idToken": {"idToken": TAG, "type": "ISO14443"}}
    assert csms.violations == []


@pytest.mark.parametrize(
    ("status", "shown"),
    [
        ("Unknown", "central system says Invalid"),  # TC_C_56_CS
        ("Invalid", "central system says Invalid"),
        ("Blocked", "central system says Blocked"),
        ("NoCredit", "central system says NoCredit"),
        ("NotAtThisTime", "central system says NotNow"),
        ("NotAllowedTypeEVSE", "central system says NotHere"),
    ],
)
async def test_c01_a_refused_token_starts_nothing(
    nursery, start_csms201, autojump_clock, status: str, shown: str
) -> None:
    """C01.FR.02 (TC_C_56_CS for Unknown): no transaction after a refusal."""
    csms = await start_csms201(tags={TAG: status})
    async with charger201(nursery, csms) as cp:
        await registered(cp)
        await cp.sim("plug", 1)
        with pytest.raises(ControlRefused, match=shown):
            await cp.swipe(TAG)
        await trio.sleep(10)
        assert cp.connector(1).tx is None
    assert csms.violations == []


async def test_c01_the_evses_a_token_may_use(nursery, start_csms201, autojump_clock) -> None:
    """idTokenInfo.evseId: the token charges only there; a cable at another EVSE waits."""
    csms = await start_csms201()
    csms.overrides["Authorize"] = authorize_answer(status="Accepted", evseId=[2])
    async with charger201(nursery, csms, connectors=2) as cp:
        await registered(cp)
        await cp.sim("plug", 1)
        with pytest.raises(ControlRefused, match="may not charge at the free connectors"):
            await cp.swipe(TAG)
        await cp.sim("unplug", 1)
        reply = await cp.swipe(TAG)
        assert "plug in at connector 2" in reply
        await cp.sim("plug", 2)
        await trio.sleep(2)
        assert cp.connector(2).tx is not None and cp.connector(1).tx is None
    assert csms.violations == []


async def test_c10_c12_the_cache_keeps_a_verdict_and_its_group(
    nursery, start_csms201, autojump_clock
) -> None:
    """C10: the answer is cached with its expiry and group; C12 (LocalPreAuthorize): the next
    presentation starts from the cache without asking."""
    csms = await start_csms201()
    csms.overrides["Authorize"] = authorize_answer(
        status="Accepted",
        cacheExpiryDateTime="2099-01-01T00:00:00Z",
        groupIdToken={"idToken": "FLEET-7", "type": "Central"},
    )
    # its TransactionEvent answers say the same of the token (they update the cache too)
    said = authorize_answer(**csms.overrides["Authorize"](None, {})["idTokenInfo"])
    csms.overrides["TransactionEvent"] = lambda station, p: (
        said(station, p) if "idToken" in p else {}
    )
    async with charger201(nursery, csms, keys={"LocalPreAuthorize": True}) as cp:
        station = await registered(cp)
        await cp.sim("plug", 1)
        await cp.swipe(TAG)
        assert cp.connector(1).tx.parent_id_tag == "FLEET-7"
        await cp.swipe(TAG)  # its own stop
        await cp.sim("unplug", 1)
        found = await cp.charger.authorizer.lookup(TAG)
        assert found.source == "cache" and found.info.parent_id_tag == "FLEET-7"
        assert found.info.expiry.year == 2099
        await cp.sim("plug", 1)
        await cp.swipe(TAG)
        assert len(station.calls("Authorize")) == 1
    assert csms.violations == []


async def test_c11_clear_cache_accepted_and_rejected_while_disabled(
    nursery, start_csms201, autojump_clock
) -> None:
    """TC_C_37_CS: ClearCache Accepted forgets every verdict; TC_C_38_CS: Rejected while the
    cache is disabled (C11.FR.04)."""
    csms = await start_csms201()
    async with charger201(nursery, csms) as cp:
        station = await registered(cp)
        await cp.sim("plug", 1)
        await cp.swipe(TAG)
        await station.wait_for("TransactionEvent")  # its answer's verdict is cached too
        await cp.settle(1)
        assert (await cp.charger.authorizer.lookup(TAG)).source == "cache"
        answer = await station.call(call.ClearCache())
        assert answer.status == "Accepted"
        assert (await cp.charger.authorizer.lookup(TAG)).source == "unknown"
    async with charger201(nursery, csms, keys={"AuthorizationCacheEnabled": False}) as cp:
        station = await registered(cp, connection=2)
        answer = await station.call(call.ClearCache())
        assert answer.status == "Rejected"
    assert csms.violations == []


async def test_f02_remote_start_first_with_authorize_remote_start(
    nursery, start_csms201, autojump_clock
) -> None:
    """TC_F_02_CS: AuthorizeRemoteStart true: Authorize with the token's own type, then the
    session starts when the cable comes."""
    csms = await start_csms201()
    keys = {"AuthorizeRemoteTxRequests": True}
    async with charger201(nursery, csms, keys=keys) as cp:
        station = await registered(cp)
        token = {"id_token": "DE-ABC-C12345678-X", "type": "eMAID"}
        answer = await station.call(
            call.RequestStartTransaction(id_token=token, remote_start_id=42, evse_id=1)
        )
        assert answer.status == "Accepted" and answer.transaction_id is None
        asked = await station.wait_for("Authorize")
        assert asked.payload["idToken"] == {"idToken": "DE-ABC-C12345678-X", "type": "eMAID"}
        await cp.sim("plug", 1)
        await trio.sleep(2)
        tx = cp.connector(1).tx
        assert tx is not None and tx.id_tag == "DE-ABC-C12345678-X"
    assert csms.violations == []


async def test_f01_f03_rejections(nursery, start_csms201, autojump_clock) -> None:
    """An occupied EVSE, one that does not exist, and a stop of no transaction: Rejected."""
    csms = await start_csms201()
    async with charger201(nursery, csms) as cp:
        station = await registered(cp)
        await cp.sim("plug", 1)
        await cp.swipe(TAG)
        token = {"id_token": "APP-USER-1", "type": "Central"}
        for evse_id in (1, 2):
            answer = await station.call(
                call.RequestStartTransaction(id_token=token, remote_start_id=7, evse_id=evse_id)
            )
            assert answer.status == "Rejected"
        answer = await station.call(call.RequestStopTransaction(transaction_id="no-such-tx"))
        assert answer.status == "Rejected"
        assert cp.connector(1).tx is not None
    assert csms.violations == []


async def test_c10_a_verdict_without_expiry_lives_auth_cache_lifetime(
    nursery, start_csms201, autojump_clock
) -> None:
    """AuthCacheCtrlr.LifeTime bounds a cached verdict the CSMS gave no expiry; offline
    after it the token is Expired, before it it starts (LocalAuthorizeOffline)."""
    csms = await start_csms201()
    keys = {'"AuthCacheCtrlr.LifeTime"': 600}  # quoted: a dotted TOML key is a table
    async with charger201(nursery, csms, keys=keys) as cp:
        await registered(cp)
        await cp.sim("plug", 1)
        await cp.swipe(TAG)
        await cp.swipe(TAG)
        found = await cp.charger.authorizer.lookup(TAG)
        assert found.source == "cache" and found.info.expiry is not None
        assert found.info.status == "Accepted"
        await trio.sleep(601)
        assert (await cp.charger.authorizer.lookup(TAG)).info.status == "Expired"
    assert csms.violations == []


async def test_c15_offline_an_unknown_token_starts_only_when_allowed(
    nursery, start_csms201, autojump_clock, tmp_path
) -> None:
    """C15 (OfflineTxForUnknownIdEnabled, the 1.6 key AllowOfflineTxForUnknownId) and C12
    (LocalAuthorizeOffline): offline, a token cached over 2.0.1 as Blocked never starts, an
    unknown one starts only when allowed, one cached as Accepted does."""
    csms = await start_csms201(tags={"BAD00001": "Blocked"})
    proxy = await nursery.start(Proxy(csms.port).serve)
    state = tmp_path / "state"
    state.mkdir()
    keys = {"AllowOfflineTxForUnknownId": True}
    async with charger201(nursery, csms, url=proxy.url, state_dir=state, keys=keys) as cp:
        await registered(cp)
        await cp.sim("plug", 1)
        with pytest.raises(ControlRefused, match="central system says Blocked"):
            await cp.swipe("BAD00001")
        await cp.swipe(TAG)
        await cp.swipe(TAG)
        await cp.sim("unplug", 1)
    proxy.refuse = True  # the CSMS is gone when the charger comes back
    async with charger201(nursery, csms, url=proxy.url, state_dir=state, keys=keys) as cp:
        await trio.sleep(5)
        assert not cp.parts.uplink.online
        await cp.sim("plug", 1)
        with pytest.raises(ControlRefused, match="cached as Blocked"):
            await cp.swipe("BAD00001")
        assert "charging on connector 1" in await cp.swipe(TAG)
        await cp.swipe(TAG)
        await cp.sim("unplug", 1)
        await cp.sim("plug", 1)
        assert "charging on connector 1" in await cp.swipe("NEW00001")
    assert csms.violations == []


async def test_c09_a_token_of_the_same_group_stops_the_session(
    nursery, start_csms201, autojump_clock
) -> None:
    """groupIdToken is the token's group: another token of that group ends the session
    (reason Local), one of another group does not."""
    groups = {TAG: "FLEET-7", "04FF0001": "FLEET-7", "04EE0002": "OTHER"}

    def answer(_station: Any, payload: dict[str, Any]) -> dict[str, Any]:
        group = groups[payload["idToken"]["idToken"]]
        return {
            "idTokenInfo": {
                "status": "Accepted",
                "groupIdToken": {"idToken": group, "type": "Central"},
            }
        }

    csms = await start_csms201()
    csms.overrides["Authorize"] = answer
    async with charger201(nursery, csms) as cp:
        await registered(cp)
        await cp.sim("plug", 1)
        await cp.swipe(TAG)
        tx = cp.connector(1).tx
        assert tx is not None and tx.parent_id_tag == "FLEET-7"
        with pytest.raises(ControlRefused):
            await cp.swipe("04EE0002")  # another group: no free connector for it
        assert cp.connector(1).tx is tx
        reply = await cp.swipe("04FF0001")
        assert "stopped (same group)" in reply
        assert cp.connector(1).tx is None
    assert csms.violations == []


async def test_the_auth_variables_are_the_16_keys_and_lifetime_is_set_by_set_variables(
    nursery, start_csms201, autojump_clock
) -> None:
    """SetVariables AuthCtrlr.OfflineTxForUnknownIdEnabled sets AllowOfflineTxForUnknownId;
    AuthCacheCtrlr.LifeTime set over 2.0.1 bounds the next cached verdict."""
    csms = await start_csms201()
    async with charger201(nursery, csms) as cp:
        station = await registered(cp)
        answer = await station.call(
            call.SetVariables(
                set_variable_data=[
                    {
                        "component": {"name": "AuthCtrlr"},
                        "variable": {"name": "OfflineTxForUnknownIdEnabled"},
                        "attribute_value": "true",
                    },
                    {
                        "component": {"name": "AuthCacheCtrlr"},
                        "variable": {"name": "LifeTime"},
                        "attribute_value": "120",
                    },
                ]
            )
        )
        assert [r["attribute_status"] for r in answer.set_variable_result] == [
            "Accepted",
            "Accepted",
        ]
        await trio.sleep(1)
        assert cp.keys.get_bool("AllowOfflineTxForUnknownId")
        assert cp.charger.policies.auth.allow_offline_unknown
        assert cp.charger.policies.auth.cache_lifetime_s == 120
        await cp.sim("plug", 1)
        await cp.swipe(TAG)
        found = await cp.charger.authorizer.lookup(TAG)
        assert found.info.expiry is not None
    assert csms.violations == []


async def test_tc_f_03_cs_remote_start_first_names_its_remote_start_id(
    nursery, start_csms201, autojump_clock
) -> None:
    """TC_F_03_CS (AuthorizeRemoteStart false): no Authorize; the cable comes, the
    TransactionEvent Started names the remoteStartId and the token with its own type."""
    csms = await start_csms201()
    async with charger201(nursery, csms) as cp:
        station = await registered(cp)
        token = {
            "id_token": "DE-ABC-C12345678-X",
            "type": "eMAID",
            "additional_info": [{"additional_id_token": "0815", "type": "PIN"}],
        }
        answer = await station.call(
            call.RequestStartTransaction(id_token=token, remote_start_id=42, evse_id=1)
        )
        assert answer.status == "Accepted"
        await cp.sim("plug", 1)
        started = await station.wait_for("TransactionEvent", lambda p: p["eventType"] == "Started")
        assert started.payload["transactionInfo"]["remoteStartId"] == 42
        assert started.payload["idToken"] == {
            "idToken": "DE-ABC-C12345678-X",
            "type": "eMAID",
            "additionalInfo": [{"additionalIdToken": "0815", "type": "PIN"}],
        }
        assert not station.calls("Authorize")
    assert csms.violations == []


async def test_f03_request_stop_by_the_chargers_transaction_id(
    nursery, start_csms201, autojump_clock
) -> None:
    """F03: RequestStopTransaction names the id the charger made: Accepted, and the
    transaction ends with stoppedReason Remote."""
    csms = await start_csms201()
    async with charger201(nursery, csms) as cp:
        station = await registered(cp)
        await cp.sim("plug", 1)
        await cp.swipe(TAG)
        started = await station.wait_for("TransactionEvent", lambda p: p["eventType"] == "Started")
        assert started.payload["idToken"] == {"idToken": TAG, "type": "ISO14443"}
        transaction_id = started.payload["transactionInfo"]["transactionId"]
        answer = await station.call(call.RequestStopTransaction(transaction_id=transaction_id))
        assert answer.status == "Accepted"
        ended = await station.wait_for("TransactionEvent", lambda p: p["eventType"] == "Ended")
        assert ended.payload["transactionInfo"]["transactionId"] == transaction_id
        assert ended.payload["transactionInfo"]["stoppedReason"] == "Remote"
        assert cp.connector(1).tx is None
        again = await station.call(call.RequestStopTransaction(transaction_id=transaction_id))
        assert again.status == "Rejected"
    assert csms.violations == []
