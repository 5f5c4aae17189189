"""RequestStartTransaction and RequestStopTransaction (F01-F03) on the model of a running
daemon: the handlers take 2.0.1 requests as the dialect decodes them, and what they promise
happens in the charger (its transaction, its claims, its Authorize)."""

from __future__ import annotations

import logging
from typing import Any

import pytest
import trio

from ocppd.features.profile import RemoteStartProfiles
from ocppd.features.v201.remote_start import RemoteStartStop
from ocppd.model.charging_profile import Kind, Purpose
from ocppd.model.token import TokenKind
from ocppd.protocol.v201.dialect import V201
from ocppd.session import Then
from tests.harness import Charger, charger

TAG = "04A2B3C4"
PROFILE = {
    "id": 7,
    "stackLevel": 0,
    "chargingProfilePurpose": "TxProfile",
    "chargingProfileKind": "Relative",
    "chargingSchedule": [
        {
            "id": 1,
            "chargingRateUnit": "A",
            "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 10.0}],
        }
    ],
}


def start_request(**fields: Any) -> Any:
    payload = {"remoteStartId": 42, "idToken": {"idToken": TAG, "type": "ISO14443"}, **fields}
    return V201.decode_request("RequestStartTransaction", payload)


def handlers(cp: Charger, profiles: RemoteStartProfiles | None = None) -> RemoteStartStop:
    return RemoteStartStop(
        charger=cp.parts.charger,
        keys=cp.parts.keys,
        registration=cp.parts.registration,
        remote_start_profiles=profiles,
    )


async def answered(handler: RemoteStartStop, request: Any) -> str:
    """The answer's status; an Accepted answer's promise is kept as the session would."""
    if type(request).__name__.startswith("RequestStart"):
        result = await handler.request_start(request)
    else:
        result = await handler.request_stop(request)
    if isinstance(result, Then):
        assert result.owner is not None  # promised work outlives the link
        result.owner(result.after)
        result = result.response
    return str(result.status)


async def test_remote_start_first_without_authorize_starts_when_the_cable_comes(
    nursery, start_csms, autojump_clock
):
    """TC_F_03_CS: AuthorizeRemoteStart false: no Authorize; the EV plugs in, it starts with
    the token's kind in the authorisation and the group the central system named."""
    csms = await start_csms()
    async with charger(nursery, csms) as cp:
        station = await cp.registered()
        group = {"idToken": "FLEET-7", "type": "Central"}
        request = start_request(evseId=1, groupIdToken=group)
        assert await answered(handlers(cp), request) == "Accepted"
        await trio.sleep(1)
        assert cp.connector(1).pending is not None  # claimed: Preparing until the cable
        await cp.sim("plug", 1)
        await station.wait_for("StartTransaction")
        tx = cp.connector(1).tx
        assert tx is not None and tx.id_tag == TAG and tx.parent_id_tag == "FLEET-7"
        assert not station.calls("Authorize")


async def test_remote_start_with_authorize_asks_with_the_kind_of_token(
    nursery, start_csms, autojump_clock
):
    """TC_F_02_CS: AuthorizeRemoteStart true: the token is authorised as if presented."""
    csms = await start_csms(tags={"DE-ABC-C12345678-X": "Blocked"})
    async with charger(nursery, csms, keys={"AuthorizeRemoteTxRequests": True}) as cp:
        station = await cp.registered()
        await cp.sim("plug", 1)
        accepted = start_request(evseId=1)
        assert await answered(handlers(cp), accepted) == "Accepted"
        await station.wait_for("StartTransaction")
        assert [c.payload["idTag"] for c in station.calls("Authorize")] == [TAG]
        await cp.swipe(TAG)
        await station.wait_for("StopTransaction")
        await cp.sim("unplug", 1)
        await cp.sim("plug", 1)
        blocked = start_request(idToken={"idToken": "DE-ABC-C12345678-X", "type": "eMAID"})
        assert await answered(handlers(cp), blocked) == "Accepted"
        await trio.sleep(5)
        assert cp.connector(1).tx is None and cp.connector(1).pending is None
        refusal = cp.connector(1).refusal
        assert refusal is not None and "central system says Blocked" in refusal.why


