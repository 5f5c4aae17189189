"""Registration, heartbeat and status in OCPP 2.0.1 (B01-B04, G01, G02) against the
independent 2.0.1 CSMS, and the choice of version at connect time."""

from __future__ import annotations

import trio

from ocppd import ctl
from tests.harness import charger
from tests.v201.harness import BOTH, charger201, registered


async def test_tc_b_01_cs_cold_boot_accepted_heartbeats_and_statuses(
    nursery, start_csms201, autojump_clock
) -> None:
    """TC_B_01_CS: a cold boot, Accepted; the heartbeat interval comes from the answer (G02),
    and every EVSE's status is reported (G01, B04.FR.02), with nothing the CSMS rejects."""
    csms = await start_csms201(heartbeat_interval=60)
    async with charger201(nursery, csms, connectors=2) as cp:
        station = await registered(cp)
        assert csms.offers == [tuple(BOTH)]
        boot = station.calls("BootNotification")
        assert len(boot) == 1
        assert boot[0].payload["reason"] == "PowerUp"
        assert boot[0].payload["chargingStation"]["vendorName"] == "ocppd-tests"
        assert boot[0].payload["chargingStation"]["model"] == "sim"
        assert boot[0].payload["chargingStation"]["serialNumber"] == "T-0001"
        statuses = [
            (p["evseId"], p["connectorId"], p["connectorStatus"])
            for p in (r.payload for r in station.calls("StatusNotification"))
        ]
        assert statuses == [(1, 1, "Available"), (2, 1, "Available")]
        assert cp.keys.get_int("HeartbeatInterval") == 60
        await trio.sleep(601)
        beats = station.calls("Heartbeat")
        assert 9 <= len(beats) <= 11
        assert station.calls("BootNotification") == boot  # one boot per process
        status = await cp.status()
        assert status["connection"]["protocol"] == "ocpp2.0.1"
        assert "connected in ocpp2.0.1" in ctl.format_status(status)
        assert csms.violations == []


async def test_offering_both_to_a_16_central_system_speaks_16(
    nursery, start_csms, autojump_clock
) -> None:
    """The central system's choice decides: a 1.6-only one agrees to 1.6 and hears 1.6."""
    csms = await start_csms()
    async with charger201(nursery, csms) as cp:
        station = await cp.registered()
        assert csms.offers == [tuple(BOTH)]
        boot = station.calls("BootNotification")[0].payload
        assert boot["chargePointVendor"] == "ocppd-tests"
        assert "reason" not in boot
        assert {r.payload["connectorId"] for r in station.calls("StatusNotification")} == {0, 1}
        assert (await cp.status())["connection"]["protocol"] == "ocpp1.6"
        assert csms.violations == []


async def test_a_charger_offering_16_alone_is_refused_by_a_201_central_system(
    nursery, start_csms201, autojump_clock
) -> None:
    """Without ``ocpp.versions`` a charger speaks 1.6 only, as before the upgrade: a 2.0.1
    CSMS that speaks nothing else refuses the handshake, and the charger keeps trying."""
    csms = await start_csms201()
    async with charger(nursery, csms) as cp:
        await trio.sleep(30)
        assert csms.connections == []
        assert csms.offers and set(csms.offers) == {("ocpp1.6",)}
        assert (await cp.status())["connection"]["state"] != "connected"
