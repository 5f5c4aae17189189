"""The link to the central system: back-off, re-dial, dead links, refusals, security profiles."""

from __future__ import annotations

import itertools
import random
import ssl
from pathlib import Path

import pytest
import trio
import trustme

from ocppd.testing.csms import NoAnswer
from ocppd.transport.backoff import Backoff
from tests.harness import CP_ID, charger
from tests.netutil import Proxy

# --- back-off ---------------------------------------------------------------------------------


def test_backoff_doubles_its_ceiling_between_floor_and_cap() -> None:
    backoff = Backoff(1.0, 60.0, random.Random(7))
    for n in range(12):
        ceiling = min(60.0, 2.0**n)
        assert backoff.ceiling() == ceiling
        delay = backoff.next_delay()
        assert 1.0 <= delay <= ceiling


def test_backoff_jitter_spreads_a_fleet() -> None:
    delays = [Backoff(1.0, 60.0, random.Random(seed)) for seed in range(200)]
    for b in delays:
        for _ in range(6):
            b.next_delay()
    sixth = sorted(b.next_delay() for b in delays)
    assert sixth[0] < 15 and sixth[-1] > 45, "the 7th waits must spread over [1, 60]"
    assert len({round(d, 3) for d in sixth}) > 190


def test_backoff_reset_starts_from_the_floor() -> None:
    backoff = Backoff(2.0, 30.0, random.Random(1))
    for _ in range(10):
        backoff.next_delay()
    backoff.reset()
    assert backoff.ceiling() == 2.0


def test_backoff_refuses_nonsense() -> None:
    with pytest.raises(ValueError):
        Backoff(5.0, 1.0)


async def test_refused_connections_are_retried_within_the_backoff_bounds(
    nursery, start_csms, autojump_clock
):
    csms = await start_csms()
    proxy = await nursery.start(Proxy(csms.port).serve)
    proxy.refuse = True
    attempts: list[tuple[int, float]] = []  # (failures before this attempt, when)
    async with charger(nursery, csms, url=proxy.url) as cp:
        conn = cp.parts.connection
        while len(attempts) < 9:
            await conn.wait_changed()
            if conn.state == "connecting":
                attempts.append((conn.backoff.failures, trio.current_time()))
        for (_, before), (failures, at) in itertools.pairwise(attempts):
            ceiling = min(30.0, 2.0 ** (failures - 1))  # the wait chosen after failure n-1
            assert 1.0 <= at - before <= ceiling + 0.01, attempts
        assert "handshake" in (conn.last_error or "") or "closed" in (conn.last_error or "")
        proxy.refuse = False
        station = await cp.registered()
        assert station.calls("BootNotification")


# --- staying connected -------------------------------------------------------------------------


async def test_a_reconnect_does_not_boot_again_and_reports_only_changes(
    nursery, start_csms, autojump_clock
):
    csms = await start_csms()
    async with charger(nursery, csms) as cp:
        first = await cp.registered()
        await first.close()
        await cp.sim("plug", 1)  # happens while offline
        second = await cp.station(connection=2)
        change = await second.wait_for("StatusNotification")
        assert change.payload["status"] == "Preparing"
        await trio.sleep(30)
        assert [c.action for c in second.inbox] == ["StatusNotification"]
        assert len(csms.all_calls(CP_ID)) == len(first.inbox) + 1


async def test_a_link_closed_while_our_call_waits_is_redialled(nursery, start_csms, autojump_clock):
    csms = await start_csms(heartbeat_interval=10, overrides={"Heartbeat": lambda *_: NoAnswer()})
    async with charger(nursery, csms) as cp:
        first = await cp.registered()
        await first.wait_for("Heartbeat")  # our Heartbeat now waits for an answer
        await first.close()
        second = await cp.station(connection=2)
        await second.wait_for("Heartbeat")
        assert "closed" in (cp.parts.connection.last_error or "")
        assert cp.parts.connection.last_error.count("closed (") == 1, "one reason, said once"


async def test_a_dead_link_is_found_by_ping_and_redialled(nursery, start_csms, autojump_clock):
    csms = await start_csms()
    proxy = await nursery.start(Proxy(csms.port).serve)
    async with charger(nursery, csms, url=proxy.url, keys={"WebSocketPingInterval": 20}) as cp:
        await cp.registered()
        conn = cp.parts.connection
        proxy.blackhole()
        dead_at = trio.current_time()
        while conn.state == "connected":
            await conn.wait_changed()
        assert trio.current_time() - dead_at <= 2 * 20 + 5 + 1  # + the close handshake limit
        assert "pong" in (conn.last_error or "")
        proxy.restore()
        proxy.cut()
        station = await cp.station(connection=2)
        assert station is not None


async def test_a_central_system_without_the_ocpp16_subprotocol_is_refused(
    nursery, start_csms, autojump_clock
):
    csms = await start_csms(accept_subprotocol=False)
    async with charger(nursery, csms) as cp:
        conn = cp.parts.connection
        while conn.last_error is None:
            await conn.wait_changed()
        assert "subprotocol" in conn.last_error
        assert not any(f.message_type == 2 for _, f in csms.frames), "no OCPP frame may be sent"