@pytest.mark.parametrize(
    ("fields", "why"),
    [
        ({"evseId": 0}, "not an EVSE"),
        ({"evseId": 9}, "not free"),
        ({"chargingProfile": {**PROFILE, "chargingProfilePurpose": "TxDefaultProfile"}}, "purpose"),
        ({"chargingProfile": {**PROFILE, "transactionId": "tx-1"}}, "names a transaction"),
    ],
)
async def test_a_start_that_cannot_be_honoured_is_rejected(
    nursery, start_csms, autojump_clock, caplog, fields: dict[str, Any], why: str
):
    caplog.set_level(logging.INFO)
    csms = await start_csms()
    async with charger(nursery, csms) as cp:
        await cp.registered()
        assert await answered(handlers(cp), start_request(**fields)) == "Rejected"
        assert all(c.pending is None for c in cp.charger.connectors.values())
        assert any(why in r.getMessage() for r in caplog.records)


async def test_an_occupied_evse_is_rejected_and_a_stop_of_no_transaction_too(
    nursery, start_csms, autojump_clock
):
    csms = await start_csms()
    async with charger(nursery, csms) as cp:
        station = await cp.registered()
        await cp.sim("plug", 1)
        await cp.swipe(TAG)
        await station.wait_for("StartTransaction")
        assert await answered(handlers(cp), start_request(evseId=1)) == "Rejected"
        stop = V201.decode_request("RequestStopTransaction", {"transactionId": "no-such-tx"})
        assert await answered(handlers(cp), stop) == "Rejected"
        assert cp.connector(1).tx is not None


async def test_a_simple_profile_goes_to_smart_charging_and_a_rich_one_is_rejected(
    nursery, start_csms, autojump_clock
):
    taken: list[tuple[int, Any]] = []
    profiles = RemoteStartProfiles()
    profiles.taken_by(lambda connector_id, wire: taken.append((connector_id, wire)))
    csms = await start_csms()
    async with charger(nursery, csms) as cp:
        await cp.registered()
        rich = {**PROFILE, "chargingSchedule": PROFILE["chargingSchedule"] * 2}
        request = start_request(evseId=1, chargingProfile=rich)
        assert await answered(handlers(cp, profiles), request) == "Rejected"
        request = start_request(evseId=1, chargingProfile=PROFILE)
        assert await answered(handlers(cp, profiles), request) == "Accepted"
        ((connector_id, profile),) = taken
        assert connector_id == 1 and profile.id == 7 and profile.connector_id == 1
        assert profile.purpose is Purpose.TX and profile.kind is Kind.RELATIVE
        assert profile.schedule.id == 1 and profile.schedule.periods[0].limit == 10.0


async def test_a_profile_with_phase_to_use_is_rejected(nursery, start_csms, autojump_clock):
    """K01.FR.20 as K05 meets it: no hardware ocppd drives switches phases."""
    taken: list[tuple[int, Any]] = []
    profiles = RemoteStartProfiles()
    profiles.taken_by(lambda connector_id, wire: taken.append((connector_id, wire)))
    csms = await start_csms()
    async with charger(nursery, csms) as cp:
        await cp.registered()
        phased = {**PROFILE["chargingSchedule"][0]}
        phased["chargingSchedulePeriod"] = [
            {"startPeriod": 0, "limit": 10.0, "numberPhases": 1, "phaseToUse": 1}
        ]
        request = start_request(evseId=1, chargingProfile={**PROFILE, "chargingSchedule": [phased]})
        assert await answered(handlers(cp, profiles), request) == "Rejected"
        assert taken == []


def test_the_token_kind_of_a_remote_start() -> None:
    from ocppd.features.v201.authorization import origin_of

    assert origin_of(start_request().id_token).kind is TokenKind.CARD


async def test_the_readers_tags_are_of_the_configured_kind(nursery, start_csms, autojump_clock):
    csms = await start_csms()
    async with charger(nursery, csms) as cp:
        assert cp.charger.reader_kind is TokenKind.CARD  # ISO14443 unless configured
    rfid = 'driver = "sim"\ntoken_type = "iso15693"'
    async with charger(nursery, csms, rfid=rfid) as cp:
        assert cp.charger.reader_kind is TokenKind.VICINITY_CARD