async def test_a_frame_over_the_size_limit_closes_the_link_and_it_is_redialled(
    nursery, start_csms, autojump_clock
):
    csms = await start_csms()
    async with charger(nursery, csms, ocpp={"max_frame_bytes": 8192}) as cp:
        station = await cp.registered()
        big = '[2,"x1","DataTransfer",{"vendorId":"big","data":"' + "x" * 10000 + '"}]'
        await station.send_text(big)
        await cp.station(connection=2)
        assert "1009" in (cp.parts.connection.last_error or "")


# --- security profiles -------------------------------------------------------------------------


async def test_profile_1_sends_basic_auth_and_a_wrong_password_is_refused(
    nursery, start_csms, autojump_clock
):
    csms = await start_csms(passwords={CP_ID: "s3cret-password"})
    async with charger(
        nursery, csms, ocpp={"security_profile": 1, "authorization_key": "s3cret-password"}
    ) as cp:
        await cp.registered()
    csms.passwords[CP_ID] = "another-password"
    async with charger(
        nursery, csms, ocpp={"security_profile": 1, "authorization_key": "s3cret-password"}
    ) as cp:
        conn = cp.parts.connection
        while conn.last_error is None:
            await conn.wait_changed()
        assert "401" in conn.last_error
        assert any("bad credentials" in r for r in csms.rejections)


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


def _server_context(ca: trustme.CA, *, client_certs: bool) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    if client_certs:
        context.verify_mode = ssl.CERT_REQUIRED
        ca.configure_trust(context)
    return context


def _write(tmp: Path, name: str, blob: trustme.Blob) -> str:
    path = tmp / name
    blob.write_to_path(str(path))
    return str(path)


async def test_profile_2_verifies_the_server_against_the_configured_ca(
    nursery, start_csms, autojump_clock, ca, tmp_path
):
    csms = await start_csms(
        ssl_context=_server_context(ca, client_certs=False), passwords={CP_ID: "tls-password-1234"}
    )
    assert csms.url.startswith("wss://")
    ca_file = _write(tmp_path, "ca.pem", ca.cert_pem)
    async with charger(
        nursery,
        csms,
        ocpp={"security_profile": 2, "ca_file": ca_file, "authorization_key": "tls-password-1234"},
    ) as cp:
        await cp.registered()


async def test_profile_2_never_connects_to_a_server_of_another_ca(
    nursery, start_csms, autojump_clock, ca, tmp_path
):
    csms = await start_csms(
        ssl_context=_server_context(ca, client_certs=False), passwords={CP_ID: "tls-password-1234"}
    )
    stranger = _write(tmp_path, "other-ca.pem", trustme.CA().cert_pem)
    async with charger(
        nursery,
        csms,
        ocpp={"security_profile": 2, "ca_file": stranger, "authorization_key": "tls-password-1234"},
    ) as cp:
        conn = cp.parts.connection
        errors: set[str] = set()
        with trio.move_on_after(200):  # several attempts, none may get through
            while True:
                await conn.wait_changed()
                if conn.last_error:
                    errors.add(conn.last_error)
        assert conn.connects == 0
        assert not csms.stations
        assert any("certificate" in e for e in errors), errors


async def test_profile_3_presents_a_client_certificate(
    nursery, start_csms, autojump_clock, ca, tmp_path
):
    csms = await start_csms(ssl_context=_server_context(ca, client_certs=True))
    client = ca.issue_cert(CP_ID)
    files = {
        "ca_file": _write(tmp_path, "ca.pem", ca.cert_pem),
        "cert_file": _write(tmp_path, "client.pem", client.cert_chain_pems[0]),
        "key_file": _write(tmp_path, "client.key", client.private_key_pem),
    }
    async with charger(nursery, csms, ocpp={"security_profile": 3, **files}) as cp:
        await cp.registered()
    # the same server refuses a charge point without a certificate
    async with charger(
        nursery,
        csms,
        ocpp={
            "security_profile": 2,
            "ca_file": files["ca_file"],
            "authorization_key": "unused-password-1",
        },
    ) as cp:
        conn = cp.parts.connection
        while conn.last_error is None:
            await conn.wait_changed()
        assert conn.connects == 0 or cp.parts.features.conversation.registration is None


async def test_a_link_failure_during_a_stop_does_not_escape_the_supervisor(
    nursery, start_csms, autojump_clock
):
    """The conversation fails at the very moment the daemon is being stopped: only the
    cancellation may leave the supervisor, never the failure (it would end the daemon with a
    traceback instead of an orderly stop)."""
    from ocppd.connection import Connection
    from ocppd.protocol.ids import MessageIds
    from ocppd.session import SessionClosed
    from ocppd.transport.link import LinkTarget

    csms = await start_csms()

    async def failing_conversation(session) -> None:
        await trio.sleep(5)
        with trio.CancelScope(shield=True):  # e.g. a stop being journaled
            await trio.sleep(1)  # meanwhile the daemon is told to stop
        raise SessionClosed("the link went away")

    async def no_calls(call) -> None:
        raise AssertionError("no calls expected")

    connection = Connection(
        target=lambda: LinkTarget(url=csms.url + "/" + CP_ID, charge_point_id=CP_ID),
        ids=MessageIds(),
        supported=frozenset,
        handler=no_calls,
        conversation=failing_conversation,
        backoff=Backoff(1, 2),
        call_timeout=5,
    )
    with trio.CancelScope() as scope:
        scope.deadline = trio.current_time() + 5.5  # the stop lands while it fails
        await connection.run()
    assert scope.cancelled_caught
